// _bulk and the index APIs around it, as Elasticsearch 8 answers them (ES-NOTES "_bulk"):
// one test per fact, through the real client where it can say it and raw HTTP where it hides it.
import t from 'tap'
import { errorOf, raw, serverFor } from './es/testing.js'

const NDJSON = { 'content-type': 'application/x-ndjson' }

type Item = Record<string, { _id?: string | null, status: number, result?: string, error?: { type: string, reason: string, caused_by?: { type: string, reason: string } } }>

function items (json: unknown): Array<Item[string]> {
  return (json as { items: Item[] }).items.map((i) => Object.values(i)[0] as Item[string])
}

t.test('per-item results in request order: created, updated, deleted, not_found, version conflict, document missing', async (t) => {
  const { server } = await serverFor(t)
  const body = [
    '{"index":{"_index":"b","_id":"1"}}', '{"a":1}',
    '{"index":{"_index":"b","_id":"1"}}', '{"a":2}',
    '{"create":{"_index":"b","_id":"1"}}', '{"a":3}',
    '{"update":{"_index":"b","_id":"nope"}}', '{"doc":{"a":4}}',
    '{"delete":{"_index":"b","_id":"nope"}}',
    '{"delete":{"_index":"b","_id":"1"}}'
  ].join('\n') + '\n'
  const res = await raw(server, 'POST', '/_bulk', body, NDJSON)
  t.equal(res.status, 200, 'always 200 once the request parses')
  t.equal((res.json as { errors: boolean }).errors, true)
  const got = items(res.json)
  t.strictSame(got.map((i) => i.status), [201, 200, 409, 404, 404, 200])
  t.strictSame(got.map((i) => i.result), ['created', 'updated', undefined, undefined, 'not_found', 'deleted'])
  t.equal(got[2]?.error?.type, 'version_conflict_engine_exception')
  t.equal(got[2]?.error?.reason, '[1]: version conflict, document already exists (current version [2])')
  t.equal(got[3]?.error?.type, 'document_missing_exception')
  t.equal(got[3]?.error?.reason, '[nope]: document missing')
  t.equal(got[4]?.error, undefined, 'deleting a missing id is not an error')
})

