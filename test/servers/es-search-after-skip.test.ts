// Conformance: OpenSearch's search_after skipping (es/search-after-skip.ts). Each answer here is
// the one a real OpenSearch 2.19.1 node gave to the same requests on the same layout: an index of
// one shard written in three refreshes (three segments), and a second index of one shard.
import t from 'tap'
import type { Test } from 'tap'
import { errorOf, raw, serverFor } from './es/testing.js'
import type { EsTestServer } from './es/server.js'

const MAPPINGS = { properties: { n: { type: 'long' }, k: { type: 'keyword' }, t: { type: 'date' } } }

/** `seg`: segments {a:1, b:-}, {y:3, c:-}, {z:5}; `segb`: {p:2, q:-} (- lacks n, k and t). */
async function layout(t: Test, opts: { distribution?: 'opensearch' | 'elasticsearch'; version?: string } = {}): Promise<EsTestServer> {
  const { server } = await serverFor(t, { distribution: 'opensearch', version: '2.19.1', ...opts })
  for (const index of ['seg', 'segb']) {
    const created = await raw(server, 'PUT', `/${index}`, { settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: MAPPINGS })
    t.equal(created.status, 200, `${index} created`)
  }
  const doc = (index: string, id: string, n?: number): string =>
    `{"index":{"_index":"${index}","_id":"${id}"}}\n${n === undefined ? '{}' : JSON.stringify({ n, k: id, t: `2024-01-0${n}` })}\n`
  for (const bulk of [doc('seg', 'a', 1) + doc('seg', 'b'), doc('seg', 'y', 3) + doc('seg', 'c'), doc('seg', 'z', 5), doc('segb', 'p', 2) + doc('segb', 'q')]) {
    const res = await raw(server, 'POST', '/_bulk?refresh=true', bulk, { 'content-type': 'application/x-ndjson' })
    t.equal((res.json as { errors: boolean }).errors, false, 'bulk accepted')
  }
  return server
}

interface Page { status: number; ids: string[]; shards?: { total: number; successful: number; skipped: number; failed: number } }

async function page(server: EsTestServer, indices: string, sort: unknown, after: string, track: string = '"track_total_hits":false,'): Promise<Page> {
  const opened = await raw(server, 'POST', `/${indices}/_search/point_in_time?keep_alive=1m`)
  const pit = (opened.json as { pit_id: string }).pit_id
  const res = await raw(server, 'POST', '/_search', `{"pit":{"id":"${pit}","keep_alive":"1m"},"sort":${JSON.stringify(sort)},"size":5,${track}"search_after":${after}}`)
  const body = res.json as { hits?: { hits: Array<{ _id: string }> }; _shards?: Page['shards'] }
  return { status: res.status, ids: body.hits?.hits.map((h) => h._id) ?? [], shards: body._shards }
}

const TIE = [{ _index: 'asc' }, { _id: 'asc' }]
const MAX = '9223372036854775807'
const MIN = '-9223372036854775808'

t.test('a segment whose values all lie behind the cursor is left out, with its documents that lack the field', async (t) => {
  const server = await layout(t)
  const n = [{ n: 'asc' }, ...TIE]
  t.strictSame((await page(server, 'seg', n, '[3,"seg","y"]')).ids, ['z', 'c'], 'after 3: {a, b} is skipped, b is lost')
  t.strictSame((await page(server, 'seg', n, '[5,"seg","z"]')).ids, [], 'after 5: b and c are lost')
  t.strictSame((await page(server, 'seg', n, `[${MAX},"seg","b"]`)).ids, [], 'after the missing-value sentinel: c is lost')
  t.strictSame((await page(server, 'seg', [{ n: 'desc' }, ...TIE], `[${MIN},"seg","b"]`)).ids, [], 'desc, after the sentinel: c is lost')
  t.strictSame((await page(server, 'seg', [{ t: 'asc' }, ...TIE], '[1704412800000,"seg","z"]')).ids, [], 'a date sort: the same')
  t.strictSame((await page(server, 'seg', [{ k: 'asc' }, ...TIE], '["z","seg","z"]')).ids, [], 'a keyword sort: the same')
})

t.test('counting hits, or naming `missing`, turns the skipping off', async (t) => {
  const server = await layout(t)
  t.strictSame((await page(server, 'seg', [{ n: 'asc' }, ...TIE], `[${MAX},"seg","b"]`, '"track_total_hits":true,')).ids, ['c'], 'track_total_hits: true')
  t.strictSame((await page(server, 'seg', [{ n: 'asc' }, ...TIE], `[${MAX},"seg","b"]`, '')).ids, ['c'], 'track_total_hits left to its default')
  t.strictSame((await page(server, 'seg', [{ n: { order: 'asc', missing: '_last' } }, ...TIE], `[${MAX},"seg","b"]`)).ids, ['c'], 'missing: _last')
  t.strictSame((await page(server, 'seg', [{ n: { order: 'desc', missing: '_last' } }, ...TIE], `[${MIN},"seg","b"]`)).ids, ['c'], 'desc, missing: _last')
  t.strictSame((await page(server, 'seg', [{ k: { order: 'asc', missing: '_last' } }, ...TIE], '[null,"seg","b"]')).ids, ['c'], 'a null keyword cursor with missing: _last')
})

t.test('a null keyword cursor fails every shard that has values of the field', async (t) => {
  const server = await layout(t)
  const one = await page(server, 'seg', [{ k: 'asc' }, ...TIE], '[null,"seg","b"]')
  t.equal(one.status, 500)
  const opened = await raw(server, 'POST', '/seg/_search/point_in_time?keep_alive=1m')
  const res = await raw(server, 'POST', '/_search', `{"pit":{"id":"${(opened.json as { pit_id: string }).pit_id}"},"sort":[{"k":"asc"},{"_index":"asc"},{"_id":"asc"}],"track_total_hits":false,"search_after":[null,"seg","b"]}`)
  t.strictSame([errorOf(res.json).type, errorOf(res.json).rootType, errorOf(res.json).rootReason], ['search_phase_execution_exception', 'null_pointer_exception', 'Cannot read field "bytes" because "other" is null'])
  const second = await page(server, 'seg', [{ n: 'asc' }, { k: 'asc' }, ...TIE], '[3,null,"seg","y"]')
  t.strictSame([second.status, second.ids], [200, ['z', 'c']], 'a null keyword beyond the primary sort is not compared')
})

t.test('with two shards, the can_match phase skips a whole shard behind the cursor, and says so', async (t) => {
  const server = await layout(t)
  const three = await page(server, 'seg,segb', [{ n: 'asc' }, ...TIE], '[3,"seg","y"]')
  t.strictSame(three.ids, ['z', 'c'], 'q (segb) is lost with b')
  t.strictSame(three.shards, { total: 2, successful: 2, skipped: 1, failed: 0 })
  const named = await page(server, 'seg,segb', [{ n: { order: 'asc', missing: '_last' } }, ...TIE], '[5,"seg","z"]')
  t.strictSame(named.ids, ['b', 'c', 'q'])
  t.strictSame(named.shards, { total: 2, successful: 2, skipped: 0, failed: 0 })
})

t.test('Elasticsearch skips nothing', async (t) => {
  const server = await layout(t, { distribution: 'elasticsearch', version: '7.17.28' })
  const res = await raw(server, 'POST', '/seg/_search', '{"sort":[{"n":"asc"},{"_index":"asc"},{"_id":"asc"}],"track_total_hits":false,"search_after":[5,"seg","z"]}')
  t.strictSame((res.json as { hits: { hits: Array<{ _id: string }> } }).hits.hits.map((h) => h._id), ['b', 'c'])
})
