// es-read --scroll (lib/es/scroll.ts) where a scroll differs from a point in time: the server
// holds the cursor, so a partial page after the first can be neither passed on nor asked again.
// The library against the ES test server and its fault injection; every document checked.
import t from 'tap'
import { Writable } from 'node:stream'
import { createContext } from '../../lib/core/context.js'
import { Logger } from '../../lib/core/events.js'
import { ES_READ_COUNTERS, esRead } from '../../lib/es/read.js'
import type { EsReadOptions } from '../../lib/es/read.js'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'

const N = 1500
const ALL = Array.from({ length: N }, (_v, i) => `d${i}`)

interface Run { ids: string[], lines: string[], log: string, stats: Record<string, number>, error?: Error }

async function read (opts: Partial<EsReadOptions> = {}): Promise<Run> {
  let log = ''
  const logger = new Logger({ tool: 'es-read', stream: new Writable({ write (c: Buffer, _e, cb) { log += c.toString(); cb() } }) })
  const ctx = createContext({ tool: 'es-read', counters: ES_READ_COUNTERS, logger })
  const reader = esRead({ index: 'docs', connection: { url: server.url }, scroll: true, size: 400, retry: { retries: 3, maxWaitMs: 10 }, context: ctx, ...opts })
  const lines: string[] = []
  let error: Error | undefined
  try {
    for await (const line of reader) lines.push(line as string)
  } catch (err) {
    error = err as Error
  } finally {
    await ctx.cleanup()
  }
  return { ids: lines.map((l) => (JSON.parse(l) as { _id: string })._id), lines, log, stats: ctx.stats.toJSON(), error }
}

let server: EsTestServer
t.before(async () => {
  server = await startEsServer()
  server.addDocs('docs', ALL.map((id, i) => ({ _id: id, _source: { n: i, text: `doc ${i}` } })))
})
t.teardown(async () => await server.close())
t.afterEach(() => {
  server.faults.reset()
  server.expireAllContexts()
})

t.test('a shard failure on a scroll page after the first: es-read stops with the reason, having passed on no partial page', async (t) => {
  server.faults.shardFailureNth(1, { path: /^\/_search\/scroll$/ })
  const run = await read()
  t.match(run.error, { message: /scroll at http:\/\/127\.0\.0\.1:\d+ index docs: 1 of 2 shards failed/ }, 'the failure, with where')
  t.strictSame(run.ids, ALL.slice(0, 400), 'exactly the first page, nothing of the partial one')
  t.equal(run.stats.retries, 0, 'not asked again: the scroll has moved')
  t.equal(server.openScrolls(), 0, 'the scroll cleared')
})

t.test('a shard failure on the first page: nothing moved yet, so it is asked again and every document comes once', async (t) => {
  server.faults.shardFailureNth(1, { path: /^\/docs\/_search$/ })
  const run = await read()
  t.equal(run.error, undefined, run.log)
  t.strictSame(run.ids, ALL, 'every document once, in index order')
  t.equal(run.stats.retries, 1)
  // The scroll the failed first search opened is left to expire on its own (ScrollPager.mayRetry).
  t.equal(server.openScrolls(), 1, 'one open: the failed first search\'s, left to expire (the one read to its end is cleared)')
})

t.test('--scroll with --sort: in the order asked; with --slices too: every document once', async (t) => {
  const sorted = await read({ sort: ['n:desc'] })
  t.equal(sorted.error, undefined, sorted.log)
  t.strictSame(sorted.ids, [...ALL].reverse(), 'in n descending')
  const sliced = await read({ slices: 3, sort: ['n:asc'] })
  t.equal(sliced.error, undefined, sliced.log)
  t.strictSame([...sliced.ids].sort(), [...ALL].sort(), 'every document once across the slices')
  t.equal(server.openScrolls(), 0, 'every scroll cleared')
})

t.test('the scroll gone when es-read clears it at the end (404): the read is complete, exit clean', async (t) => {
  // First page, the empty page that ends it, then the clear: the third request on a scroll path.
  server.faults.failNth(2, 404, { path: /^\/_search\/scroll$/, type: 'search_context_missing_exception' })
  const run = await read({ size: N })
  t.equal(run.error, undefined, run.log)
  t.strictSame(run.ids, ALL)
  t.equal(server.requests.filter((r) => r.method === 'DELETE' && r.path === '/_search/scroll' && r.status === 404).length, 1, 'the clear was answered 404')
  t.notMatch(run.log, /warning/, 'no warning: a scroll already gone is what clearing it wants')
  t.match(run.log, /es-read: reading docs from /, 'the log was captured')
})
