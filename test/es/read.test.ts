// es-read as a library: the real client over real HTTP against the project's ES test server.
import t from 'tap'
import type { Test } from 'tap'
import { Writable } from 'node:stream'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createContext } from '../../lib/core/context.js'
import { Logger } from '../../lib/core/events.js'
import { ES_READ_COUNTERS, esRead } from '../../lib/es/read.js'
import type { EsReadOptions } from '../../lib/es/read.js'
import { parseSearchPage } from '../../lib/es/response.js'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { settled, waitFor } from '../helpers/wait.js'

const N = 2345

function docs (n: number, from = 0): Array<{ _id: string, _source: Record<string, unknown> }> {
  return Array.from({ length: n }, (_v, k) => {
    const i = from + k
    return { _id: `d${i}`, _source: { n: i, group: i % 7, text: `doc ${i}`, '@timestamp': new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString() } }
  })
}

interface Run { ids: string[], lines: string[], log: string, stats: Record<string, number> }

async function read (server: EsTestServer, opts: Partial<EsReadOptions> & { signal?: AbortSignal } = {}): Promise<Run> {
  let log = ''
  const stream = new Writable({ write (c: Buffer, _e, cb) { log += c.toString(); cb() } })
  const logger = new Logger({ tool: 'es-read', stream })
  const ctx = createContext({ tool: 'es-read', counters: ES_READ_COUNTERS, logger, signal: opts.signal })
  const reader = esRead({ index: 'docs', connection: { url: server.url }, retry: { retries: 5, maxWaitMs: 20 }, context: ctx, ...opts })
  const lines: string[] = []
  try {
    for await (const line of reader) lines.push(line as string)
  } finally {
    await ctx.cleanup()
  }
  const ids = lines.map((l) => (JSON.parse(l) as { _id: string })._id)
  return { ids, lines, log, stats: ctx.stats.toJSON() }
}

/** Every document of `docs` once, each line the hit as the server stores it, byte for byte. */
function expectAll (t: Test, lines: string[], n = N): void {
  const ids = lines.map((l) => (JSON.parse(l) as { _id: string })._id)
  t.equal(ids.length, n, `${n} lines`)
  t.equal(new Set(ids).size, n, 'no id twice')
  t.strictSame([...ids].sort(), docs(n).map((d) => d._id).sort(), 'every id')
  const wrong = lines.filter((l, i) => l !== `{"_index":"docs","_id":"${ids[i]}","_source":${server.storedSource('docs', ids[i]) ?? ''}}`)
  t.strictSame(wrong.slice(0, 3), [], 'every line the stored document, byte for byte')
}

declare namespace Tap { type Test = typeof t }

let server: EsTestServer
t.before(async () => {
  server = await startEsServer()
  server.addDocs('docs', docs(N))
})
t.teardown(async () => await server.close())
t.afterEach(() => {
  server.faults.reset()
  t.equal(server.openPits(), 0, 'no PIT left open')
  t.equal(server.openScrolls(), 0, 'no scroll left open')
})

t.test('every id exactly once, whatever the page size', async (t) => {
  for (const size of [1, 7, 1000, 2345, 10_000]) {
    const before = server.requests.length
    const run = await read(server, { size: size === 1 ? 1 : size, limit: size === 1 ? 50 : undefined })
    if (size === 1) {
      t.equal(run.ids.length, 50, 'size 1 with --limit 50 gives 50')
      t.equal(new Set(run.ids).size, 50)
    } else {
      expectAll(t, run.lines)
    }
    const searches = server.requests.slice(before).filter((r) => r.path === '/_search')
    t.ok(searches.length > 0 && searches.every((r) => (r.body as { size: number }).size <= size), `no request asks for more than ${size} (${searches.length} searches)`)
  }
})

