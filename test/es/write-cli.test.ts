// es-write as a program: real child processes and real shell pipes (es-read | es-write) against
// ES test servers in this process; documents checked on the server side, byte for byte.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { generateDocs } from '../servers/es/seed.js'
import { binPath, collect, scrapeMetrics, runShell, runTool, scratchDir } from '../helpers/run.js'

declare namespace Tap { type Test = typeof t }

const dir = scratchDir(t)
const N = 10_000

/** The same documents held by both indices, byte for byte. */
function sameDocuments (t: Test, from: Map<string, string>, to: Map<string, string>, what: string): void {
  t.equal(to.size, from.size, `${what}: ${from.size} documents`)
  let same = 0
  for (const [id, src] of from) if (to.get(id) === src) same++
  t.equal(same, from.size, `${what}: every id with the same _source bytes`)
}

async function until (what: string, check: () => boolean, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`gave up waiting for ${what}`)
}

let server: EsTestServer
t.before(async () => {
  server = await startEsServer()
  server.addDocs('src', generateDocs(N))
  // Documents Elasticsearch keeps but JSON.parse would change, written as text with routing.
  const exact = [
    '{"index":{"_index":"src","_id":"exact-1","routing":"r1"}}', '{"big":9223372036854775807,"tiny":1e-7,"zero":-0,"e":"é\\u2028\\"\\\\","d":0.30000000000000004441}',
    '{"index":{"_index":"src","_id":"exact-2"}}', '{"big":9007199254740993,"list":[1.0,2.50]}'
  ]
  const res = await fetch(`${server.url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: exact.join('\n') + '\n' })
  if (((await res.json()) as { errors: boolean }).errors) throw new Error('seeding refused')
})
t.teardown(async () => await server.close())
t.afterEach(() => { server.faults.reset() })

t.test('es-read | es-write into another index of the same server: the same ids and _source bytes', async (t) => {
  const r = await runShell(`es-read --url ${server.url} --index src --size 2000 | es-write --url ${server.url} --index copy --create-index --refresh`)
  t.equal(r.code, 0, r.stderr)
  sameDocuments(t, server.storedSources('src'), server.storedSources('copy'), 'copy')
  t.match(r.stderr, new RegExp(`es-write: ${N + 2} read, ${N + 2} created, 0 updated, 0 deleted, 0 skipped, 0 failed, 0 retries in`))
  t.equal(server.storedSource('copy', 'exact-1'), '{"big":9223372036854775807,"tiny":1e-7,"zero":-0,"e":"é\\u2028\\"\\\\","d":0.30000000000000004441}')
  const doc = await (await fetch(`${server.url}/copy/_doc/exact-1`)).json() as { _routing?: string }
  t.equal(doc._routing, 'r1', 'routing kept')
})

t.test('es-read from one server | es-write to a second: the same ids and bytes, and rerunning changes nothing', async (t) => {
  const other = await startEsServer()
  t.teardown(async () => await other.close())
  const cmd = `es-read --url ${server.url} --index src | es-write --url ${other.url} --batch-size 700 -c 4`
  const r = await runShell(cmd)
  t.equal(r.code, 0, r.stderr)
  sameDocuments(t, server.storedSources('src'), other.storedSources('src'), 'second server')
  const again = await runShell(cmd)
  t.equal(again.code, 0)
  t.match(again.stderr, new RegExp(`^es-write: ${N + 2} read, 0 created, ${N + 2} updated, `, 'm'))
  sameDocuments(t, server.storedSources('src'), other.storedSources('src'), 'after the rerun')
})

t.test('kill -9 in the middle, then the same command again: the exact set, once each', async (t) => {
  const file = join(dir, 'kill.ndjson')
  const lines = generateDocs(12_000).map((d) => JSON.stringify({ _id: d._id, _source: d._source }))
  writeFileSync(file, lines.join('\n') + '\n')
  for (const op of ['index', 'create']) {
    const index = `killed-${op}`
    server.faults.latencyMs = 60
    const child = spawn(process.execPath, [binPath('es-write'), '--url', server.url, '--index', index, '--op', op, '--batch-size', '300', file])
    const done = collect(child, null)
    await until('a few batches', () => server.storedSources(index).size >= 1200)
    child.kill('SIGKILL')
    const first = await done
    t.equal(first.signal, 'SIGKILL')
    const before = server.storedSources(index).size
    t.ok(before > 0 && before < 12_000, `${op}: ${before} documents when killed`)
    server.faults.latencyMs = 0
    const second = await runTool('es-write', ['--url', server.url, '--index', index, '--op', op, file])
    t.equal(second.code, 0, second.stderr)
    const stored = server.storedSources(index)
    t.equal(stored.size, 12_000, `${op}: exactly 12000 documents`)
    t.equal(lines.filter((l) => stored.get(JSON.parse(l)._id as string) === l.slice(l.indexOf('"_source":') + 10, -1)).length, 12_000, `${op}: each as its record`)
    if (op === 'create') t.match(second.stderr, new RegExp(`^es-write: 12000 read, ${12_000 - before} created, 0 updated, 0 deleted, ${before} skipped \\(exists\\), `, 'm'))
  }
})

t.test('injected 429s on a share of items through the binary: every id once, exit 0', async (t) => {
  server.faults.rejectBulkItems(0.2, { seed: 3 })
  const r = await runShell(`es-read --url ${server.url} --index src | es-write --url ${server.url} --index refused --retry-max-wait 200ms`)
  t.equal(r.code, 0, r.stderr)
  sameDocuments(t, server.storedSources('src'), server.storedSources('refused'), 'refused items sent again')
  t.match(r.stderr, /records refused by .* \(429 es_rejected_execution_exception\); sending them again/)
  t.match(r.stderr, new RegExp(`^es-write: ${N + 2} read, ${N + 2} created, 0 updated, 0 deleted, 0 skipped, 0 failed, [1-9]\\d* retries`, 'm'))
})

t.test('SIGTERM in the middle: the records read are written and answered, exit 143', async (t) => {
  server.faults.latencyMs = 100
  const child = spawn(process.execPath, [binPath('es-write'), '--url', server.url, '--index', 'term', '--batch-size', '300', '--log-format', 'json'])
  const done = collect(child, null)
  // A whole pipe interrupted: upstream has flushed its last records, and es-write reads on to
  // their end (for up to 2 s) so that none is lost between the two.
  child.stdin?.end(generateDocs(6000).map((d) => JSON.stringify({ _id: d._id, _source: d._source })).join('\n') + '\n')
  await until('some batches', () => server.storedSources('term').size >= 900)
  child.kill('SIGTERM')
  const r = await done
  t.equal(r.code, 143)
  const summary = JSON.parse(r.stderr.split('\n').find((l) => l.includes('"event":"summary"')) ?? '{}') as { counts: Record<string, number>, message: string }
  t.match(summary.message, /interrupted by SIGTERM/)
  t.hasStrict(summary.counts, { read: 6000, created: 6000, failed: 0 })
  t.equal(server.storedSources('term').size, 6000, 'the summary counts what the server holds')
})

t.test('records that trickle in (tail -f) reach the server after --flush-interval, not at the end of input', async (t) => {
  const child = spawn(process.execPath, [binPath('es-write'), '--url', server.url, '--index', 'trickle', '--flush-interval', '200ms'])
  const done = collect(child, null)
  child.stdin?.write('{"_id":"t1","_source":{"a":1}}\n{"_id":"t2","_source":{"a":2}}\n')
  await until('the partial batch', () => server.storedSources('trickle').size === 2)
  t.equal(child.exitCode, null, 'es-write still running, its input still open')
  child.stdin?.end('{"_id":"t3","_source":{"a":3}}\n')
  t.equal((await done).code, 0)
  t.equal(server.storedSources('trickle').size, 3)
})

t.test('--metrics-port and --progress: records by outcome, request latency and retries while it runs', async (t) => {
  server.faults.latencyMs = 150
  server.faults.rejectBulkItems(0.1, { seed: 9 })
  const child = spawn(process.execPath, [binPath('es-write'), '--url', server.url, '--index', 'metrics', '--batch-size', '200', '--retry-max-wait', '100ms', '--progress', '--metrics-port', '127.0.0.1:0'], { stdio: 'pipe' })
  const done = collect(child, null)
  child.stdin.end(generateDocs(3000).map((d) => JSON.stringify({ _id: d._id, _source: d._source })).join('\n') + '\n')
  const body = await scrapeMetrics(child, /espipe_retries_total\{tool="es-write"\} [1-9]/)
  t.match(body, /espipe_retries_total\{tool="es-write"\} [1-9]/, 'refused records sent again, counted')
  t.match(body, /espipe_batch_duration_seconds_count\{tool="es-write"\} [1-9]/, 'request latency observed')
  t.match(body, /espipe_records\{outcome="created",tool="es-write"\} \d+/)
  const r = await done
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /es-write: \d+ read, \d+ created, .* in \d+\.\d s/, 'progress lines')
  t.equal(server.storedSources('metrics').size, 3000)
})

t.test('--op update and upsert warn once per run that the engine rewrites the whole document; index and delete do not', async (t) => {
  const records = ['{"_id":"p1","_source":{"n":1.0,"z":-0}}', '{"_id":"p2","_source":{"n":2}}', '{"_id":"p3","_source":{"n":3}}', ''].join('\n')
  const seeded = await runTool('es-write', ['--url', server.url, '--index', 'partial'], { input: records })
  t.equal(seeded.code, 0, seeded.stderr)
  t.notMatch(seeded.stderr, /partial update/, '--op index: no warning')
  for (const op of ['update', 'upsert']) {
    const r = await runTool('es-write', ['--url', server.url, '--index', 'partial', '--op', op], { input: records.replace(/"n":/g, '"m":') })
    t.equal(r.code, 0, r.stderr)
    t.strictSame(r.stderr.split('\n').filter((l) => l.includes('partial update')), [
      `es-write: warning: --op ${op} is a partial update: the engine merges each record into the document it holds and writes the whole _source again in its own JSON, so values in any field, named in the record or not, may change form (1e400 becomes "Infinity", -0 0, 1.5e3 1500.0, digits past a double's are lost, \\u escapes are decoded); --op index stores each document as the bytes of its line (es-write(1), PARTIAL UPDATES)`
    ], `--op ${op}: one warning for three records`)
  }
  const none = await runTool('es-write', ['--url', server.url, '--index', 'partial', '--op', 'update'], { input: '' })
  t.equal(none.code, 0, none.stderr)
  t.notMatch(none.stderr, /partial update/, 'nothing to update: no warning')
  const del = await runTool('es-write', ['--url', server.url, '--index', 'partial', '--op', 'delete'], { input: records })
  t.equal(del.code, 0, del.stderr)
  t.notMatch(del.stderr, /partial update/, '--op delete: no warning')
})
