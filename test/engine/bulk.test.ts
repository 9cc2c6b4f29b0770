// _bulk as a writer meets it, on each real engine and on the project's test server:
// per-item errors from real mappings, version conflicts, refresh. The same answers are expected
// from every target, so the test server's _bulk cannot drift from a real engine unnoticed.
import t from 'tap'
import { runTool } from '../helpers/run.js'
import { atLeast, call, parsingError, targets } from './targets.js'
import type { Target } from './targets.js'

const all = await targets(t)

const MAPPINGS = { properties: { n: { type: 'long' }, d: { type: 'date' }, k: { type: 'keyword' }, o: { type: 'object', properties: { x: { type: 'long' } } } } }

async function fresh (target: Target, index: string, extra: Record<string, unknown> = {}): Promise<void> {
  await call(target, 'DELETE', `/${index}`)
  const res = await call(target, 'PUT', `/${index}`, { settings: { number_of_shards: 1, number_of_replicas: 0, ...extra }, mappings: MAPPINGS })
  if (res.status !== 200) throw new Error(`${target.name}: PUT /${index}: ${res.status} ${res.text}`)
}

interface Item { status: number, result?: string, error?: { type: string, reason: string } }

function items (json: unknown): Item[] {
  return (json as { items: Array<Record<string, Item>> }).items.map((i) => Object.values(i)[0])
}

