import t from 'tap'
import { Client, errors } from '@elastic/elasticsearch'
import { docs, errorOf, raw, serverFor, failure } from './es/testing.js'

t.test('GET / reports what elasticdump and clients read', async (t) => {
  const { client, server } = await serverFor(t)
  const info = await client.info()
  t.equal(info.version.number, '8.19.0')
  t.equal(info.version.build_flavor, 'default')
  t.type(info.version.lucene_version, 'string')
  t.equal(info.tagline, 'You Know, for Search')
  const nine = await serverFor(t, { version: '9.1.0' })
  t.equal((await nine.client.info()).version.number, '9.1.0')
  t.ok(server.requests.some((r) => r.method === 'GET' && r.path === '/'))
})

t.test('every response carries x-elastic-product and a JSON content type, errors included', async (t) => {
  const { server } = await serverFor(t)
  for (const [method, path] of [['GET', '/'], ['GET', '/missing/_search'], ['PUT', '/_search/scroll']] as const) {
    const res = await raw(server, method, path)
    t.equal(res.headers.get('x-elastic-product'), 'Elasticsearch', `${method} ${path}`)
    t.match(res.headers.get('content-type'), /application\/json/)
  }
})

t.test('the real client passes its product check and gets vnd.elasticsearch+json back', async (t) => {
  const { client, server } = await serverFor(t)
  server.addDocs('p', docs(3))
  const res = await client.search({ index: 'p' }, { meta: true })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /application\/vnd\.elasticsearch\+json;\s*compatible-with=8/)
})

t.test('a compatible-with=9 header is refused by an 8.x server, accepted by a 9.x one', async (t) => {
  const { server } = await serverFor(t)
  const h = { accept: 'application/vnd.elasticsearch+json; compatible-with=9' }
  const res = await raw(server, 'GET', '/', undefined, h)
  t.equal(res.status, 400)
  t.equal(errorOf(res.json).type, 'media_type_header_exception')
  const nine = await serverFor(t, { version: '9.0.0' })
  t.equal((await raw(nine.server, 'GET', '/', undefined, h)).status, 200)
  t.equal((await raw(nine.server, 'GET', '/', undefined, { accept: 'application/vnd.elasticsearch+json; compatible-with=8' })).status, 200)
})

t.test('_bulk indexes, reports per-item status and always answers 200', async (t) => {
  const { client, server } = await serverFor(t)
  const res = await client.bulk({
    operations: [
      { index: { _index: 'b', _id: '1' } }, { a: 1 },
      { create: { _index: 'b', _id: '1' } }, { a: 2 },
      { delete: { _index: 'b', _id: 'nope' } },
      { index: { _index: 'b' } }, { a: 3 },
    ],
  })
  t.equal(res.errors, true)
  t.strictSame(res.items.map((i) => Object.values(i)[0]?.status), [201, 409, 404, 201])
  t.equal(res.items[1]?.create?.error?.type, 'version_conflict_engine_exception')
  t.match(res.items[3]?.index?._id, /^[A-Za-z0-9_-]{20}$/)
  t.equal((await client.count({ index: 'b' })).count, 2)
  const ok = await raw(server, 'POST', '/b/_bulk', '{"index":{"_id":"9"}}\n{"z":1}\n', { 'content-type': 'application/x-ndjson' })
  t.equal(ok.status, 200)
  t.equal((ok.json as { errors: boolean }).errors, false)
})

t.test('_bulk without a final newline is a 400', async (t) => {
  const { server } = await serverFor(t)
  const res = await raw(server, 'POST', '/_bulk', '{"index":{"_index":"x","_id":"1"}}\n{"a":1}', { 'content-type': 'application/x-ndjson' })
  t.equal(res.status, 400)
  t.equal(errorOf(res.json).type, 'illegal_argument_exception')
  t.match(errorOf(res.json).reason, /terminated by a newline/)
})

t.test('index create, HEAD, delete and doc round trip with the client', async (t) => {
  const { client } = await serverFor(t)
  t.strictSame(await client.indices.create({ index: 'i', mappings: { properties: { k: { type: 'keyword' } } } }), { acknowledged: true, shards_acknowledged: true, index: 'i' })
  t.equal(await client.indices.exists({ index: 'i' }), true)
  t.equal(await client.indices.exists({ index: 'j' }), false)
  t.hasStrict(await failure(client.indices.create({ index: 'i' })), { meta: { statusCode: 400, body: { error: { type: 'resource_already_exists_exception' } } } })
  const put = await client.index({ index: 'i', id: 'x', document: { k: 'v' } })
  t.equal(put.result, 'created')
  t.strictSame((await client.get({ index: 'i', id: 'x' }))._source, { k: 'v' })
  await client.indices.refresh({ index: 'i' })
  t.strictSame(await client.indices.delete({ index: 'i' }), { acknowledged: true })
  t.equal(await client.indices.exists({ index: 'i' }), false)
})