t.test('hits go out as _index, _id, _source (and fields when asked), byte-exact', async (t) => {
  // Through _bulk as text: a JS number literal would already have lost the digits. Beyond the
  // range of a long, so mapped unsigned_long first, as Elasticsearch would refuse it otherwise.
  const created = await fetch(`${server.url}/exact`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"mappings":{"properties":{"big":{"type":"unsigned_long"}}}}' })
  t.equal(created.status, 200, 'index created')
  const bulk = '{"index":{"_index":"exact","_id":"big"}}\n{"big":12345678901234567890,"tiny":1e-7,"s":"é\\u2028\\"\\\\"}\n'
  const res = await fetch(`${server.url}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: bulk })
  t.equal(res.status, 200, 'seeded through _bulk')
  t.equal((await res.json() as { errors: boolean }).errors, false, 'the document was accepted')
  const run = await read(server, { index: 'exact' })
  t.equal(run.lines.length, 1)
  t.match(run.lines[0], /^\{"_index":"exact","_id":"big","_source":\{/)
  t.match(run.lines[0], /"big":12345678901234567890/, 'a big number keeps every digit')
  t.notMatch(run.lines[0], /_score|"sort"/, 'no _score or sort in the record')
  const withFields = await read(server, { index: 'docs', limit: 3, fields: ['n'], sourceIncludes: ['text'] })
  t.equal(withFields.lines.length, 3, '--limit 3')
  for (const l of withFields.lines) {
    const rec = JSON.parse(l) as { _source: Record<string, unknown>, fields: Record<string, unknown[]> }
    t.strictSame(Object.keys(rec._source), ['text'], '--source-includes')
    t.ok(Array.isArray(rec.fields.n), '--fields gives fields')
  }
})

t.test('search_after sends back the sort values exactly as received', async (t) => {
  // Documents without the sort field sort with Long.MIN/MAX sentinels that JSON.parse rounds.
  server.addDocs('sparse', [...docs(30).map((d) => ({ _id: d._id, _source: { other: d._source.n } })), ...docs(30, 30)])
  const before = server.requests.length
  const run = await read(server, { index: 'sparse', size: 4, sort: ['n:asc'] })
  t.equal(run.ids.length, 60)
  t.equal(new Set(run.ids).size, 60, 'no duplicates across the missing-value pages')
  const afters = server.requests.slice(before).filter((r) => r.path === '/_search' && r.body !== undefined).map((r) => JSON.stringify((r.body as { search_after?: unknown }).search_after, (_k, v: unknown) => typeof v === 'bigint' ? `big:${v}` : v))
  t.ok(afters.some((a) => a?.includes('big:9223372036854775807') === true), `the Long.MAX sentinel went back exactly (${afters.filter((a) => a?.includes('big') === true)[0]})`)
})

t.test('a short sentinel survives the raw page reader', async (t) => {
  const page = parseSearchPage('{"pit_id":"p2","_shards":{"total":1,"successful":1,"failed":0},"hits":{"hits":[ {"_index":"a","_id":"1","_score":null,"_source":{"x":[1,{"y":"}"}]},"sort":[9223372036854775807, 12]}\n,{"_index":"a","_id":"2","_source":{\n"z" : 1}}]}}')
  t.strictSame(page.lines, ['{"_index":"a","_id":"1","_source":{"x":[1,{"y":"}"}]}}', '{"_index":"a","_id":"2","_source":{"z":1}}'])
  t.equal(page.sorts[0], '[9223372036854775807, 12]')
  t.equal(page.pitId, 'p2')
})

t.test('in-process slices: every id once, PIT closed', async (t) => {
  for (const slices of [2, 3, 5]) {
    const before = server.requests.length
    const run = await read(server, { slices, size: 300 })
    expectAll(t, run.lines)
    const sliceIds = new Set(server.requests.slice(before).filter((r) => r.path === '/_search').map((r) => (r.body as { slice?: { id: number } }).slice?.id))
    t.strictSame([...sliceIds].sort(), Array.from({ length: slices }, (_v, i) => i), `${slices} slices were read`)
  }
})

t.test('--slice I/N: the union of the N parts is the index', async (t) => {
  const all: string[] = []
  for (let i = 0; i < 3; i++) all.push(...(await read(server, { slice: { id: i, max: 3 }, size: 500 })).lines)
  expectAll(t, all)
})

t.test('--limit stops at N, also with slices, and closes the PIT', async (t) => {
  for (const [limit, slices] of [[0, 1], [1, 1], [999, 1], [1001, 3], [5000, 2]]) {
    const run = await read(server, { limit, slices, size: 250 })
    t.equal(run.ids.length, Math.min(limit, N), `--limit ${limit} --slices ${slices}`)
    t.equal(new Set(run.ids).size, run.ids.length)
  }
})

t.test('query options select the documents', async (t) => {
  const term = await read(server, { query: '{"term":{"group":3}}' })
  t.strictSame(term.ids.sort(), docs(N).filter((d) => d._source.group === 3).map((d) => d._id).sort(), '--query term')
  const range = await read(server, { gte: '2024-01-01T00:00:00Z', lte: '2024-01-01T00:09:00Z' })
  t.strictSame(range.ids.sort(), ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7', 'd8', 'd9'], '--gte/--lte on @timestamp, both ends included')
  const sorted = await read(server, { sort: ['n:desc'], limit: 5 })
  t.strictSame(sorted.ids, [`d${N - 1}`, `d${N - 2}`, `d${N - 3}`, `d${N - 4}`, `d${N - 5}`], '--sort n:desc')
})

t.test('429, 503 and resets (before and mid-body) are retried: every id once', async (t) => {
  const cases: Array<[string, () => void]> = [
    ['429 twice', () => server.faults.failNth(2, 429, { path: /^\/_search$/, type: 'es_rejected_execution_exception', times: 2 })],
    ['503', () => server.faults.failNth(3, 503, { path: /^\/_search$/ })],
    ['500 on open', () => server.faults.failNth(1, 500, { path: /_pit$/ })],
    ['reset', () => server.faults.resetNth(2, { path: /^\/_search$/ })],
    ['reset mid-body', () => server.faults.resetNth(4, { path: /^\/_search$/, midBody: true })],
    ['partial shard failure', () => server.faults.shardFailureNth(3, { path: /^\/_search$/ })]
  ]
  for (const [name, arm] of cases) {
    arm()
    const run = await read(server, { size: 400 })
    expectAll(t, run.lines)
    t.ok(run.stats.retries >= 1, `${name}: retried (${run.stats.retries})`)
    t.match(run.log, /retry 1\//, `${name}: the retry is logged`)
    server.faults.reset()
  }
  server.faults.failNth(2, 503, { path: /^\/_search$/ })
  server.faults.resetNth(5, { path: /^\/_search$/, midBody: true })
  const sliced = await read(server, { size: 300, slices: 3 })
  expectAll(t, sliced.lines)
})

t.test('retries run out: the last error, loudly, and the PIT is closed', async (t) => {
  server.faults.failNth(1, 503, { path: /^\/_search$/, times: 100 })
  await t.rejects(read(server, { retry: { retries: 2, maxWaitMs: 5 } }), { message: /search failed at http:\/\/127\.0\.0\.1:\d+ index docs: 503/ })
  server.faults.reset()
  // Every search fails on a shard (es-read may ask for a page ahead, so which requests it
  // sends is its own business): the retries run out, and the failure is never passed over.
  for (let n = 1; n <= 6; n++) server.faults.shardFailureNth(n, { path: /^\/_search$/ })
  await t.rejects(read(server, { retry: { retries: 1, maxWaitMs: 5 } }), { message: /1 of 2 shards failed/ }, 'shard failures are never passed over')
})

t.test('an expired PIT is fatal and names --keep-alive', async (t) => {
  server.faults.expireNth(2, { path: /^\/_search$/ })
  await t.rejects(read(server, { size: 500 }), { code: 'search_context_missing_exception', message: /raise --keep-alive \(now 5m\)/ })
})

t.test('scroll: every id once; cleared at the end; only safe retries', async (t) => {
  for (const slices of [1, 2]) {
    const run = await read(server, { scroll: true, size: 600, slices })
    expectAll(t, run.lines)
  }
  server.faults.failNth(2, 429, { path: /scroll/ })
  const retried = await read(server, { scroll: true, size: 600 })
  expectAll(t, retried.lines)
  t.equal(retried.stats.retries, 1, 'a 429 (refused before any work) is retried')
  server.faults.reset()
  server.faults.failNth(2, 502, { path: /scroll/ })
  await t.rejects(read(server, { scroll: true, size: 600 }), { message: /502.*es-read stops rather than skip it/ }, 'a 502 after the scroll moved is not retried blindly')
  server.faults.reset()
  server.faults.expireNth(1, { path: /scroll/ })
  await t.rejects(read(server, { scroll: true, size: 600 }), { message: /the scroll expired.*--keep-alive/ })
})

t.test('backpressure: a consumer that stops reading holds the reader at a few pages; one that reads on takes them all', async (t) => {
  // The same read twice: paused after 10 documents, and not paused. The second is the control:
  // given the same time, es-read does fetch every page, so a bound the first keeps is its own.
  for (const pause of [true, false]) {
    const ctx = createContext({ tool: 'es-read', counters: ES_READ_COUNTERS, logger: new Logger({ tool: 'es-read', quiet: true }) })
    const reader = esRead({ index: 'docs', connection: { url: server.url }, size: 100, slices: 2, context: ctx })
    const before = server.requests.length
    const searches = (): number => server.requests.slice(before).filter((r) => r.path === '/_search').length
    let got = 0
    reader.on('data', () => { if (++got === 10 && pause) reader.pause() })
    await waitFor(() => got >= 10, { what: 'the first 10 documents' })
    // Each page takes a few ms to answer here: 500 ms without a new request is a reader at rest.
    const held = await settled(searches, { what: 'the searches es-read sends', quietMs: 500 })
    const pages = Math.ceil(N / 100)
    if (pause) {
      t.ok(held >= 3 && held <= 4, `${held} pages fetched for a consumer that took 10 documents (2 slices: the first page of each, one ahead)`)
      t.ok(reader.readableLength <= 200, `${reader.readableLength} lines held`)
      t.equal(got, 10, 'nothing pushed past the pause')
    } else {
      t.ok(held >= pages, `a consumer that reads on: ${held} pages, the whole index (${N} documents in ${pages} or more pages)`)
      t.equal(got, N, 'every document')
    }
    reader.destroy()
    await ctx.cleanup()
  }
})

t.test('one page ahead per slice: the next page is fetched before the consumer takes any of this one, and no further', async (t) => {
  const ctx = createContext({ tool: 'es-read', counters: ES_READ_COUNTERS, logger: new Logger({ tool: 'es-read', quiet: true }) })
  const idle = (): void => {}
  for (const slices of [1, 2]) {
    const start = server.requests.length
    const sliceSearches = (): number => server.requests.slice(start).filter((r) => r.path === '/_search').length
    const reader = esRead({ index: 'docs', connection: { url: server.url }, size: 100, slices, context: ctx })
    // Nothing is read: the buffer holds one page (its high-water mark); the slice that filled it
    // has its next page fetched and held, every other slice its first page held, none fetches more.
    reader.on('readable', idle)
    await waitFor(() => sliceSearches() >= slices + 1, { what: `the first ${slices + 1} pages` })
    // The control is the read below: once the consumer takes lines, the pages do come.
    t.equal(await settled(sliceSearches, { what: 'the searches es-read sends', quietMs: 300 }), slices + 1, `${slices} slice(s): one page ahead per slice, held until wanted`)
    t.equal(reader.readableLength, 100, 'one page in the buffer')
    const lines: string[] = []
    reader.off('readable', idle)
    for await (const line of reader) lines.push(line as string)
    expectAll(t, lines)
    t.ok(sliceSearches() > slices + 1, `read on, the rest came (${sliceSearches()} pages)`)
  }
  await ctx.cleanup()
})

t.test('with a checkpoint, pages come only when wanted: no page is fetched ahead', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'es-read-ahead-'))
  const ctx = createContext({ tool: 'es-read', counters: ES_READ_COUNTERS, logger: new Logger({ tool: 'es-read', quiet: true }) })
  const start = server.requests.length
  const searches = (): number => server.requests.slice(start).filter((r) => r.path === '/_search').length
  const reader = esRead({ index: 'docs', connection: { url: server.url }, size: 100, slices: 2, checkpoint: join(dir, 'ckpt.json'), context: ctx })
  reader.on('readable', () => {})
  await waitFor(() => searches() >= 2, { what: 'the first page of each slice' })
  t.equal(await settled(searches, { what: 'the searches es-read sends', quietMs: 300 }), 2, 'the first page of each slice, nothing more')
  const lines: string[] = []
  reader.removeAllListeners('readable')
  for await (const line of reader) lines.push(line as string)
  expectAll(t, lines)
  t.ok(searches() > 2, `read on, the rest came (${searches()} pages)`)
  await ctx.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

t.test('a page that fails ahead of the consumer is said only after every line before it went out', async (t) => {
  server.faults.failNth(2, 400, { path: /^\/_search$/ })
  const ctx = createContext({ tool: 'es-read', counters: ES_READ_COUNTERS, logger: new Logger({ tool: 'es-read', quiet: true }) })
  const reader = esRead({ index: 'docs', connection: { url: server.url }, size: 100, context: ctx })
  reader.on('readable', () => {})
  const before = server.requests.length
  await waitFor(() => server.requests.slice(before).some((r) => r.path === '/_search' && r.status === 400), { what: 'the failing page' })
  const ids: string[] = []
  await t.rejects((async () => {
    for await (const line of reader) ids.push((JSON.parse(line as string) as { _id: string })._id)
  })(), { message: /400/ })
  t.equal(ids.length, 100, 'the whole first page, then the error')
  t.equal(ctx.stats.get('emitted'), 100)
  await ctx.cleanup()
})

t.test('an abort (SIGINT) ends the stream cleanly and closes the PIT', async (t) => {
  const ac = new AbortController()
  server.faults.latencyMs = 20
  const ctx = createContext({ tool: 'es-read', counters: ES_READ_COUNTERS, logger: new Logger({ tool: 'es-read', quiet: true }), signal: ac.signal })
  const reader = esRead({ index: 'docs', connection: { url: server.url }, size: 100, context: ctx })
  const ids: string[] = []
  for await (const line of reader) {
    if (ids.push((JSON.parse(line as string) as { _id: string })._id) === 150) ac.abort()
  }
  await ctx.cleanup()
  t.ok(ids.length >= 150 && ids.length < N, `ended early after ${ids.length}`)
  t.equal(new Set(ids).size, ids.length)
})

t.test('errors name what failed', async (t) => {
  await t.rejects(read(server, { index: 'nope' }), { code: 'index_not_found_exception', message: /index not found at http:\/\/127\.0\.0\.1:\d+: no such index \[nope\]/ })
  await t.rejects(read(server, { connection: { url: 'http://127.0.0.1:9' } }), { code: 'ECONNREFUSED', message: 'cannot reach the cluster at http://127.0.0.1:9: connection refused' })
  await t.rejects(read(server, { query: '{"term":' }), { code: 'EUSAGE', message: /--query: not JSON/ })
  const secured = await startEsServer({ auth: { basic: { username: 'elastic', password: 's3cret-pw' } } })
  t.teardown(async () => await secured.close())
  secured.addDocs('docs', docs(10))
  const err = await read(secured, { connection: { url: secured.url, username: 'elastic', password: 'wrong-pw' } }).catch((e: Error) => e)
  t.match(err, { code: 'security_exception', message: /^authentication failed at http:\/\/127\.0\.0\.1:\d+ \(401 security_exception/ })
  t.notMatch((err as Error).message, /wrong-pw/, 'no password in the message')
  const ok = await read(secured, { connection: { url: secured.url, username: 'elastic', password: 's3cret-pw' } })
  t.equal(ok.ids.length, 10, 'the right password reads')
  t.equal(secured.openPits(), 0)
  const keyed = await startEsServer({ auth: { apiKey: { id: 'kid', key: 'k3y-value' } } })
  t.teardown(async () => await keyed.close())
  keyed.addDocs('docs', docs(5))
  for (const apiKey of ['kid:k3y-value', Buffer.from('kid:k3y-value').toString('base64')]) {
    t.equal((await read(keyed, { connection: { url: keyed.url, apiKey } })).ids.length, 5, `--api-key ${apiKey.includes(':') ? 'id:key' : 'base64'}`)
  }
  const denied = await read(keyed, { connection: { url: keyed.url, apiKey: 'kid:wrong-key' } }).catch((e: Error) => e)
  t.match(denied, { code: 'security_exception', message: /^authentication failed/ })
  t.notMatch((denied as Error).message, /wrong-key/)
})
