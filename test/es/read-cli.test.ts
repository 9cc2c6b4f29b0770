// es-read as a program: real child processes, real shell pipes, the ES test server in this process.
import t from 'tap'
import type { Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { ROOT, binPath, collect, lines, runShell } from '../helpers/run.js'
import { settled, waitFor, waitForOutput } from '../helpers/wait.js'

const BIN = binPath('es-read')
const N = 20_000

interface Result { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

// Never spawnSync while the server runs: it lives in this process and would stop answering.
function run (args: string[], env: Record<string, string> = {}, command = process.execPath): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(command, command === process.execPath ? [BIN, ...args] : args, { env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

const idOf = (line: string): string => (JSON.parse(line) as { _id: string })._id

/** `n` documents of `index`, none twice, each line the hit with the _source bytes the server stores. */
/**
 * A checkpointed read into a pipe puts each record's position last in it (`_pos`, for a writer
 * given the same checkpoint): the lines without it, each checked to carry one.
 */
function withoutPositions (t: Test, got: string[]): string[] {
  const bare = got.map((l) => l.replace(/,"_pos":"\d+:\d+:\[[^"\]]*\]"\}$/, '}'))
  t.equal(bare.filter((l, i) => l === got[i]).length, 0, 'every line carries its position')
  return bare
}

function expectAll (t: Test, got: string[], n = N, index = 'docs'): void {
  t.equal(got.length, n, `${n} documents`)
  t.equal(new Set(got.map(idOf)).size, got.length, 'no document twice')
  const wrong = got.filter((l) => l !== `{"_index":"${index}","_id":"${idOf(l)}","_source":${server.storedSource(index, idOf(l)) ?? '<none>'}}`)
  t.strictSame(wrong.slice(0, 3), [], 'every line the stored document, byte for byte')
}
declare namespace Tap { type Test = typeof t }

const searches = (server: EsTestServer, from: number): number => server.requests.slice(from).filter((r) => r.path === '/_search').length
/** Lines of a run's output so far. */
const lineCount = (text: string): number => text.split('\n').length - 1

let server: EsTestServer
let dir: string
t.before(async () => {
  server = await startEsServer()
  server.addDocs('docs', Array.from({ length: N }, (_v, i) => ({ _id: `d${i}`, _source: { n: i, text: `document number ${i}` } })))
  dir = mkdtempSync(join(tmpdir(), 'es-read-'))
})
t.teardown(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})
t.afterEach(() => { server.faults.reset() })

t.test('reads the whole index to stdout, the summary to stderr', async (t) => {
  const r = await run(['--url', server.url, '--index', 'docs', '--slices', '2'])
  t.equal(r.code, 0)
  expectAll(t, lines(r.stdout))
  t.match(r.stderr, new RegExp(`es-read: ${N} read, ${N} emitted, \\d+ pages, 0 retries, 0 failed in`))
  t.equal(server.openPits(), 0, 'PIT closed')
})

t.test('the original tool\'s options still work', async (t) => {
  const r = await run(['--es_url', `${server.url}/docs/_search`, '--batch_size', '5000', '--limit', '12000'])
  t.equal(r.code, 0, r.stderr)
  expectAll(t, lines(r.stdout), 12_000)
})

t.test('es-read | head -1: exit 0, no stack trace, PIT closed, reading stops', async (t) => {
  const before = server.requests.length
  const r = await run(['-c', `node ${BIN} --url ${server.url} --index docs --size 500 | head -1; echo "status=\${PIPESTATUS[0]}" >&2`], {}, 'bash')
  t.equal(r.stdout.split('\n').filter((l) => l !== '').length, 1, 'one line')
  t.match(r.stderr, /status=0/, 'es-read exits 0')
  t.notMatch(r.stderr, /EPIPE|\n\s+at /, 'no stack trace')
  t.equal(server.openPits(), 0, 'PIT closed')
  t.ok(searches(server, before) < 10, `stopped after ${searches(server, before)} of 41 pages`)
  t.ok(server.requests.slice(before).some((q) => q.method === 'DELETE' && q.path === '/_pit'), 'DELETE /_pit sent')
})

t.test('SIGTERM mid-read: what was read is flushed, PIT closed, exit 143', async (t) => {
  server.faults.latencyMs = 30
  const child = spawn(process.execPath, [BIN, '--url', server.url, '--index', 'docs', '--size', '200'])
  const done = collect(child, null)
  // Mid-read: two pages are out (each page waits 30 ms for its answer; there are 100).
  await waitForOutput(child.stdout, (text) => lineCount(text) >= 400, { what: 'two pages on stdout' })
  child.kill('SIGTERM')
  const r = await done
  t.equal(r.code, 143)
  const got = lines(r.stdout)
  t.ok(got.length >= 400 && got.length < N, `stopped after ${got.length}`)
  expectAll(t, got, got.length)
  t.ok(r.stdout.endsWith('\n'), 'no line cut short')
  t.match(r.stderr, /^es-read: \d+ read, \d+ emitted, .* — interrupted by SIGTERM$/m)
  t.equal(server.openPits(), 0, 'PIT closed')
})

t.test('a consumer that stops reading holds es-read at a bounded number of pages; reading, it gets them all', async (t) => {
  // Pages of ~100 KB, so the byte buffers on the way (pipe, stdout, NDJSON framing: a few
  // hundred KB together) hold few pages and the count shows es-read's own restraint.
  const text = 'x'.repeat(2000)
  server.addDocs('big', Array.from({ length: 3000 }, (_v, i) => ({ _id: `b${i}`, _source: { n: i, text } })))
  for (const slices of [1, 3]) {
    const before = server.requests.length
    const child = spawn(process.execPath, [BIN, '--url', server.url, '--index', 'big', '--size', '50', '--slices', String(slices)])
    child.stdout.pause()
    const bound = 8 + slices
    // es-read got going (the first page of each slice and more, to fill the pipe), then rests.
    const pipeFull = slices + 2
    await waitFor(() => searches(server, before) >= pipeFull, { what: `${pipeFull} pages asked for`, child })
    const held = await settled(() => searches(server, before), { what: 'the pages es-read asks for', quietMs: 400 })
    t.ok(held <= bound, `--slices ${slices}: ${held} of ${60 + slices} pages requested while nobody reads (bound ${bound})`)
    // The control: the same process, read, asks for every page, well past the bound.
    const done = collect(child, null)
    child.stdout.resume()
    const r = await done
    t.equal(r.code, 0, r.stderr)
    expectAll(t, lines(r.stdout), 3000, 'big')
    t.ok(searches(server, before) >= 60 + slices, `read on: ${searches(server, before)} pages`)
  }
})

t.test('--slice I/N in separate processes: the union is the index, each id once', async (t) => {
  const parts = await Promise.all([0, 1, 2].map(async (i) => await run(['--url', server.url, '--index', 'docs', '--slice', `${i}/3`, '--size', '1000'])))
  for (const p of parts) t.equal(p.code, 0)
  expectAll(t, parts.flatMap((p) => lines(p.stdout)))
  t.equal(server.openPits(), 0)
})

t.test('injected 429, 503 and mid-body resets: every id once, exit 0', async (t) => {
  server.faults.failNth(3, 429, { path: /^\/_search$/, times: 2 })
  server.faults.failNth(7, 503, { path: /^\/_search$/ })
  server.faults.resetNth(9, { path: /^\/_search$/, midBody: true })
  server.faults.shardFailureNth(12, { path: /^\/_search$/ })
  const r = await run(['--url', server.url, '--index', 'docs', '--size', '700', '--slices', '2', '--retry-max-wait', '50ms'])
  t.equal(r.code, 0, r.stderr)
  expectAll(t, lines(r.stdout))
  t.match(r.stderr, /^es-read: .*, 5 retries, 0 failed in /m)
})

t.test('failures: one clear line each', async (t) => {
  const secured = await startEsServer({ auth: { basic: { username: 'elastic', password: 'hunter2-secret' } } })
  t.teardown(async () => await secured.close())
  secured.addDocs('docs', [{ _id: 'a', _source: { n: 1 } }])
  const cases: Array<[string, string[], Record<string, string>, number, RegExp]> = [
    ['auth', ['--url', secured.url, '--index', 'docs', '--username', 'elastic'], { ES_PASSWORD: 'wrong-secret' }, 1, /^es-read: error \[security_exception\] authentication failed at http:\/\/127\.0\.0\.1:\d+ \(401 security_exception: unable to authenticate user \[elastic\]/],
    ['unknown index', ['--url', server.url, '--index', 'nope'], {}, 1, /^es-read: error \[index_not_found_exception\] index not found at http:\/\/127\.0\.0\.1:\d+: no such index \[nope\]/],
    ['unreachable', ['--url', 'http://127.0.0.1:9', '--index', 'docs'], {}, 1, /^es-read: error \[ECONNREFUSED\] cannot reach the cluster at http:\/\/127\.0\.0\.1:9: connection refused/],
    ['bad --query', ['--url', server.url, '--index', 'docs', '--query', '{"term":'], {}, 2, /^es-read: invalid value for --query: not JSON .*\(see 'es-read --help'\)$/],
    ['no index', ['--url', server.url], {}, 2, /^es-read: missing required option --index/],
    ['bad --slice', ['--url', server.url, '--index', 'docs', '--slice', '3/3'], {}, 2, /^es-read: invalid value for --slice: 3\/3/]
  ]
  for (const [name, args, env, status, line] of cases) {
    const r = await run(args, env)
    t.equal(r.code, status, `${name}: exit ${status}`)
    const errors = r.stderr.split('\n').filter((l) => /error|invalid|missing/.test(l))
    t.equal(errors.length, 1, `${name}: one error line`)
    t.match(errors[0], line, name)
    t.notMatch(r.stderr, /\n\s+at |wrong-secret|hunter2/, `${name}: no stack trace, no secret`)
  }
  const json = await run(['--url', secured.url.replace('http://', 'http://elastic:wrong-secret@'), '--index', 'docs', '--log-format', 'json'])
  const ev = JSON.parse(json.stderr.split('\n').find((l) => l.includes('"event":"error"')) ?? '{}') as { code?: string, context?: { status?: number } }
  t.equal(ev.code, 'security_exception')
  t.equal(ev.context?.status, 401)
  t.notMatch(json.stderr, /wrong-secret/, 'password in the URL is masked')
})

t.test('--checkpoint: kill -9, rerun: every document, and again only the lines of the write it cut', async (t) => {
  for (const sig of ['SIGKILL', 'SIGTERM'] as const) {
    const file = join(dir, `ckpt-${sig}.json`)
    server.faults.latencyMs = 25
    const args = ['--url', server.url, '--index', 'docs', '--size', '300', '--slices', '2', '--checkpoint', file]
    const child = spawn(process.execPath, [BIN, ...args])
    const killed = collect(child, null)
    // Mid-read: two pages are out (each waits 25 ms for its answer; there are about 68).
    await waitForOutput(child.stdout, (text) => lineCount(text) >= 600, { what: 'two pages on stdout' })
    child.kill(sig)
    const first = (await killed).stdout
    server.faults.latencyMs = 0
    const saved = (JSON.parse(readFileSync(file, 'utf8')) as { reader: { complete: boolean, emitted: number } }).reader
    t.equal(saved.complete, false, `${sig}: checkpoint not complete`)
    t.ok(server.openPits() >= 1, `${sig}: the PIT is kept for resuming`)
    const opens = server.requests.filter((r) => r.path === '/docs/_pit').length
    const second = await run(args)
    t.equal(second.code, 0, second.stderr)
    t.equal(server.requests.filter((r) => r.path === '/docs/_pit').length, opens, `${sig}: resumed on the same PIT`)
    const firstLines = lines(first.slice(0, first.lastIndexOf('\n') + 1))
    const firstIds = firstLines.map(idOf)
    t.ok(firstIds.length > 0 && firstIds.length < N, `${sig}: first run wrote ${firstIds.length}`)
    // The documented window: the cursor is saved after each completed write to stdout, so a
    // kill between a write and its save repeats that write's lines (one chunk, ≤ 64 KiB) on
    // resume. Only such a tail of the first run may come again; nothing may be missing.
    const secondLines = lines(second.stdout)
    const secondIds = secondLines.map(idOf)
    const again = new Set(secondIds)
    let tail = 0
    while (tail < firstIds.length && again.has(firstIds[firstIds.length - 1 - tail])) tail++
    t.equal(firstIds.filter((id) => again.has(id)).length, tail, `${sig}: only the first run's last lines come again (${tail})`)
    t.ok(Buffer.byteLength(firstLines.slice(firstLines.length - tail).join('\n')) <= 64 * 1024, `${sig}: at most one write's lines`)
    if (sig === 'SIGTERM') t.equal(tail, 0, 'SIGTERM: every line written was saved before the exit')
    // The documents themselves, not only their ids: the resumed read gives each _source whole.
    expectAll(t, withoutPositions(t, [...firstLines.slice(0, firstLines.length - tail), ...secondLines]))
    const secondSet = new Set(secondLines)
    t.equal(firstLines.slice(firstLines.length - tail).filter((l) => secondSet.has(l)).length, tail, `${sig}: what comes again comes as the same bytes`)
    t.equal(server.openPits(), 0, `${sig}: PIT closed once complete`)
    const third = await run(args)
    t.equal(third.code, 0)
    t.equal(third.stdout, '', 'a complete checkpoint reads nothing more')
    t.match(third.stderr, /says this read is complete/)
  }
})

t.test('--checkpoint after the PIT expired: exact with --sort on a unique field, refused without', async (t) => {
  for (const sort of [['--sort', 'n'], []]) {
    const file = join(dir, `ckpt-expired-${sort.length}.json`)
    const args = ['--url', server.url, '--index', 'docs', '--size', '1000', '--checkpoint', file, ...sort]
    const first = await run([...args, '--limit', '4500'])
    t.equal(first.code, 0)
    server.expireAllContexts()
    const second = await run(args)
    if (sort.length > 0) {
      t.equal(second.code, 0, second.stderr)
      t.match(second.stderr, /point in time has expired; opening a new one/)
      expectAll(t, withoutPositions(t, [...lines(first.stdout), ...lines(second.stdout)]))
    } else {
      t.equal(second.code, 1)
      t.match(second.stderr, /its point in time has expired .* cannot resume exactly/)
    }
  }
  t.equal(server.openPits(), 0)
})

t.test('every option in --help is in the man page', async (t) => {
  const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' }).stdout
  const man = readFileSync(join(ROOT, 'man', 'es-read.1'), 'utf8').replace(/\\-/g, '-')
  const options = [...new Set(help.match(/--[a-z][a-z_-]+/g) ?? [])]
  t.ok(options.length > 30)
  for (const o of options) t.ok(man.includes(o), `${o} in man page`)
})

t.test('a point in time that expired while the consumer paused, with --checkpoint: one error line, nothing said of keeping or freeing it', async (t) => {
  const go = join(dir, 'go-expired')
  const first = join(dir, 'first-expired')
  const ck = join(dir, 'ck-expired')
  // ~2 MB of records: more than the pipe and es-read's output queue hold, so es-read waits for the consumer.
  const run = runShell(`mkfifo ${go} && es-read --url ${server.url} --index docs --size 100 --checkpoint ${ck} | { head -c 100000 > ${first}; read -r _ < ${go}; cat > /dev/null; }`)
  await waitFor(() => existsSync(first) && statSync(first).size >= 100000, { what: 'the consumer\'s first 100000 bytes', timeoutMs: 30_000 })
  server.expireAllContexts()
  writeFileSync(go, 'go\n')
  const r = await run
  t.equal(r.code, 1, 'exit 1')
  const errors = lines(r.stderr).filter((l) => /error \[/.test(l))
  t.equal(errors.length, 1, r.stderr)
  t.match(errors[0], /^es-read: error \[search_context_missing_exception\] the point in time expired at http:\/\/127\.0\.0\.1:\d+ index docs before the next page was asked for/)
  t.notMatch(r.stderr, /kept open|could not free/, 'nothing said of keeping or freeing a point in time that is gone')
})
