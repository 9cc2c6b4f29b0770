import t from 'tap'
import { docs, errorOf, raw, serverFor } from './es/testing.js'

t.test('scroll to the end, then clear: 200 with num_freed, then 404', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('s', docs(25))
  let res = await client.search({ index: 's', scroll: '1m', size: 10 })
  t.hasStrict(res.hits.total, { value: 25, relation: 'eq' })
  const ids = res.hits.hits.map((h) => h._id)
  let scrollId = res._scroll_id as string
  for (;;) {
    res = await client.scroll({ scroll_id: scrollId, scroll: '1m' })
    scrollId = res._scroll_id as string
    if (res.hits.hits.length === 0) break
    ids.push(...res.hits.hits.map((h) => h._id))
  }
  t.equal(ids.length, 25)
  t.equal(new Set(ids).size, 25)
  t.equal(server.openScrolls(), 1)
  const cleared = await raw(server, 'DELETE', '/_search/scroll', { scroll_id: [scrollId] })
  t.equal(cleared.status, 200)
  t.strictSame(cleared.json, { succeeded: true, num_freed: 1 })
  const again = await raw(server, 'DELETE', '/_search/scroll', { scroll_id: scrollId })
  t.equal(again.status, 404)
  t.strictSame(again.json, { succeeded: true, num_freed: 0 })
  t.equal(server.openScrolls(), 0)
})

t.test('elasticdump-style scroll: GET with a body, stored_fields, scroll_id in the query string', async (t) => {
  const { server } = await serverFor(t)
  server.addDocs('s', docs(5))
  const first = await raw(server, 'GET', '/s/_search?scroll=10m&from=0', { query: { match_all: {} }, stored_fields: ['*'], _source: true, size: 2 })
  t.equal(first.status, 200)
  const body = first.json as { _scroll_id: string; hits: { hits: Array<{ _source: unknown }> } }
  t.strictSame(body.hits.hits[0]?._source, docs(1)[0]?._source, '_source still returned with stored_fields ["*"]')
  const next = await raw(server, 'POST', `/_search/scroll?scroll=10m&scroll_id=${body._scroll_id}`)
  t.equal((next.json as { hits: { hits: unknown[] } }).hits.hits.length, 2)
})

t.test('scroll validation: track_total_hits false, from > 0, size 0 are 400s', async (t) => {
  const { server } = await serverFor(t)
  server.addDocs('s', docs(3))
  const cases: Array<[unknown, RegExp]> = [
    [{ track_total_hits: false }, /disabling \[track_total_hits\] is not allowed in a scroll context/],
    [{ from: 1 }, /using \[from\] is not allowed in a scroll context/],
    [{ size: 0 }, /\[size\] cannot be \[0\] in a scroll context/],
  ]
  for (const [body, reason] of cases) {
    const res = await raw(server, 'POST', '/s/_search?scroll=1m', body)
    t.equal(res.status, 400)
    t.equal(errorOf(res.json).type, 'action_request_validation_exception')
    t.match(errorOf(res.json).reason, reason)
  }
  t.equal(server.openScrolls(), 0, 'refused scrolls open no context')
})

t.test('an expired scroll is 404 search_context_missing_exception', async (t) => {
  const { server, client } = await serverFor(t)
  server.addDocs('s', docs(5))
  const res = await client.search({ index: 's', scroll: '200ms', size: 2 })
  await new Promise((r) => setTimeout(r, 350))
  const late = await raw(server, 'POST', '/_search/scroll', { scroll: '1m', scroll_id: res._scroll_id })
  t.equal(late.status, 404)
  t.equal(errorOf(late.json).type, 'search_phase_execution_exception')
  t.equal(errorOf(late.json).rootType, 'search_context_missing_exception')
})
