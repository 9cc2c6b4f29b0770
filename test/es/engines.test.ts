// es-read against OpenSearch as the project's test server speaks it (distribution: 'opensearch'):
// the engine is told apart by GET /, no Elasticsearch product check or media type, paging chosen
// by version, and the same guarantees as on Elasticsearch under injected faults. The real
// OpenSearch node runs the same reads in test/engine/.
import t from 'tap'
import type { Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { createContext } from '../../lib/core/context.js'
import { Logger } from '../../lib/core/events.js'
import { EsConnection } from '../../lib/es/client.js'
import { ES_READ_COUNTERS, esRead } from '../../lib/es/read.js'
import type { EsReadOptions } from '../../lib/es/read.js'
import { startEsServer } from '../servers/es/server.js'
import type { EsServerOptions, EsTestServer } from '../servers/es/server.js'

const N = 1234

function docs (n: number): Array<{ _id: string, _source: Record<string, unknown> }> {
  return Array.from({ length: n }, (_v, i) => ({ _id: `d${i}`, _source: { n: i, group: i % 5, big: '12345678901234567890123', '@timestamp': new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString() } }))
}

interface Run { ids: string[], lines: string[], log: string }

async function read (server: EsTestServer, opts: Partial<EsReadOptions> & { abortAfter?: number } = {}): Promise<Run> {
  let log = ''
  const logger = new Logger({ tool: 'es-read', stream: new Writable({ write (c: Buffer, _e, cb) { log += c.toString(); cb() } }) })
  const abort = new AbortController()
  const ctx = createContext({ tool: 'es-read', counters: ES_READ_COUNTERS, logger, signal: abort.signal })
  const reader = esRead({ index: 'docs', connection: { url: server.url }, retry: { retries: 5, maxWaitMs: 20 }, context: ctx, size: 100, ...opts })
  const lines: string[] = []
  try {
    for await (const line of reader) {
      lines.push(line as string)
      if (lines.length === opts.abortAfter) abort.abort()
    }
  } finally {
    await ctx.cleanup()
  }
  return { ids: lines.map((l) => (JSON.parse(l) as { _id: string })._id), lines, log }
}

/** Every document once, each line the hit with the _source the test seeded (as JSON.stringify wrote it for the server). */
function expectAll (t: Test, run: Run, what: string): void {
  t.equal(run.ids.length, N, `${what}: ${N} lines`)
  t.equal(new Set(run.ids).size, N, `${what}: no id twice`)
  const want = new Set(docs(N).map((d) => `{"_index":"docs","_id":"${d._id}","_source":${JSON.stringify(d._source)}}`))
  t.strictSame(run.lines.filter((l) => !want.has(l)).slice(0, 3), [], `${what}: every line a seeded document, byte for byte`)
}

async function openSearch (t: Test, opts: EsServerOptions = {}): Promise<EsTestServer> {
  const server = await startEsServer({ distribution: 'opensearch', ...opts })
  server.addDocs('docs', docs(N))
  t.teardown(async () => await server.close())
  return server
}

/** What es-read asked the server, as `METHOD path`. */
function asked (server: EsTestServer): string[] {
  return server.requests.map((r) => `${r.method} ${r.path}`)
}

t.test('identify: GET / tells OpenSearch, Elasticsearch and neither apart', async (t) => {
  const os = await openSearch(t)
  const conn = new EsConnection({ url: os.url })
  t.strictSame(await conn.identify({ host: os.url }), { distribution: 'opensearch', version: '2.19.1' })
  await conn.close()
  const es = await startEsServer({ version: '7.10.2' })
  t.teardown(async () => await es.close())
  const esConn = new EsConnection({ url: es.url })
  t.strictSame(await esConn.identify({ host: es.url }), { distribution: 'elasticsearch', version: '7.10.2' })
  await esConn.close()
})

t.test('OpenSearch 2.19, no sort: a scroll in index order, every id once, cleared', async (t) => {
  const server = await openSearch(t)
  const r = await read(server)
  expectAll(t, r, 'scroll')
  t.match(r.log, /reading docs from http:\/\/127\.0\.0\.1:\d+ \(OpenSearch 2\.19\.1, scroll\)/)
  t.equal(server.openScrolls(), 0, 'scroll cleared')
  t.ok(server.requests.length > 0 && !server.requests.some((r) => /vnd\.elasticsearch/.test(JSON.stringify(r))), `no Elasticsearch media type sent (${server.requests.length} requests)`)
  const sliced = await read(server, { slices: 3 })
  expectAll(t, sliced, 'three scroll slices')
  t.equal(server.openScrolls(), 0, 'every slice cleared')
})

t.test('a sliced scroll stopped by --limit clears every slice, also one whose first page was still on its way', async (t) => {
  const server = await openSearch(t)
  server.faults.latencyMs = 30
  const r = await read(server, { slices: 3, limit: 150 })
  t.equal(r.ids.length, 150)
  t.equal(server.openScrolls(), 0, 'no scroll left open')
})

t.test('OpenSearch 2.19 with --sort: PIT ended by _index,_id; exact, closed', async (t) => {
  const server = await openSearch(t)
  const r = await read(server, { sort: ['group:desc'] })
  expectAll(t, r, 'sorted PIT')
  t.match(r.log, /\(OpenSearch 2\.19\.1, point in time\)/)
  const groups = r.lines.map((l) => (JSON.parse(l) as { _source: { group: number } })._source.group)
  t.strictSame(groups, [...groups].sort((a, b) => b - a), 'in --sort order')
  t.ok(asked(server).includes('POST /docs/_search/point_in_time'), 'PIT opened with OpenSearch\'s API')
  t.ok(asked(server).includes('DELETE /_search/point_in_time'), 'and closed with it')
  t.equal(server.openPits(), 0, 'no PIT left open')
  const page = server.requests.find((q) => q.path === '/_search' && JSON.stringify(q.body).includes('search_after'))
  t.match(JSON.stringify(page?.body), /"sort":\[\{"group":\{"order":"desc","missing":"_last"\}\},\{"_index":"asc"\},\{"_id":"asc"\}\]/, 'the tiebreaker is _index,_id; missing named (lib/es/pit.ts sortWithMissing)')
  const sliced = await read(server, { sort: ['n'], slices: 2 })
  expectAll(t, sliced, 'two PIT slices')
  t.equal(server.openPits(), 0, 'no PIT left open after slices')
})

t.test('a keyword sort with missing values: OpenSearch gets search_after with null, under a sort that names missing', async (t) => {
  const server = await openSearch(t)
  server.addDocs('tags', Array.from({ length: 50 }, (_v, i) => ({ _id: `t${i}`, _source: i % 3 === 0 ? { n: i } : { n: i, tag: `k${i % 5}` } })))
  const r = await read(server, { index: 'tags', sort: ['tag.keyword'], size: 7, retry: { retries: 0, maxWaitMs: 1 } })
  t.equal(r.ids.length, 50, 'every document, those without the field last')
  t.equal(new Set(r.ids).size, 50)
  const after = server.requests.filter((q) => String(JSON.stringify(q.body)).includes('"search_after":[null,'))
  t.ok(after.length > 0, 'a page after a missing value was asked')
  t.ok(after.every((q) => /"sort":\[\{"tag\.keyword":\{"order":"asc","missing":"_last"\}\}.*"track_total_hits":false/.test(JSON.stringify(q.body))), 'with missing named, and hits not counted')
})

t.test('a date_nanos sort: missing spelled as the value _last stands for (OpenSearch wrongly skips shards under _last), order and documents unchanged', async (t) => {
  const server = await openSearch(t)
  const put = async (index: string, type: string): Promise<void> => {
    const res = await fetch(`${server.url}/${index}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mappings: { properties: { at: { type }, k: { type: 'keyword' } } } }) })
    t.equal(res.status, 200, `${index} created`)
  }
  await put('ns-a', 'date_nanos')
  await put('ns-b', 'date')
  // A date_nanos in ns-a, a date in ns-b (a read of both keeps the value); every fifth document lacks `at`.
  const at = (i: number): string | undefined => i % 5 === 4 ? undefined : `2024-05-01T10:00:00.123456${String(700 + i).padStart(3, '0')}Z`
  server.addDocs('ns-a', Array.from({ length: 20 }, (_v, i) => ({ _id: `a${i}`, _source: at(i) === undefined ? { k: `k${i}` } : { at: at(i), k: `k${i}` } })))
  server.addDocs('ns-b', [{ _id: 'b0', _source: { at: '2024-05-01T10:00:00.123Z', k: 'kb' } }])
  const sortOf = (): string[] => server.requests.filter((q) => q.path === '/_search').map((q) => JSON.stringify((q.body as { sort?: unknown }).sort))
  const asc = await read(server, { index: 'ns-*', sort: ['at', 'k'], size: 3 })
  t.equal(asc.ids.length, 21, 'every document')
  // The test server keeps milliseconds of a date_nanos; the real engines' order is checked in test/engine/read.test.ts.
  t.strictSame(asc.ids.slice(-4).sort(), ['a14', 'a19', 'a4', 'a9'], 'those without the field last, as under _last')
  t.ok(sortOf().length > 0, 'pages asked')
  t.ok(sortOf().every((s) => s.startsWith('[{"at":{"order":"asc","missing":"9223372036854775807"}},{"k":{"order":"asc","missing":"_last"}}')), 'ascending: the largest long; the keyword keeps _last')
  server.requests.length = 0
  const desc = await read(server, { index: 'ns-a', sort: ['at:desc'], size: 3 })
  t.strictSame(desc.ids.slice(-4).sort(), ['a14', 'a19', 'a4', 'a9'], 'those without the field last')
  t.equal(desc.ids.length, 20, 'every document')
  t.ok(sortOf().length > 0 && sortOf().every((s) => s.startsWith('[{"at":{"order":"desc","missing":"-9223372036854775808"}}')), 'descending: the smallest long')
  server.requests.length = 0
  await read(server, { index: 'ns-a', sort: ['k'], size: 50 })
  t.ok(sortOf().length > 0 && sortOf().every((s) => s.startsWith('[{"k":{"order":"asc","missing":"_last"}}')), 'a sort on another field is left as it was')
})

t.test('faults on OpenSearch PIT pages are retried: every id once, PIT closed', async (t) => {
  const server = await openSearch(t)
  const faults: Array<[string, () => void]> = [
    ['429', () => server.faults.failNth(2, 429, { path: /^\/_search$/, type: 'es_rejected_execution_exception', times: 2 })],
    ['503', () => server.faults.failNth(3, 503, { path: /^\/_search$/ })],
    ['500 on open', () => server.faults.failNth(1, 500, { path: /point_in_time$/ })],
    ['reset mid-body', () => server.faults.resetNth(4, { path: /^\/_search$/, midBody: true })],
    ['partial shard failure', () => server.faults.shardFailureNth(3, { path: /^\/_search$/ })]
  ]
  for (const [name, inject] of faults) {
    server.faults.reset()
    inject()
    const r = await read(server, { sort: ['n'] })
    expectAll(t, r, name)
    t.equal(server.openPits(), 0, `${name}: PIT closed`)
  }
})

t.test('an early stop (--limit) and a fatal error both close the OpenSearch PIT', async (t) => {
  const server = await openSearch(t)
  const r = await read(server, { sort: ['n'], limit: 150 })
  t.equal(r.ids.length, 150)
  t.equal(server.openPits(), 0, '--limit: PIT closed')
  server.faults.failNth(2, 503, { path: /^\/_search$/, times: 100 })
  await t.rejects(read(server, { sort: ['n'] }), { message: /search failed at .* 503/ })
  t.equal(server.openPits(), 0, 'retries run out: PIT closed')
})

t.test('--checkpoint on OpenSearch 2.19: resumes exactly, even after its PIT expired, without --sort', async (t) => {
  const server = await openSearch(t)
  const dir = mkdtempSync(join(tmpdir(), 'espipe-os-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'ckpt.json')
  const first = await read(server, { checkpoint: file, abortAfter: 250 })
  t.ok(first.ids.length >= 250 && first.ids.length < N, 'the first run stopped part way')
  t.equal(server.openPits(), 1, 'the PIT is kept for resuming')
  const resumed = await read(server, { checkpoint: file })
  t.strictSame([...first.ids, ...resumed.ids].sort(), docs(N).map((d) => d._id).sort(), 'resumed on the same PIT: every id once')
  t.equal(server.openPits(), 0)
  t.hasStrict(JSON.parse(readFileSync(file, 'utf8')), { reader: { complete: true } })

  const file2 = join(dir, 'ckpt2.json')
  const a = await read(server, { checkpoint: file2, abortAfter: 400 })
  server.expireAllContexts()
  const b = await read(server, { checkpoint: file2 })
  t.match(b.log, /opening a new one and continuing after the last document written \(exact/)
  t.strictSame([...a.ids, ...b.ids].sort(), docs(N).map((d) => d._id).sort(), 'a new PIT continues after the last _index,_id: every id once')
  t.equal(server.openPits(), 0)
})

t.test('paging follows the version: 3.3 has _shard_doc, before 2.4 only scroll', async (t) => {
  const three = await openSearch(t, { version: '3.3.0' })
  const r = await read(three)
  expectAll(t, r, 'OpenSearch 3.3')
  t.match(r.log, /\(OpenSearch 3\.3\.0, point in time\)/)
  const page = three.requests.find((q) => q.path === '/_search')
  t.match(JSON.stringify(page?.body), /"sort":\[\{"_shard_doc":"asc"\}\]/, '_shard_doc named explicitly')

  const old = await openSearch(t, { version: '2.3.0' })
  const s = await read(old, { sort: ['n'] })
  expectAll(t, s, 'OpenSearch 2.3, sorted')
  t.match(s.log, /\(OpenSearch 2\.3\.0, scroll\)/)
  const ckptDir = mkdtempSync(join(tmpdir(), 'espipe-os-'))
  t.teardown(() => rmSync(ckptDir, { recursive: true, force: true }))
  await t.rejects(read(old, { checkpoint: join(ckptDir, 'ckpt.json') }), { code: 'ES_NO_POINT_IN_TIME', message: '--checkpoint needs point-in-time paging, which OpenSearch 2.3.0 lacks (Elasticsearch 7.10+, OpenSearch 2.4+)' })
})

t.test('Elasticsearch 9 reads with the 8.x client\'s compatible-with=8 media type, by point in time', async (t) => {
  const nine = await startEsServer({ version: '9.1.0' })
  t.teardown(async () => await nine.close())
  nine.addDocs('docs', docs(N))
  const r = await read(nine, { slices: 2 })
  expectAll(t, r, 'Elasticsearch 9.1')
  t.match(r.log, /\(Elasticsearch 9\.1\.0, point in time\)/)
  t.equal(nine.openPits(), 0)
})

t.test('Elasticsearch 7 gets plain JSON media types; a server that is neither engine is refused at once', async (t) => {
  const seven = await startEsServer({ version: '7.10.2' })
  t.teardown(async () => await seven.close())
  seven.addDocs('docs', docs(N))
  const r = await read(seven)
  expectAll(t, r, 'Elasticsearch 7.10')
  t.match(r.log, /\(Elasticsearch 7\.10\.2, point in time\)/)

  const { createServer } = await import('node:http')
  const other = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"ok"}') })
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
  t.teardown(() => other.close())
  const url = `http://127.0.0.1:${(other.address() as { port: number }).port}`
  await t.rejects(read(seven, { connection: { url } }), { code: 'ES_NOT_ELASTICSEARCH', message: `${url} is neither Elasticsearch nor OpenSearch: GET / answered 200 from a server that does not name itself, application/json, with no x-elastic-product header and no OpenSearch version; check --url` })
})

t.test('basic authentication against OpenSearch: accepted, and a wrong password refused in one line', async (t) => {
  const server = await openSearch(t, { auth: { basic: { username: 'reader', password: 'Os-Secret-1' } } })
  const ok = await read(server, { connection: { url: server.url, username: 'reader', password: 'Os-Secret-1' } })
  expectAll(t, ok, 'with credentials')
  await t.rejects(read(server, { connection: { url: server.url, username: 'reader', password: 'wrong' } }), { status: 401, message: /^authentication failed at http:\/\/127\.0\.0\.1:\d+ \(401 security_exception: unable to authenticate user \[reader\] for REST request \[\/\]\); check --username\/--password or --api-key$/ })
})

t.test('a user forbidden GET /: Elasticsearch if its header says so, else OpenSearch of unknown version', async (t) => {
  const { createServer } = await import('node:http')
  let elastic = false
  const stub = createServer((_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json', ...(elastic ? { 'x-elastic-product': 'Elasticsearch' } : {}) })
    res.end('{"error":{"root_cause":[{"type":"security_exception","reason":"no permissions for [cluster:monitor/main]"}],"type":"security_exception","reason":"no permissions for [cluster:monitor/main]"},"status":403}')
  })
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve))
  t.teardown(() => stub.close())
  const url = `http://127.0.0.1:${(stub.address() as { port: number }).port}`
  const conn = new EsConnection({ url })
  t.strictSame(await conn.identify({ host: url }), { distribution: 'opensearch' })
  await conn.close()
  elastic = true
  const esConn = new EsConnection({ url })
  t.strictSame(await esConn.identify({ host: url }), { distribution: 'elasticsearch' })
  await esConn.close()
})