t.test('index names arrive URL-encoded, as comma lists and wildcards', async (t) => {
  const { server } = await serverFor(t)
  server.addDocs('a1', docs(2, 'a'))
  server.addDocs('b1', docs(3, 'b'))
  const both = await raw(server, 'POST', '/a1%2Cb1/_count', { query: { match_all: {} } })
  t.equal((both.json as { count: number }).count, 5)
  const wild = await raw(server, 'GET', '/a*/_count')
  t.equal((wild.json as { count: number }).count, 2)
  const none = await raw(server, 'GET', '/zz*/_search')
  t.equal(none.status, 200)
  t.strictSame((none.json as { hits: { hits: unknown[] } }).hits.hits, [])
})

t.test('a concrete index that does not exist is 404 index_not_found_exception', async (t) => {
  const { client, server } = await serverFor(t)
  server.addDocs('here', docs(1))
  const err = await client.search({ index: 'here,gone' }).catch((e: unknown) => e)
  t.type(err, errors.ResponseError)
  const body = (err as errors.ResponseError).meta.body as unknown
  t.equal((err as errors.ResponseError).statusCode, 404)
  t.hasStrict(body, { error: { root_cause: [{ type: 'index_not_found_exception', reason: 'no such index [gone]', index: 'gone' }], type: 'index_not_found_exception', index: 'gone' }, status: 404 })
})

t.test('a wrong method on a known path is 405; an unknown endpoint is not a silent 200', async (t) => {
  const { server } = await serverFor(t)
  const wrong = await raw(server, 'PUT', '/_search/scroll')
  t.equal(wrong.status, 405)
  t.match(wrong.json, { error: /Incorrect HTTP method for uri \[\/_search\/scroll\] and method \[PUT\]/, status: 405 })
  const unknown = await raw(server, 'GET', '/_nothing/here/at/all')
  t.equal(unknown.status, 400)
  t.match(unknown.json, { error: /no handler found/, status: 400 })
})

t.test('with auth configured: 401 with WWW-Authenticate, Basic and ApiKey accepted', async (t) => {
  const auth = { basic: { username: 'elastic', password: 's3cret' }, apiKey: { id: 'kid', key: 'kkey' } }
  const { server } = await serverFor(t, { auth })
  const none = await raw(server, 'GET', '/_search')
  t.equal(none.status, 401)
  t.ok(none.headers.get('www-authenticate'))
  t.equal(errorOf(none.json).type, 'security_exception')
  const bad = await raw(server, 'GET', '/_search', undefined, { authorization: 'Basic ' + Buffer.from('elastic:nope').toString('base64') })
  t.equal(bad.status, 401)
  t.equal(errorOf(bad.json).reason, 'unable to authenticate user [elastic] for REST request [/_search]')
  const basic = new Client({ node: server.url, auth: { username: 'elastic', password: 's3cret' } })
  const apiKey = new Client({ node: server.url, auth: { apiKey: Buffer.from('kid:kkey').toString('base64') } })
  const wrongKey = new Client({ node: server.url, auth: { apiKey: Buffer.from('kid:other').toString('base64') } })
  t.teardown(() => Promise.all([basic.close(), apiKey.close(), wrongKey.close()]))
  t.equal((await basic.info()).version.number, '8.19.0')
  t.equal((await apiKey.info()).version.number, '8.19.0')
  t.hasStrict(await failure(wrongKey.info()), { meta: { statusCode: 401, body: { error: { type: 'security_exception' } } } })
})

t.test('a gzipped request body is read; with httpCompression an answer is gzipped when the client accepts it', async (t) => {
  const { server } = await serverFor(t, { httpCompression: true })
  server.addDocs('logs', docs(3))
  const gzipping = new Client({ node: server.url, compression: true })
  t.teardown(async () => await gzipping.close())
  const res = await gzipping.search({ index: 'logs', query: { match_all: {} } }, { meta: true })
  t.equal(res.headers['content-encoding'], 'gzip')
  t.equal(res.body.hits.hits.length, 3)
  const search = server.requests.find((r) => r.path === '/logs/_search')
  t.equal(search?.headers['content-encoding'], 'gzip', 'the body came gzipped')
  t.strictSame(search?.body, { query: { match_all: {} } })
  const plain = await raw(server, 'POST', '/logs/_search', { size: 1 })
  t.equal(plain.status, 200)
  t.equal(plain.headers.get('content-encoding'), null, 'no Accept-Encoding, no gzip')
})

t.test('403 and 429 bodies are shaped like ES', async (t) => {
  const { client, server } = await serverFor(t)
  server.faults.failNth(1, 403)
  server.faults.failNth(2, 429)
  server.faults.failNth(3, 429, { type: 'circuit_breaking_exception' })
  const e403 = (await client.search({}).catch((e: unknown) => e)) as errors.ResponseError
  t.equal(e403.statusCode, 403)
  t.match(errorOf(e403.meta.body).reason, /^action \[indices:data\/read\/search\] is unauthorized for user/)
  const e429 = (await client.search({}).catch((e: unknown) => e)) as errors.ResponseError
  t.equal(e429.statusCode, 429)
  t.equal(errorOf(e429.meta.body).type, 'es_rejected_execution_exception')
  const cb = (await client.search({}).catch((e: unknown) => e)) as errors.ResponseError
  t.equal(errorOf(cb.meta.body).type, 'circuit_breaking_exception')
  t.equal(errorOf(cb.meta.body).status, 429)
})