for (const target of all) {
  t.test(`${target.name}: per-item errors from the mappings, version conflicts`, async (t) => {
    await fresh(target, 'bulk-items')
    const body = [
      ['{"index":{"_index":"bulk-items","_id":"a"}}', '{"n":1,"d":"2024-01-01","k":"x"}'],
      ['{"index":{"_index":"bulk-items","_id":"b"}}', '{"n":"not a number"}'],
      ['{"index":{"_index":"bulk-items","_id":"c"}}', '{"d":"not a date"}'],
      ['{"index":{"_index":"bulk-items","_id":"d"}}', '{"o":"a string where an object is mapped"}'],
      ['{"index":{"_index":"bulk-items","_id":"e"}}', '{"n":12345678901234567890}'],
      ['{"create":{"_index":"bulk-items","_id":"a"}}', '{"n":2}'],
      ['{"update":{"_index":"bulk-items","_id":"zz"}}', '{"doc":{"n":1}}'],
      ['{"delete":{"_index":"bulk-items","_id":"yy"}}'],
      ['{"index":{"_index":"bulk-items","_id":"a"}}', '{"n":3}'],
      ['{"index":{"_index":"bulk-items","_id":"f"}}', '{"n":"42","k":7}']
    ].map((l) => l.join('\n')).join('\n') + '\n'
    const res = await call(target, 'POST', '/_bulk?refresh=true', body)
    t.equal(res.status, 200, 'the request as a whole succeeds')
    t.equal((res.json as { errors: boolean }).errors, true, 'errors: true')
    const got = items(res.json).map((i) => [i.status, i.error?.type ?? i.result ?? ''])
    // Elasticsearch 8 renamed the mapping failure of a document; Elasticsearch 7 and OpenSearch say mapper_parsing_exception.
    const parsing = parsingError(target)
    t.same(got, [
      [201, 'created'],
      [400, parsing],
      [400, parsing],
      [400, parsing],
      [400, parsing],
      [409, 'version_conflict_engine_exception'],
      [404, 'document_missing_exception'],
      [404, 'not_found'],
      [200, 'updated'],
      [201, 'created']
    ], 'each item: status and error type, in request order')
    const reasons = items(res.json).map((i) => i.error?.reason ?? '')
    t.match(reasons[1], /failed to parse field \[n\] of type \[long\] in document with id 'b'/)
    t.match(reasons[2], /failed to parse field \[d\] of type \[date\] in document with id 'c'/)
    // Elasticsearch 8's reason starts with where its parser was ([line:column]); OpenSearch's has no location.
    const at = target.distribution === 'elasticsearch' && atLeast(target, 8) ? '[1:6] ' : ''
    t.equal(reasons[3], `${at}object mapping for [o] tried to parse field [o] as object, but found a concrete value`)
    t.match(reasons[4], /failed to parse field \[n\] of type \[long\] in document with id 'e'\. Preview of field's value: '12345678901234567890'/)
    t.match(reasons[5], /\[a\]: version conflict, document already exists \(current version \[1\]\)/)
    t.match(reasons[6], /\[zz\]: document missing/)

    // What was written is what es-read reads back (coerced values keep their source text).
    const read = await runTool('es-read', ['--url', target.url, '--index', 'bulk-items', '--sort', 'k'])
    t.equal(read.code, 0, read.stderr)
    t.same(read.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l)._source).sort((x: { n: unknown }, y: { n: unknown }) => String(x.n).localeCompare(String(y.n))), [{ n: 3 }, { n: '42', k: 7 }])

    // Optimistic concurrency: a stale if_seq_no is a 409 for that item only.
    const seq = await call(target, 'POST', '/_bulk', '{"index":{"_index":"bulk-items","_id":"a","if_seq_no":0,"if_primary_term":1}}\n{"n":4}\n{"index":{"_index":"bulk-items","_id":"g"}}\n{"n":5}\n')
    t.same(items(seq.json).map((i) => [i.status, i.error?.type ?? i.result]), [[409, 'version_conflict_engine_exception'], [201, 'created']], 'stale if_seq_no: 409, the rest written')
    t.match(items(seq.json)[0].error?.reason, /\[a\]: version conflict, required seqNo \[0\], primary term \[1\]\. current document has seqNo \[\d+\] and primary term \[1\]/)
  })

  t.test(`${target.name}: a key given twice in a document refuses that item; in an update body, the whole request`, async (t) => {
    await fresh(target, 'bulk-dup')
    const body = '{"index":{"_index":"bulk-dup","_id":"1"}}\n{"k":"a","k":"b"}\n{"index":{"_index":"bulk-dup","_id":"2"}}\n{"o":{"x":1,"x":2}}\n{"index":{"_index":"bulk-dup","_id":"3"}}\n{"k":"a","o":{"k":"b"}}\n'
    const res = await call(target, 'POST', '/_bulk', body)
    t.equal(res.status, 200)
    const got = items(res.json) as Array<Item & { error?: { caused_by?: { type: string, reason: string } } }>
    const parsing = parsingError(target)
    t.same(got.map((i) => [i.status, i.error?.type ?? i.result]), [[400, parsing], [400, parsing], [201, 'created']], 'only the items with a repeated key')
    // Jackson 2.16 leaves the source out of locations by default; Elasticsearch 7.17 ships 2.14.
    const source = target.distribution === 'elasticsearch' && !atLeast(target, 8) ? '(ByteArrayInputStream)' : 'REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)'
    const at = (key: string, column: number): string => `Duplicate field '${key}'\n at [Source: ${source}; line: 1, column: ${column}]`
    t.same(got.slice(0, 2).map((i) => i.error?.caused_by), [{ type: 'json_parse_exception', reason: at('k', 13) }, { type: 'json_parse_exception', reason: at('x', 16) }], "Jackson's message, where it stopped")
    const update = await call(target, 'POST', '/_bulk', '{"index":{"_index":"bulk-dup","_id":"4"}}\n{"k":"a"}\n{"update":{"_index":"bulk-dup","_id":"3"}}\n{"doc":{"k":"c","k":"d"}}\n')
    t.equal(update.status, 400, 'an update body is parsed with the request')
    const error = (update.json as { error: { type: string, reason: string, caused_by: { type: string, reason: string } } }).error
    t.same([error.type, error.reason, error.caused_by], ['x_content_parse_exception', '[1:13] [UpdateRequest] failed to parse field [doc]', { type: 'json_parse_exception', reason: at('k', 20) }])
    t.equal((await call(target, 'GET', '/bulk-dup/_doc/4')).status, 404, 'nothing of that request was written')
  })

  t.test(`${target.name}: numbers past 2^53 in new fields: a float literal maps as float, an integer literal is out of range of long`, async (t) => {
    await call(target, 'DELETE', '/bulk-dynamic')
    const res = await call(target, 'POST', '/_bulk?refresh=true', '{"index":{"_index":"bulk-dynamic","_id":"f"}}\n{"f":1.5e22}\n{"index":{"_index":"bulk-dynamic","_id":"i"}}\n{"i":12345678901234567890123}\n')
    t.equal(res.status, 200, res.text)
    const got = items(res.json) as Array<Item & { error?: { caused_by?: { type: string, reason: string } } }>
    t.same(got.map((i) => [i.status, i.error?.type ?? i.result]), [[201, 'created'], [400, parsingError(target)]])
    t.match(got[1]?.error?.caused_by, { type: 'input_coercion_exception', reason: /^Numeric value \(12345678901234567890123\) out of range of long \(-9223372036854775808 - 9223372036854775807\)/ })
    const mapping = await call(target, 'GET', '/bulk-dynamic/_mapping')
    t.same((mapping.json as Record<string, { mappings: { properties: Record<string, { type: string }> } }>)['bulk-dynamic']?.mappings.properties.f, { type: 'float' }, '1.5e22 mapped the field as float')
    await call(target, 'DELETE', '/bulk-dynamic')
  })

  t.test(`${target.name}: refresh makes writes visible to es-read`, async (t) => {
    await fresh(target, 'bulk-refresh')
    const one = await call(target, 'POST', '/_bulk?refresh=wait_for', '{"index":{"_index":"bulk-refresh","_id":"r1"}}\n{"n":1}\n')
    t.equal(one.status, 200)
    let r = await runTool('es-read', ['--url', target.url, '--index', 'bulk-refresh'])
    t.match(r.stdout, /"_id":"r1"/, 'refresh=wait_for: readable at once')
    await call(target, 'POST', '/_bulk', '{"index":{"_index":"bulk-refresh","_id":"r2"}}\n{"n":2}\n')
    const refreshed = await call(target, 'POST', '/bulk-refresh/_refresh')
    t.equal(refreshed.status, 200, 'POST /index/_refresh')
    r = await runTool('es-read', ['--url', target.url, '--index', 'bulk-refresh'])
    t.equal(r.stdout.split('\n').filter((l) => l !== '').length, 2, 'after _refresh: both documents')
    const count = await call(target, 'GET', '/bulk-refresh/_count')
    t.equal((count.json as { count: number }).count, 2, '_count agrees')
  })
}
