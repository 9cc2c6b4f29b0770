import t from 'tap'
import type { Client } from '@elastic/elasticsearch'
import { docs, errorOf, raw, serverFor, failure } from './es/testing.js'

type Sort = Array<string | number>

/** Pages a PIT to the end with search_after, always sending the latest pit_id. */
async function drain(client: Client, pit: string, sort: unknown, extra: Record<string, unknown> = {}): Promise<{ ids: string[]; pitIds: string[] }> {
  const ids: string[] = []
  const pitIds = [pit]
  let after: Sort | undefined
  for (;;) {
    const res = await client.search({
      pit: { id: pitIds[pitIds.length - 1] as string, keep_alive: '1m' },
      sort: sort as never, size: 7, search_after: after, track_total_hits: false, ...extra,
    })
    pitIds.push(res.pit_id as string)
    if (res.hits.hits.length === 0) return { ids, pitIds }
    for (const h of res.hits.hits) ids.push(h._id as string)
    after = res.hits.hits[res.hits.hits.length - 1]?.sort as Sort
  }
}

t.test('opening a PIT needs keep_alive', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('p', docs(3))
  const res = await raw(server, 'POST', '/p/_pit')
  t.equal(res.status, 400)
  t.equal(errorOf(res.json).type, 'action_request_validation_exception')
  t.match(errorOf(res.json).reason, /keep_alive/)
  const ok = await client.openPointInTime({ index: 'p', keep_alive: '1m' })
  t.type(ok.id, 'string')
  t.hasStrict(ok._shards, { total: 1, successful: 1, failed: 0 })
  t.equal(server.openPits(), 1)
})

t.test('PIT paging with a field sort returns every doc once, with the implicit _shard_doc tiebreaker', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('p', docs(50))
  const pit = (await client.openPointInTime({ index: 'p', keep_alive: '1m' })).id
  const first = await client.search({ pit: { id: pit }, sort: [{ 'group.keyword': 'asc' }], size: 3, track_total_hits: false })
  t.equal(first.hits.total, undefined, 'no hits.total with track_total_hits:false')
  t.equal(first.hits.max_score, null)
  t.equal(first.hits.hits[0]?._score, null)
  t.equal(first.hits.hits[0]?.sort?.length, 2, 'the field value plus a _shard_doc long')
  t.type(first.hits.hits[0]?.sort?.[1], 'number')
  const { ids } = await drain(client, pit, [{ 'group.keyword': 'asc' }])
  t.equal(ids.length, 50)
  t.equal(new Set(ids).size, 50)
})

t.test('PIT paging on _shard_doc alone, and hits without sort when no sort is given', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('p', docs(30))
  const pit = (await client.openPointInTime({ index: 'p', keep_alive: '1m' })).id
  const { ids } = await drain(client, pit, ['_shard_doc'])
  t.strictSame([...ids].sort(), docs(30).map((d) => d._id).sort())
  const unsorted = await client.search({ pit: { id: pit }, size: 5 })
  t.equal(unsorted.hits.hits.length, 5)
  t.notOk(unsorted.hits.hits.some((h) => 'sort' in h), 'no sort key on hits')
  t.equal(unsorted.hits.hits[0]?._score, 1)
})

t.test('pit_id changes along the way; the latest is always accepted', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('p', docs(40))
  const pit = (await client.openPointInTime({ index: 'p', keep_alive: '1m' })).id
  const { ids, pitIds } = await drain(client, pit, [{ n: 'desc' }])
  t.equal(ids.length, 40)
  t.ok(new Set(pitIds).size > 1, 'the server handed out a new pit_id')
  t.strictSame(ids.slice(0, 3), ['d39', 'd38', 'd37'])
  const closed = await client.closePointInTime({ id: pitIds[pitIds.length - 1] as string })
  t.strictSame(closed, { succeeded: true, num_freed: 1 })
})

t.test('a PIT is a snapshot: later writes and deletes are not seen', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('p', docs(10))
  const pit = (await client.openPointInTime({ index: 'p', keep_alive: '1m' })).id
  await client.index({ index: 'p', id: 'late', document: { n: 99 } })
  await client.delete({ index: 'p', id: 'd0' })
  const { ids } = await drain(client, pit, ['_shard_doc'])
  t.equal(ids.length, 10)
  t.ok(ids.includes('d0'))
  t.notOk(ids.includes('late'))
  t.equal((await client.count({ index: 'p' })).count, 10, 'the live index changed')
})

