// The same warning again and again (each batch's retry through one connection cut) is said
// once, then once more with its count: "… — 40 times in 8.0 s", never 40 lines.
import t from 'tap'
import { Writable } from 'node:stream'
import { Logger } from '../../lib/core/events.js'
import { Stats } from '../../lib/core/stats.js'
import { startEsServer } from '../servers/es/server.js'
import { lines, runTool } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'

function logger (format: 'text' | 'json' = 'text'): { log: Logger, out: () => string[] } {
  let text = ''
  const stream = new Writable({ write (c: Buffer, _e, done) { text += c.toString(); done() } })
  return { log: new Logger({ tool: 't', format, stream, progress: false }), out: () => lines(text) }
}

t.test('repeats of a warning, numbers aside, are counted and said once with the count', async (t) => {
  const { log, out } = logger()
  for (let i = 1; i <= 5; i++) log.warn(`connection lost; sending the batch of ${100 * i} again in 0.${i} s (retry ${i}/6)`)
  t.strictSame(out(), ['t: warning: connection lost; sending the batch of 100 again in 0.1 s (retry 1/6)'], 'the first at once, the others held')
  log.warn('another warning')
  const said = out()
  t.equal(said.length, 3)
  t.match(said[1], /^t: warning: connection lost; sending the batch of 500 again in 0\.5 s \(retry 5\/6\) — 5 times in \d+\.\d s$/, 'the last one, with the count, before the next line')
  t.equal(said[2], 't: warning: another warning')
  log.info('an info line')
  t.equal(out().length, 4, 'a warning said once is not said again')
})

t.test('the count is said before the summary, and in JSON with its numbers', async (t) => {
  const { log, out } = logger('json')
  for (let i = 0; i < 3; i++) log.warn(`retry ${i + 1}/6 in 0.1 s`)
  log.summary(new Stats(['read']))
  const events = out().map((l) => JSON.parse(l) as { event: string, message: string, repeated?: number, seconds?: number })
  t.strictSame(events.map((e) => [e.event, e.message.replace(/times in \d+\.\d s$/, 'times in T s')]), [['info', 'retry 1/6 in 0.1 s'], ['info', 'retry 3/6 in 0.1 s — 3 times in T s'], ['summary', '0 read, 0 failed in 0.0 s (0/s)']])
  t.equal(events[1].repeated, 3)
  t.equal(typeof events[1].seconds, 'number')
})

t.test('different words are different warnings', async (t) => {
  const { log, out } = logger()
  log.warn('column a is a FLOAT')
  log.warn('column b is a FLOAT')
  log.warn('column b is a FLOAT')
  log.summary(new Stats(['read']))
  t.strictSame(out().slice(0, 3), ['t: warning: column a is a FLOAT', 't: warning: column b is a FLOAT', 't: warning: column b is a FLOAT — 2 times in 0.0 s'])
})

t.test('es-write: 40 batches refused with 503 give two warning lines, not 40', async (t) => {
  const es = await startEsServer()
  t.teardown(async () => await es.close())
  es.faults.failNth(1, 503, { path: /_bulk/, times: 40 })
  const input = Array.from({ length: 2000 }, (_v, i) => `{"_id":"${i}","_source":{"n":${i}}}`).join('\n') + '\n'
  const r = await runTool('es-write', ['--url', es.url, '--index', 'docs', '--batch-size', '100', '-c', '4', '--retries', '20', '--retry-max-wait', '50ms'], { input })
  t.equal(r.code, 0, r.stderr)
  t.equal(countsOf(r.stderr, 'es-write'), '2000 read, 2000 created, 0 updated, 0 deleted, 0 skipped, 0 failed, 40 retries')
  const warnings = lines(r.stderr).filter((l) => l.startsWith('es-write: warning: '))
  t.equal(warnings.length, 2, r.stderr)
  t.match(warnings[0], /503 unavailable_shards_exception.*sending the batch of 100 again in \d+\.\d s \(retry 1\/20\)$/)
  t.match(warnings[1], /503 unavailable_shards_exception.*sending the batch of 100 again in \d+\.\d s \(retry \d+\/20\) — 40 times in \d+\.\d s$/)
  t.equal(es.storedSources('docs').size, 2000)
})