t.test('a field first seen as a long refuses a string that is not a number (document_parsing_exception), and only that item', async (t) => {
  const { client } = await serverFor(t)
  const res = await client.bulk({ operations: [{ index: { _index: 'm', _id: '1' } }, { n: 5 }, { index: { _index: 'm', _id: '2' } }, { n: 'abc' }, { index: { _index: 'm', _id: '3' } }, { n: '7' }] })
  t.equal(res.errors, true)
  t.strictSame(res.items.map((i) => i.index?.status), [201, 400, 201], 'numeric strings are coerced')
  const err = res.items[1]?.index?.error
  t.equal(err?.type, 'document_parsing_exception')
  t.match(err?.reason, /^\[1:\d+\] failed to parse field \[n\] of type \[long\] in document with id '2'\. Preview of field's value: 'abc'$/)
  t.strictSame(err?.caused_by, { type: 'illegal_argument_exception', reason: 'For input string: "abc"' })
  t.strictSame((await client.indices.getMapping({ index: 'm' })).m?.mappings.properties?.n, { type: 'long' })
  t.equal((await client.count({ index: 'm' })).count, 2)
})

t.test('a refused document maps nothing; objects and concrete values do not mix', async (t) => {
  const { server } = await serverFor(t)
  const body = '{"index":{"_index":"m","_id":"1"}}\n{"host":{"name":"a"}}\n{"index":{"_index":"m","_id":"2"}}\n{"fresh":1,"host":"b"}\n'
  const got = items((await raw(server, 'POST', '/_bulk', body, NDJSON)).json)
  t.equal(got[1]?.status, 400)
  t.match(got[1]?.error?.reason, /object mapping for \[host\] tried to parse field \[host\] as object, but found a concrete value/)
  const mapping = (await raw(server, 'GET', '/m/_mapping')).json as { m: { mappings: { properties: Record<string, unknown> } } }
  t.notOk('fresh' in mapping.m.mappings.properties, 'the refused document added no field')
})

t.test('dynamic: strict refuses a new field (strict_dynamic_mapping_exception); dynamic: false takes it unmapped', async (t) => {
  const { server, client } = await serverFor(t)
  await client.indices.create({ index: 's', mappings: { dynamic: 'strict', properties: { a: { type: 'keyword' }, o: { type: 'object', dynamic: false } } } })
  const body = '{"index":{"_index":"s","_id":"1"}}\n{"a":"x","b":1}\n{"index":{"_index":"s","_id":"2"}}\n{"a":"y","o":{"free":1}}\n'
  const got = items((await raw(server, 'POST', '/_bulk', body, NDJSON)).json)
  t.equal(got[0]?.status, 400)
  t.equal(got[0]?.error?.type, 'strict_dynamic_mapping_exception')
  t.match(got[0]?.error?.reason, /^\[1:\d+\] mapping set to strict, dynamic introduction of \[b\] within \[_doc\] is not allowed$/)
  t.equal(got[1]?.status, 201)
})

t.test('number limits: long range, float finiteness; a keyword takes any number as its text, _source kept byte for byte', async (t) => {
  const { server } = await serverFor(t)
  await raw(server, 'PUT', '/n', { mappings: { properties: { l: { type: 'long' }, f: { type: 'float' }, k: { type: 'keyword' } } } })
  const docs = ['{"l":9223372036854775807}', '{"l":9223372036854775808}', '{"f":1e400}', '{"k":1e400,"l":-0}']
  const body = docs.map((d, i) => `{"index":{"_index":"n","_id":"${i}"}}\n${d}\n`).join('')
  const got = items((await raw(server, 'POST', '/_bulk', body, NDJSON)).json)
  t.strictSame(got.map((i) => i.status), [201, 400, 400, 201])
  t.match(got[1]?.error?.reason, /failed to parse field \[l\] of type \[long\]/)
  t.match(got[2]?.error?.caused_by?.reason, /\[float\] supports only finite values, but got \[Infinity\]/)
  t.equal(server.storedSource('n', '0'), docs[0])
  t.equal(server.storedSource('n', '3'), docs[3])
})

t.test('an empty _id is refused per item; an unknown action parameter fails the whole request', async (t) => {
  const { server } = await serverFor(t)
  const got = items((await raw(server, 'POST', '/_bulk', '{"index":{"_index":"e","_id":""}}\n{"f":1}\n{"index":{"_index":"e"}}\n{"f":2}\n', NDJSON)).json)
  t.equal(got[0]?.status, 400)
  t.strictSame(got[0]?.error, { type: 'illegal_argument_exception', reason: 'if _id is specified it must not be empty' })
  t.equal(got[1]?.result, 'created', 'no _id: the server assigns one')
  const bad = await raw(server, 'POST', '/_bulk', '{"index":{"_index":"e","_id":"1","_routing":"r"}}\n{"f":1}\n', NDJSON)
  t.equal(bad.status, 400)
  t.equal(errorOf(bad.json).reason, 'Action/metadata line [1] contains an unknown parameter [_routing]')
  const param = await raw(server, 'POST', '/_bulk?nonsense=1', '{"index":{"_index":"e","_id":"1"}}\n{"f":1}\n', NDJSON)
  t.equal(param.status, 400)
  t.equal(errorOf(param.json).reason, 'request [/_bulk] contains unrecognized parameter: [nonsense]')
})

t.test('an id over 512 bytes fails request validation, and with it the whole request', async (t) => {
  const { server } = await serverFor(t)
  const long = 'x'.repeat(513)
  const res = await raw(server, 'POST', '/_bulk', `{"index":{"_index":"v","_id":"ok"}}\n{"f":1}\n{"index":{"_index":"v","_id":"${long}"}}\n{"f":2}\n`, NDJSON)
  t.equal(res.status, 400)
  t.equal(errorOf(res.json).type, 'action_request_validation_exception')
  t.equal(errorOf(res.json).reason, `Validation Failed: 1: id [${long}] is too long, must be no longer than 512 bytes but was: 513;`)
  t.equal((await raw(server, 'HEAD', '/v')).status, 404, 'nothing written')
})

t.test('routing is stored and comes back as _routing in hits', async (t) => {
  const { server, client } = await serverFor(t)
  await raw(server, 'POST', '/_bulk', '{"index":{"_index":"r","_id":"1","routing":"user7"}}\n{"f":1}\n', NDJSON)
  const hit = (await client.search({ index: 'r' })).hits.hits[0]
  t.equal(hit?._routing, 'user7')
})

t.test('update: a partial document merges deeply; the same document again is a noop; doc_as_upsert creates', async (t) => {
  const { server } = await serverFor(t)
  await raw(server, 'POST', '/_bulk', '{"index":{"_index":"u","_id":"1"}}\n{"a":{"x":1,"y":2},"b":1}\n', NDJSON)
  const body = '{"update":{"_index":"u","_id":"1"}}\n{"doc":{"a":{"y":3}}}\n{"update":{"_index":"u","_id":"1"}}\n{"doc":{"a":{"y":3}}}\n{"update":{"_index":"u","_id":"2"}}\n{"doc":{"z":1},"doc_as_upsert":true}\n'
  const got = items((await raw(server, 'POST', '/_bulk', body, NDJSON)).json)
  t.strictSame(got.map((i) => [i.status, i.result]), [[200, 'updated'], [200, 'noop'], [201, 'created']])
  t.strictSame(JSON.parse(server.storedSource('u', '1') as string), { a: { x: 1, y: 3 }, b: 1 })
})

t.test('filter_path keeps what is asked on success (every item kept while each has a status), never filters an error', async (t) => {
  const { server } = await serverFor(t)
  const body = '{"index":{"_index":"f","_id":"1"}}\n{"n":1}\n{"index":{"_index":"f","_id":"2"}}\n{"n":"x"}\n'
  const res = await raw(server, 'POST', '/_bulk?filter_path=errors,items.*.status,items.*.error.type', body, NDJSON)
  t.strictSame(res.json, { errors: true, items: [{ index: { status: 201 } }, { index: { status: 400, error: { type: 'document_parsing_exception' } } }] })
  const onlyErrors = await raw(server, 'POST', '/_bulk?filter_path=items.*.error', '{"index":{"_index":"f","_id":"3"}}\n{"n":3}\n', NDJSON)
  t.strictSame(onlyErrors.json, {}, 'nothing matched: {}')
  const error = await raw(server, 'POST', '/_bulk?filter_path=items.*.status', '{"index":{"_index":"f"}}\n{"n":1}', NDJSON)
  t.equal(error.status, 400)
  t.equal(errorOf(error.json).type, 'illegal_argument_exception', 'the error body is whole')
  const deep = await raw(server, 'GET', '/f/_search?filter_path=hits.hits._id,-**._score')
  t.strictSame(deep.json, { hits: { hits: [{ _id: '1' }, { _id: '3' }] } })
})

t.test('a request over http.max_content_length gets 413 with an empty body and no product header', async (t) => {
  const { server } = await serverFor(t, { maxContentLength: 1024 })
  const big = '{"index":{"_index":"x","_id":"1"}}\n' + JSON.stringify({ pad: 'p'.repeat(2000) }) + '\n'
  const res = await raw(server, 'POST', '/_bulk', big, NDJSON)
  t.equal(res.status, 413)
  t.equal(res.text, '')
  t.equal(res.headers.get('x-elastic-product'), null)
  const small = await raw(server, 'POST', '/_bulk', '{"index":{"_index":"x","_id":"1"}}\n{"a":1}\n', NDJSON)
  t.equal(small.status, 200, 'the same connection goes on')
})

t.test('rejectBulkItems: a seeded share of items gets a per-item 429 while the rest are written', async (t) => {
  const { server, client } = await serverFor(t)
  server.faults.rejectBulkItems(0.3, { seed: 7 })
  const operations = Array.from({ length: 200 }, (_v, i) => [{ index: { _index: 'q', _id: `d${i}` } }, { i }]).flat()
  const res = await client.bulk({ operations })
  const refused = res.items.filter((i) => i.index?.status === 429)
  t.ok(refused.length > 30 && refused.length < 90, `${refused.length} of 200 refused`)
  t.equal(refused[0]?.index?.error?.type, 'es_rejected_execution_exception')
  t.strictSame(Object.keys(refused[0]?.index?.error ?? {}).sort(), ['reason', 'type'], 'the type and the reason only, as a full write queue answers')
  t.match(refused[0]?.index?.error?.reason, /^rejected execution of \S+ on EsThreadPoolExecutor\[name = [^\]]+\/write, queue capacity = \d+/)
  t.equal(server.faults.rejectedItems, refused.length)
  t.equal((await client.count({ index: 'q' })).count, 200 - refused.length, 'refused items were not written')
})

t.test('rejectBulkItems in the OpenSearch dialect: rejected_execution_exception from its OpenSearchThreadPoolExecutor, as OpenSearch 2.19 and 3.3 nodes answer', async (t) => {
  const { server } = await serverFor(t, { distribution: 'opensearch' })
  server.faults.rejectBulkItems(1, { items: 1 })
  const res = await raw(server, 'POST', '/_bulk', '{"index":{"_index":"q","_id":"1"}}\n{"a":1}\n{"index":{"_index":"q","_id":"2"}}\n{"a":2}\n', NDJSON)
  const items = (res.json as { items: Array<{ index: { status: number, error?: { type: string, reason: string } } }> }).items
  t.strictSame(items.map((i) => i.index.status), [429, 201])
  t.equal(items[0]?.index.error?.type, 'rejected_execution_exception')
  t.match(items[0]?.index.error?.reason, /^rejected execution of \S+ on OpenSearchThreadPoolExecutor\[name = [^\]]+\/write, queue capacity = \d+/)
})

t.test('index creation with mappings and settings; unknown settings and field types are refused and create nothing', async (t) => {
  const { server, client } = await serverFor(t)
  await client.indices.create({ index: 'c', settings: { number_of_shards: 1, refresh_interval: '30s' }, mappings: { properties: { k: { type: 'keyword' }, at: { type: 'date' } } } })
  const got = (await raw(server, 'GET', '/c')).json as { c: { settings: { index: Record<string, string> }, mappings: { properties: Record<string, unknown> } } }
  t.equal(got.c.settings.index.refresh_interval, '30s')
  t.strictSame(got.c.mappings.properties.k, { type: 'keyword' })
  const badSetting = await raw(server, 'PUT', '/d', { settings: { 'index.bogus': 1 } })
  t.equal(badSetting.status, 400)
  t.match(errorOf(badSetting.json).reason, /^unknown setting \[index\.bogus\]/)
  const badType = await raw(server, 'PUT', '/d', { mappings: { properties: { x: { type: 'nosuch' } } } })
  t.equal(badType.status, 400)
  t.equal(errorOf(badType.json).type, 'mapper_parsing_exception')
  t.match(errorOf(badType.json).reason, /No handler for type \[nosuch\] declared on field \[x\]/)
  t.equal((await raw(server, 'HEAD', '/d')).status, 404, 'nothing created')
  const date = await client.bulk({ operations: [{ index: { _index: 'c', _id: '1' } }, { at: 'yesterday' }] })
  t.match(date.items[0]?.index?.error?.caused_by?.reason, /failed to parse date field \[yesterday\]/)
})

t.test('ingest pipelines: pipeline= runs set/remove processors; a missing pipeline is a per-item 400', async (t) => {
  const { server } = await serverFor(t)
  t.equal((await raw(server, 'PUT', '/_ingest/pipeline/tag', { processors: [{ set: { field: 'via', value: 'espipe' } }, { remove: { field: 'drop' } }] })).status, 200)
  const unknown = await raw(server, 'PUT', '/_ingest/pipeline/bad', { processors: [{ grok: { field: 'x' } }] })
  t.equal(unknown.status, 400)
  t.match(errorOf(unknown.json).reason, /No processor type exists with name \[grok\]/)
  await raw(server, 'POST', '/_bulk?pipeline=tag', '{"index":{"_index":"p","_id":"1"}}\n{"a":1,"drop":2}\n', NDJSON)
  t.strictSame(JSON.parse(server.storedSource('p', '1') as string), { a: 1, via: 'espipe' })
  const missing = items((await raw(server, 'POST', '/_bulk?pipeline=nope', '{"index":{"_index":"p","_id":"2"}}\n{"a":1}\n', NDJSON)).json)
  t.strictSame(missing[0]?.error, { type: 'illegal_argument_exception', reason: 'pipeline with id [nope] does not exist' })
})

t.test('a key given twice in a document is refused for that item (Jackson strict duplicate detection), and in an update body for the whole request', async (t) => {
  for (const distribution of ['elasticsearch', 'opensearch'] as const) {
    const { server } = await serverFor(t, { distribution })
    const body = '{"index":{"_index":"d","_id":"1"}}\n{"a":1,"a":2}\n{"index":{"_index":"d","_id":"2"}}\n{"n":{"a":1},"m":{"q":[{"z":1,"z":2}]}}\n{"index":{"_index":"d","_id":"3"}}\n{"a" : 1 , "a" : 2}\n{"index":{"_index":"d","_id":"4"}}\n{"a":1,"b":{"a":2}}\n'
    const got = items((await raw(server, 'POST', '/_bulk', body, NDJSON)).json)
    t.strictSame(got.map((i) => i.status), [400, 400, 400, 201], `${distribution}: the same key in two objects is no duplicate`)
    const jackson = (key: string, column: number): string => `Duplicate field '${key}'\n at [Source: REDACTED (\`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION\` disabled); line: 1, column: ${column}]`
    t.strictSame(got.slice(0, 3).map((i) => i.error?.caused_by), [
      { type: 'json_parse_exception', reason: jackson('a', 11) },
      { type: 'json_parse_exception', reason: jackson('z', 34) },
      { type: 'json_parse_exception', reason: jackson('a', 15) }
    ], `${distribution}: where the parser stopped, just past the repeated name`)
    if (distribution === 'opensearch') t.strictSame(got[0]?.error && { type: got[0].error.type, reason: got[0].error.reason }, { type: 'mapper_parsing_exception', reason: 'failed to parse' })
    else t.strictSame(got[0]?.error && { type: got[0].error.type, reason: got[0].error.reason }, { type: 'document_parsing_exception', reason: `[1:11] failed to parse: ${jackson('a', 11)}` })
    const update = await raw(server, 'POST', '/_bulk', '{"index":{"_index":"d","_id":"5"}}\n{"a":1}\n{"update":{"_index":"d","_id":"5"}}\n{"doc":{"a":1,"a":2}}\n', NDJSON)
    t.equal(update.status, 400, `${distribution}: an update body is parsed with the request`)
    t.hasStrict(errorOf(update.json), { type: 'x_content_parse_exception', reason: '[1:13] [UpdateRequest] failed to parse field [doc]' })
    t.equal((await raw(server, 'GET', '/d/_doc/5')).status, 404, 'nothing of that request was written')
  }
})

t.test('refresh_interval -1: searches and _count see writes only after _refresh or refresh=true; GET by id is realtime', async (t) => {
  const { server } = await serverFor(t)
  t.equal((await raw(server, 'PUT', '/r', { settings: { refresh_interval: '-1' } })).status, 200)
  await raw(server, 'POST', '/_bulk', '{"index":{"_index":"r","_id":"1"}}\n{"a":1}\n', NDJSON)
  const count = async (): Promise<number> => ((await raw(server, 'GET', '/r/_count')).json as { count: number }).count
  t.equal(await count(), 0, 'not searchable before a refresh')
  t.equal((await raw(server, 'GET', '/r/_doc/1')).status, 200, 'GET by id sees it')
  t.equal((await raw(server, 'POST', '/r/_refresh')).status, 200)
  t.equal(await count(), 1, 'after _refresh')
  await raw(server, 'POST', '/_bulk?refresh=true', '{"index":{"_index":"r","_id":"2"}}\n{"a":2}\n', NDJSON)
  t.equal(await count(), 2, 'a _bulk with refresh=true')
  await raw(server, 'PUT', '/r/_doc/3?refresh=wait_for', { a: 3 })
  t.equal(await count(), 3, 'a document write with refresh=wait_for')
  await raw(server, 'DELETE', '/r/_doc/3')
  t.equal(await count(), 3, 'a delete is not seen before a refresh either')
  await raw(server, 'POST', '/_refresh')
  t.equal(await count(), 2)
})
