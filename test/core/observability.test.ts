import t from 'tap'
import { spawn } from 'node:child_process'
import { startEsServer } from '../servers/es/server.js'
import { generateDocs } from '../servers/es/seed.js'
import { binPath, collect, scrapeMetrics } from '../helpers/run.js'

t.test('es-read: progress shows percent and ETA from _count; metrics count pages, retries and latency', async (t) => {
  const es = await startEsServer()
  t.teardown(async () => { await es.close() })
  es.addDocs('logs', generateDocs(3000))
  es.faults.latencyMs = 150
  es.faults.failNth(3, 429, { path: /_search/ })
  const child = spawn(process.execPath, [binPath('es-read'), '--url', es.url, '--index', 'logs', '--size', '200', '--progress', '--metrics-port', '127.0.0.1:0'], { stdio: 'pipe' })
  const done = collect(child, null)
  // Scrape while pages are still being fetched (each takes 150 ms): counters move as it goes.
  const body = await scrapeMetrics(child, /espipe_retries_total\{tool="es-read"\} 1/)
  t.match(body, /espipe_retries_total\{tool="es-read"\} 1/, 'the 429 was retried and counted')
  t.match(body, /espipe_batch_duration_seconds_count\{tool="es-read"\} [1-9]/, 'page latency observed')
  t.match(body, /espipe_records\{outcome="emitted",tool="es-read"\} \d+/)
  const r = await done
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /es-read: \d+ read, \d+ emitted, .* \d+(\.\d)?% of 3000, ETA \d+ s/, 'a progress line with the total from _count')
  t.match(r.stderr, /es-read: 3000 read, 3000 emitted, 16 pages, 1 retry, 0 failed/)
})