t.test('missing long/date values sort as Long sentinels written as exact integers', async (t) => {
  const { server } = await serverFor(t)
  server.addDocs('p', [{ _id: 'has', _source: { n: 5 } }, { _id: 'none', _source: { other: 1 } }])
  const pit = ((await raw(server, 'POST', '/p/_pit?keep_alive=1m')).json as { id: string }).id
  const asc = await raw(server, 'POST', '/_search', { pit: { id: pit }, sort: [{ n: 'asc' }], size: 1 })
  t.match(asc.text, /"sort":\[5,0\]/)
  const page2 = `{"pit":{"id":"${pit}"},"sort":[{"n":"asc"}],"size":5,"search_after":[5,0]}`
  const missing = await raw(server, 'POST', '/_search', page2)
  t.match(missing.text, /"_id":"none".*"sort":\[9223372036854775807,1\]/)
  const desc = await raw(server, 'POST', '/_search', { pit: { id: pit }, sort: [{ n: 'desc' }] })
  t.match(desc.text, /"sort":\[-9223372036854775808,1\]/)
  // Sent back verbatim, the sentinel resumes after the doc it came from.
  const after = `{"pit":{"id":"${pit}"},"sort":[{"n":"asc"}],"search_after":[9223372036854775807,0]}`
  const resumed = await raw(server, 'POST', '/_search', after)
  t.equal(resumed.status, 200)
  t.strictSame((resumed.json as { hits: { hits: Array<{ _id: string }> } }).hits.hits.map((h) => h._id), ['none'])
  // What JSON.parse + JSON.stringify make of it is out of the long range: ES refuses it.
  const mangled = `{"pit":{"id":"${pit}"},"sort":[{"n":"asc"}],"search_after":[${JSON.stringify(JSON.parse('9223372036854775807'))},0]}`
  const refused = await raw(server, 'POST', '/_search', mangled)
  t.equal(refused.status, 400)
  t.equal(errorOf(refused.json).rootType, 'illegal_argument_exception')
  t.equal(errorOf(refused.json).rootReason, 'Failed to parse search_after value for field [n].')
})

t.test('slices of a PIT are disjoint and together hold every doc', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('p', docs(41))
  const pit = (await client.openPointInTime({ index: 'p', keep_alive: '1m' })).id
  const parts = await Promise.all([0, 1, 2].map((id) => drain(client, pit, ['_shard_doc'], { slice: { id, max: 3 } })))
  const all = parts.flatMap((p) => p.ids)
  t.equal(all.length, 41)
  t.equal(new Set(all).size, 41)
  t.ok(parts.length === 3 && parts.every((p) => p.ids.length > 0), `every slice has docs (${parts.map((p) => p.ids.length).join(', ')})`)
  const byId = await raw(server, 'POST', '/_search', { pit: { id: pit }, slice: { field: '_id', id: 0, max: 2 } })
  t.equal(byId.status, 400)
  t.equal(errorOf(byId.json).rootReason, 'cannot slice on [_id] when using [point-in-time]')
})

t.test('PIT request validation: index in path, scroll, _shard_doc without PIT', async (t) => {
  const { server } = await serverFor(t)
  server.addDocs('p', docs(3))
  const pit = ((await raw(server, 'POST', '/p/_pit?keep_alive=1m')).json as { id: string }).id
  const inPath = await raw(server, 'POST', '/p/_search', { pit: { id: pit } })
  t.equal(inPath.status, 400)
  t.match(errorOf(inPath.json).reason, /\[indices\] cannot be used with point in time/)
  const scroll = await raw(server, 'POST', '/_search?scroll=1m', { pit: { id: pit } })
  t.equal(scroll.status, 400)
  t.match(errorOf(scroll.json).reason, /using \[point in time\] is not allowed in a scroll context/)
  const shardDoc = await raw(server, 'POST', '/p/_search', { sort: ['_shard_doc'] })
  t.equal(shardDoc.status, 400)
  t.match(errorOf(shardDoc.json).reason, /\[_shard_doc\] sort field cannot be used without \[point in time\]/)
})

t.test('closing a PIT: 200 with num_freed 1, then 404 with num_freed 0', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('p', docs(3))
  const pit = (await client.openPointInTime({ index: 'p', keep_alive: '1m' })).id
  const first = await raw(server, 'DELETE', '/_pit', { id: pit })
  t.equal(first.status, 200)
  t.strictSame(first.json, { succeeded: true, num_freed: 1 })
  const second = await raw(server, 'DELETE', '/_pit', { id: pit })
  t.equal(second.status, 404)
  t.strictSame(second.json, { succeeded: false, num_freed: 0 })
  t.equal(server.openPits(), 0)
})

t.test('an expired or unknown PIT is 404 search_context_missing_exception', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('p', docs(3))
  const short = (await client.openPointInTime({ index: 'p', keep_alive: '300ms' })).id
  await new Promise((r) => setTimeout(r, 450))
  const late = await raw(server, 'POST', '/_search', { pit: { id: short } })
  t.equal(late.status, 404)
  const e = errorOf(late.json)
  t.equal(e.type, 'search_phase_execution_exception')
  t.equal(e.rootType, 'search_context_missing_exception')
  t.match(e.rootReason, /^No search context found for id \[\d+\]$/)
  const kept = (await client.openPointInTime({ index: 'p', keep_alive: '1m' })).id
  server.expireAllContexts()
  t.hasStrict(await failure(client.search({ pit: { id: kept } })), { meta: { statusCode: 404 } })
  t.equal(server.openPits(), 0)
})
