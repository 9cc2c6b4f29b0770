// es-write as a program: real child processes and real shell pipes (es-read | es-write) against
// ES test servers in this process; documents checked on the server side, byte for byte.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { generateDocs } from '../servers/es/seed.js'
import { binPath, collect, runShell, runTool, scratchDir } from '../helpers/run.js'

declare namespace Tap { type Test = typeof t }

const dir = scratchDir(t)
const N = 20_000

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
  t.match(again.stderr, new RegExp(`${N + 2} read, 0 created, ${N + 2} updated`))
  sameDocuments(t, server.storedSources('src'), other.storedSources('src'), 'after the rerun')
})

t.test('kill -9 in the middle, then the same command again: the exact set, once each', async (t) => {
  const file = join(dir, 'kill.ndjson')
  const lines = generateDocs(30_000).map((d) => JSON.stringify({ _id: d._id, _source: d._source }))
  writeFileSync(file, lines.join('\n') + '\n')
  for (const op of ['index', 'create']) {
    const index = `killed-${op}`
    server.faults.latencyMs = 40
    const child = spawn(process.execPath, [binPath('es-write'), '--url', server.url, '--index', index, '--op', op, '--batch-size', '500', file])
    const done = collect(child, null)
    await until('a few batches', () => server.storedSources(index).size >= 2000)
    child.kill('SIGKILL')
    const first = await done
    t.equal(first.signal, 'SIGKILL')
    const before = server.storedSources(index).size
    t.ok(before > 0 && before < 30_000, `${op}: ${before} documents when killed`)
    server.faults.latencyMs = 0
    const second = await runTool('es-write', ['--url', server.url, '--index', index, '--op', op, file])
    t.equal(second.code, 0, second.stderr)
    const stored = server.storedSources(index)
    t.equal(stored.size, 30_000, `${op}: exactly 30000 documents`)
    t.equal(lines.filter((l) => stored.get(JSON.parse(l)._id as string) === l.slice(l.indexOf('"_source":') + 10, -1)).length, 30_000, `${op}: each as its record`)
    if (op === 'create') t.match(second.stderr, new RegExp(`30000 read, ${30_000 - before} created, 0 updated, 0 deleted, ${before} skipped \\(exists\\)`))
  }
})

t.test('injected 429s on a share of items through the binary: every id once, exit 0', async (t) => {
  server.faults.rejectBulkItems(0.2, { seed: 3 })
  const r = await runShell(`es-read --url ${server.url} --index src | es-write --url ${server.url} --index refused --retry-max-wait 200ms`)
  t.equal(r.code, 0, r.stderr)
  sameDocuments(t, server.storedSources('src'), server.storedSources('refused'), 'refused items sent again')
  t.match(r.stderr, /records refused by .* \(429 es_rejected_execution_exception\); sending them again/)
  t.match(r.stderr, new RegExp(`${N + 2} created, 0 updated, 0 deleted, 0 skipped, 0 failed, [1-9]\\d* retries`))
})

