import t from 'tap'
import { Client, errors } from '@elastic/elasticsearch'
import { docs, errorOf, raw, serverFor, failure } from './es/testing.js'

t.test('failNth: the nth matching request gets a 429, which the client does not retry', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('f', docs(5))
  server.faults.failNth(2, 429, { path: /_search$/ })
  await client.search({ index: 'f' })
  const err = (await client.search({ index: 'f' }).catch((e: unknown) => e)) as errors.ResponseError
  t.equal(err.statusCode, 429)
  t.equal(errorOf(err.meta.body).type, 'es_rejected_execution_exception')
  t.equal(server.requests.filter((r) => r.path === '/f/_search').length, 2, 'one request, no transport retry')
  t.equal((await client.search({ index: 'f' })).hits.hits.length, 5, 'only the nth fails')
})

t.test('a 503 is retried by the client transport and then succeeds', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('f', docs(5))
  server.faults.failNth(1, 503)
  const res = await client.search({ index: 'f' })
  t.equal(res.hits.hits.length, 5)
  t.strictSame(server.requests.map((r) => r.status), [503, 200])
})

t.test('a faulted PIT page does not advance anything: the retry gets the same page', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('f', docs(20))
  const pit = (await client.openPointInTime({ index: 'f', keep_alive: '1m' })).id
  const body = { pit: { id: pit }, sort: [{ n: 'asc' as const }], size: 5, search_after: [4, 4] }
  server.faults.failNth(1, 429)
  t.hasStrict(await failure(client.search(body)), { meta: { statusCode: 429 } })
  const page = await client.search(body)
  t.strictSame(page.hits.hits.map((h) => h._id), ['d5', 'd6', 'd7', 'd8', 'd9'])
})

t.test('resetNth midBody: the client sees a connection error, and a scroll cursor stays put', async (t) => {
  const { server } = await serverFor(t)
  const client = new Client({ node: server.url, maxRetries: 0 })
  t.teardown(() => client.close())
  server.addDocs('f', docs(6))
  const first = await client.search({ index: 'f', scroll: '1m', size: 2 })
  server.faults.resetNth(1, { midBody: true })
  const err = await client.scroll({ scroll_id: first._scroll_id as string, scroll: '1m' }).catch((e: unknown) => e)
  t.type(err, errors.ConnectionError)
  const page = await client.scroll({ scroll_id: first._scroll_id as string, scroll: '1m' })
  t.strictSame(page.hits.hits.map((h) => h._id), ['d2', 'd3'])
})

t.test('resetNth before any byte is a connection error too, retried by the default client', async (t) => {
  const { server, client } = await serverFor(t)
  const strict = new Client({ node: server.url, maxRetries: 0 })
  t.teardown(() => strict.close())
  server.addDocs('f', docs(3))
  server.faults.resetNth(1)
  await t.rejects(strict.search({ index: 'f' }), errors.ConnectionError)
  server.faults.resetNth(1)
  t.equal((await client.search({ index: 'f' })).hits.hits.length, 3)
})

t.test('shardFailureNth: a 200 with one of two shards failed and part of the hits', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('f', docs(10))
  server.faults.shardFailureNth(1)
  const res = await client.search({ index: 'f', size: 10 })
  t.hasStrict(res._shards, { total: 2, successful: 1, failed: 1 })
  t.match(res._shards.failures?.[0], { shard: Number, index: 'f', reason: { type: String, reason: String } })
  t.ok(res.hits.hits.length > 0 && res.hits.hits.length < 10)
})

t.test('expireNth: the named PIT has expired (404 search_context_missing_exception)', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('f', docs(3))
  const pit = (await client.openPointInTime({ index: 'f', keep_alive: '1m' })).id
  server.faults.expireNth(2)
  await client.search({ pit: { id: pit } })
  const gone = await raw(server, 'POST', '/_search', { pit: { id: pit } })
  t.equal(gone.status, 404)
  t.equal(errorOf(gone.json).rootType, 'search_context_missing_exception')
  t.equal(server.openPits(), 0)
})

t.test('latencyMs delays every response', async (t) => {
  const { server, client } = await serverFor(t)
  server.faults.latencyMs = 150
  const start = Date.now()
  await client.info()
  t.ok(Date.now() - start >= 140)
  server.faults.reset()
  t.equal(server.faults.latencyMs, 0)
})
