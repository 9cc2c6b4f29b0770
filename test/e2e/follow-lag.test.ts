// Issue 24: how far behind a followed read is shows on the progress line and on --metrics-port:
// the age of the last record handed on (now minus its since value) and the records per round.
import t from 'tap'
import { spawn } from 'node:child_process'
import { startEsServer } from '../servers/es/server.js'
import { binPath, collect, scrapeMetrics } from '../helpers/run.js'
import { waitFor } from '../helpers/wait.js'

t.test('es-read --follow --progress --metrics-port: lag and records per round', async (t) => {
  const es = await startEsServer()
  t.teardown(async () => { await es.close() })
  await fetch(`${es.url}/lagged`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mappings: { properties: { at: { type: 'date' } } } }) })
  // Stamped ten minutes ago: the lag is at least that, whatever the machine's speed.
  const stamped = new Date(Date.now() - 600_000).toISOString()
  const lines = ['a', 'b', 'c'].flatMap((id) => [JSON.stringify({ index: { _index: 'lagged', _id: id } }), `{"at":"${stamped}"}`])
  await fetch(`${es.url}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') + '\n' })
  const child = spawn(process.execPath, [binPath('es-read'), '--url', es.url, '--index', 'lagged', '--since-field', 'at', '--follow', '--interval', '200ms', '--progress', '--metrics-port', '127.0.0.1:0'], { stdio: 'pipe' })
  const done = collect(child, null)
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const body = await scrapeMetrics(child, /espipe_rounds\{field="at",tool="es-read"\} [2-9]/)
  t.match(body, /espipe_rounds\{field="at",tool="es-read"\} [2-9]/, 'rounds counted')
  const lag = Number(/espipe_lag_seconds\{field="at",tool="es-read"\} ([\d.e+]+)/.exec(body)?.[1])
  t.ok(lag >= 600 && lag < 3600, `the lag is the age of the last record (${lag} s)`)
  // The first round read the three; the rounds since, nothing.
  t.match(body, /espipe_round_records\{field="at",tool="es-read"\} 0\n/, 'the last round read nothing new')
  await waitFor(() => /; lag 6\d\d\.\d s, 0 records in round \d+/.test(stderr), { what: 'a progress line with the lag', child })
  t.pass('the progress line shows the lag and the records of the last round')
  child.kill('SIGTERM')
  const r = await done
  t.equal(r.code, 143, 'SIGTERM: 143')
  t.equal(r.stdout.split('\n').filter((l) => l !== '').length, 3, 'the three records, once')
})
