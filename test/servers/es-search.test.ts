import t from 'tap'
import { docs, errorOf, raw, serverFor } from './es/testing.js'

t.test('hit shape, hits.total capped at 10000 by default, exact with true, absent with false', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('big', Array.from({ length: 10005 }, (_, i) => ({ _source: { n: i } })))
  const dflt = await client.search({ index: 'big', size: 1 })
  t.strictSame(dflt.hits.total, { value: 10000, relation: 'gte' })
  const hit = dflt.hits.hits[0] as unknown as Record<string, unknown>
  t.strictSame(Object.keys(hit).sort(), ['_id', '_index', '_score', '_source'])
  t.strictSame((await client.search({ index: 'big', size: 0, track_total_hits: true })).hits.total, { value: 10005, relation: 'eq' })
  t.equal((await client.search({ index: 'big', size: 0, track_total_hits: false })).hits.total, undefined)
})

t.test('_source filtering and fields', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('f', [{ _id: '1', _source: { a: { b: 1, c: 2 }, d: 'x', t: '2024-01-02' } }])
  const src = async (_source: unknown): Promise<unknown> => (await client.search({ index: 'f', _source: _source as never })).hits.hits[0]?._source
  t.strictSame(await src(false), undefined)
  t.strictSame(await src('a.b'), { a: { b: 1 } })
  t.strictSame(await src(['a', 'd']), { a: { b: 1, c: 2 }, d: 'x' })
  t.strictSame(await src({ includes: ['a.*'], excludes: ['a.c'] }), { a: { b: 1 } })
  const f = await client.search({ index: 'f', fields: ['a.b', 'd', 't'], _source: false })
  t.strictSame(f.hits.hits[0]?.fields, { 'a.b': [1], d: ['x'], t: ['2024-01-02T00:00:00.000Z'] })
})

t.test('queries: term, terms, range with date rounding, exists, ids, bool, query_string', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('q', docs(48))
  const count = async (query: unknown): Promise<number> => (await client.count({ index: 'q', query: query as never })).count
  t.equal(await count({ term: { 'group.keyword': 'g1' } }), 16)
  t.equal(await count({ terms: { n: [1, 2, 100] } }), 2)
  t.equal(await count({ range: { '@timestamp': { gte: '2024-01-01', lte: '2024-01-01' } } }), 24, 'lte on a day covers the whole day')
  t.equal(await count({ range: { '@timestamp': { gte: '2024-01-01T10:00:00Z||/d', lt: '2024-01-02T00:00:00Z', format: 'strict_date_optional_time' } } }), 24)
  t.equal(await count({ range: { n: { gt: 10, lte: 20 } } }), 10)
  t.equal(await count({ exists: { field: 'missing' } }), 0)
  t.equal(await count({ ids: { values: ['d1', 'd2', 'zz'] } }), 2)
  t.equal(await count({ bool: { filter: [{ range: { n: { lt: 10 } } }], must_not: [{ term: { n: 0 } }], should: [{ term: { n: 1 } }, { term: { n: 2 } }] } }), 9, 'should optional beside filter')
  t.equal(await count({ bool: { should: [{ term: { n: 1 } }, { term: { n: 2 } }] } }), 2, 'should alone needs one match')
  t.equal(await count({ query_string: { query: 'n:[1 TO 5] AND NOT group.keyword:g1' } }), 3)
  t.equal(await count({ query_string: { query: '*' } }), 48)
})

t.test('what the server does not support is a 400 naming it, never a wrong answer', async (t) => {
  const { server } = await serverFor(t)
  server.addDocs('q', docs(3))
  const unknown = await raw(server, 'POST', '/q/_search', { query: { fuzzy: { group: 'g' } } })
  t.equal(unknown.status, 400)
  t.equal(errorOf(unknown.json).type, 'parsing_exception')
  t.match(errorOf(unknown.json).reason, /fuzzy/)
  const aggs = await raw(server, 'POST', '/q/_search', { aggs: { x: { terms: { field: 'n' } } } })
  t.equal(aggs.status, 400)
  t.match(errorOf(aggs.json).reason, /aggs/)
  const textSort = await raw(server, 'POST', '/q/_search', { sort: ['group'] })
  t.equal(textSort.status, 400)
  t.match(errorOf(textSort.json).rootReason, /Fielddata is disabled on \[group\]/)
})

t.test('from/size paging and sort orders', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('o', docs(12))
  const res = await client.search({ index: 'o', from: 2, size: 3, sort: [{ n: { order: 'desc' } }] })
  t.strictSame(res.hits.hits.map((h) => h._id), ['d9', 'd8', 'd7'])
  t.strictSame(res.hits.hits[0]?.sort, [9])
  t.equal(res.hits.hits[0]?._score, null)
  const window = await raw(server, 'POST', '/o/_search', { from: 9999, size: 2 })
  t.equal(window.status, 400)
  t.match(errorOf(window.json).rootReason, /Result window is too large/)
})