t.test('a mapping conflict: that record in the dead-letter file with the reason, the rest indexed, exit 1', async (t) => {
  const input = join(dir, 'conflict.ndjson')
  const errors = join(dir, 'conflict-errors.ndjson')
  writeFileSync(input, ['{"_id":"1","_source":{"n":1}}', '{"_id":"2","_source":{"n":"two","big":9007199254740993}}', '{"_id":"3","_source":{"n":3}}', ''].join('\n'))
  const r = await runTool('es-write', ['--url', server.url, '--index', 'conflict', '--errors', errors, input])
  t.equal(r.code, 1)
  t.match(r.stderr, /es-write: 3 read, 2 created, 0 updated, 0 deleted, 0 skipped, 1 failed, 0 retries in .* — failed records in .*conflict-errors\.ndjson/)
  const dead = readFileSync(errors, 'utf8')
  t.match(dead, /^\{"record":\{"_id":"2","_source":\{"n":"two","big":9007199254740993\}\},"line":2,"error":\{"code":"document_parsing_exception","message":"\[1:\d+\] failed to parse field \[n\] of type \[long\] in document with id '2'/)
  t.equal(server.storedSources('conflict').size, 2)
  const explained = await runTool('explain-errors', [errors])
  t.match(explained.stdout, /A value does not fit its field in the Elasticsearch mapping \[1 record, document_parsing_exception\]\n\s+Elasticsearch refused documents whose field 'n' does not fit its mapping \(type long\) in index conflict\./)
  t.match(explained.stdout, /\$ curl -u USER 'http:\/\/127\.0\.0\.1:\d+\/conflict\/_mapping\/field\/n\?pretty'/)
  // Fixed and replayed, as the man page says.
  const replay = await runShell(`jq -c '.record | ._source.n = 2' ${errors} | es-write --url ${server.url} --index conflict`)
  t.equal(replay.code, 0, replay.stderr)
  t.equal(server.storedSources('conflict').size, 3)
})

t.test('usage errors: exit 2, one line, a pointer to --help', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--op', 'merge'], /^es-write: invalid value for --op: 'merge' \(choose index, create, update, upsert, delete\) \(see 'es-write --help'\)$/],
    [['--batch-bytes', '5xb'], /^es-write: invalid value for --batch-bytes: '5xb'/],
    [['--batch-size', 'many'], /^es-write: invalid value for --batch-size: 'many' is not a whole number/],
    [['--bogus'], /^es-write: unknown option --bogus/],
    [['--create-index'], /^es-write: --create-index needs --index/],
    [['--index', 'x', '--create-index', '--mappings', join(dir, 'nope.json')], /^es-write: error \[ENOENT\] cannot read --mappings/],
    [['--flush-interval', 'soon'], /^es-write: invalid value for --flush-interval: 'soon'/],
    [['--timeout', '0'], /^es-write: invalid value for --timeout: '0' \(more than 0\)/]
  ]
  for (const [args, line] of cases) {
    const r = await runTool('es-write', ['--url', server.url, ...args], { input: '' })
    const l = r.stderr.trim().split('\n').filter((x) => !/^es-write: 0 read/.test(x))
    t.equal(l.length, 1, `${args.join(' ')}: one line (and for a fatal error, the summary)`)
    t.match(l[0], line)
    t.equal(r.code, line.source.includes('ENOENT') ? 1 : 2, `${args.join(' ')}: exit status`)
  }
  const help = await runTool('es-write', ['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage\n\s+\$ es-write \[--index NAME\] \[options\] \[FILE\.\.\.\]/)
  t.match(help.stdout, /Examples\n\s+\$ es-read --index logs \| es-write --index logs-copy --create-index/)
})

t.test('a server that is not there or refuses the password: exit 1 at once, without waiting for input', async (t) => {
  const locked = await startEsServer({ auth: { basic: { username: 'elastic', password: 'hunter2-secret' } } })
  t.teardown(async () => await locked.close())
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['--url', 'http://127.0.0.1:9'], {}, /^es-write: error \[ECONNREFUSED\] cannot connect at http:\/\/127\.0\.0\.1:9: connection refused/],
    [['--url', locked.url, '--username', 'elastic'], { ES_PASSWORD: 'wrong-secret' }, /^es-write: error \[security_exception\] authentication failed at/]
  ]
  for (const [args, env, line] of cases) {
    // stdin stays open: es-write must not read it before the server answered.
    const r = await collect(spawn(process.execPath, [binPath('es-write'), ...args], { env: { ...process.env, ...env } }), null)
    t.equal(r.code, 1)
    t.match(r.stderr.split('\n')[0], line)
    t.notMatch(r.stderr, /wrong-secret|hunter2|\n\s+at /, 'no secret, no stack trace')
  }
  const ok = await runTool('es-write', ['--es_url', `${locked.url}/aliased/_search`, '--es_user', 'elastic', '--es_pass', 'hunter2-secret', '--batch_size', '10', '--threads', '2'], { input: '{"_id":"a","_source":{"x":1}}\n' })
  t.equal(ok.code, 0, ok.stderr)
  t.equal(locked.storedSource('aliased', 'a'), '{"x":1}', "the original tool's options")
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
  t.match(summary.counts, { read: 6000, created: 6000, failed: 0 })
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

t.test('--simple-errors: a failed run explains itself at exit', async (t) => {
  const r = await runTool('es-write', ['--url', server.url, '--index', 'explained', '--op', 'update', '--simple-errors'], { input: '{"_id":"nope","_source":{"a":1}}\n' })
  t.equal(r.code, 1)
  t.match(r.stderr, /An update found no document to update \[es-write, 1 record, document_missing_exception\]/)
  t.match(r.stderr, /es-write --op upsert creates what is missing/)
})

t.test('--log-format json: start, summary with counts, record errors with code and context', async (t) => {
  const r = await runTool('es-write', ['--url', server.url, '--index', 'json', '--log-format', 'json', '--op', 'update'], { input: '{"_id":"missing","_source":{"a":1}}\n{"_source":{"a":2}}\n' })
  t.equal(r.code, 1)
  const events = r.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { event: string, code?: string, context?: Record<string, unknown>, counts?: Record<string, number> })
  t.same(events.map((e) => e.event), ['start', 'record-error', 'record-error', 'summary'])
  t.match(events[1], { code: 'RECORD_MISSING_ID', context: { line: 2 } })
  t.match(events[2], { code: 'document_missing_exception', context: { index: 'json', _id: 'missing', line: 1 } })
  t.match(events[3]?.counts, { read: 2, updated: 0, failed: 2 })
})
