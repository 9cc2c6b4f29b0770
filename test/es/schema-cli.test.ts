// es-read --schema and es-write --schema as programs: real child processes and shell pipes
// between the test server's Elasticsearch and OpenSearch dialects; what each index is made of
// checked on the server side (GET _mapping, _settings, _alias), as a user would check it.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { runShell, runTool, scratchDir } from '../helpers/run.js'

const dir = scratchDir(t)

const RICH = {
  settings: { number_of_shards: 2, number_of_replicas: 0, refresh_interval: '7s', analysis: { analyzer: { folded: { type: 'custom', tokenizer: 'standard', filter: ['lowercase', 'asciifolding'] } } } },
  mappings: {
    dynamic: 'strict',
    properties: {
      t: { type: 'text', analyzer: 'folded', fields: { raw: { type: 'keyword', ignore_above: 256 } } },
      k: { type: 'keyword' },
      labels: { type: 'flattened' },
      o: { properties: { a: { type: 'long' } } }
    }
  },
  aliases: { 'logs-read': {}, 'logs-w': { is_write_index: true, routing: '1' } }
}
// The big number is written as text: JSON.stringify would round it.
const RICH_BODY = JSON.stringify(RICH).replace('"dynamic":"strict"', '"dynamic":"strict","_meta":{"n":12345678901234567890}')

async function call (server: EsTestServer, method: string, path: string, body?: string): Promise<{ status: number, text: string, json: unknown }> {
  const res = await fetch(server.url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body })
  const text = await res.text()
  let json: unknown
  try { json = JSON.parse(text) } catch {}
  return { status: res.status, text, json }
}

/** Objects with their keys in order, at every depth: the engines print members in an order of their own. */
function sorted (v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]))
  return v
}

const stderrLines = (s: string): string[] => s.split('\n').filter((l) => l !== '')

let es: EsTestServer
let os: EsTestServer
t.before(async () => {
  es = await startEsServer()
  os = await startEsServer({ distribution: 'opensearch' })
  for (const [name, body] of [['logs-1', RICH_BODY], ['logs-2', '{"mappings":{"properties":{"n":{"type":"long"}}}}'], ['other', '{}']] as const) {
    const made = await call(es, 'PUT', `/${name}`, body)
    if (made.status !== 200) throw new Error(`PUT ${name}: ${made.text}`)
  }
})
t.teardown(async () => { await es?.close(); await os?.close() })

t.test('es-read --schema: one line per index the wildcard names, in name order, settings flat without what the engine set, numbers exact', async (t) => {
  const r = await runTool('es-read', ['--url', es.url, '--index', 'logs-*', '--schema'])
  t.equal(r.code, 0, r.stderr)
  const lines = r.stdout.split('\n').filter((l) => l !== '')
  t.equal(lines.length, 2)
  t.strictSame(lines.map((l) => (JSON.parse(l) as { _index: string })._index), ['logs-1', 'logs-2'])
  t.match(lines[0], /^\{"_index":"logs-1","mappings":\{"dynamic":"strict","_meta":\{"n":12345678901234567890\},"properties":\{"k":/)
  const first = JSON.parse(lines[0] as string) as { settings: Record<string, unknown>, aliases: unknown, mappings: unknown }
  t.strictSame(first.settings, {
    'index.number_of_shards': '2',
    'index.number_of_replicas': '0',
    'index.refresh_interval': '7s',
    'index.analysis.analyzer.folded.type': 'custom',
    'index.analysis.analyzer.folded.tokenizer': 'standard',
    'index.analysis.analyzer.folded.filter': ['lowercase', 'asciifolding']
  })
  t.strictSame(first.aliases, { 'logs-read': {}, 'logs-w': { is_write_index: true, index_routing: '1', search_routing: '1' } })
  t.strictSame(Object.keys(first), ['_index', 'mappings', 'settings', 'aliases'])
  t.match(r.stderr, /settings left out \(the engine sets them itself on a new index\): index\.uuid, index\.provided_name, index\.creation_date, index\.version\.created, index\.routing\.allocation\.include\._tier_preference\n/)

  const none = await runTool('es-read', ['--url', es.url, '--index', 'nothing-*', '--schema'])
  t.strictSame([none.code, none.stdout], [0, ''])
  t.match(none.stderr, /warning: no index matches nothing-\* at /)
  const missing = await runTool('es-read', ['--url', es.url, '--index', 'nosuch', '--schema'])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /index not found at .*no such index \[nosuch\]/)
  const docs = await runTool('es-read', ['--url', es.url, '--index', 'logs-1', '--schema', '--query', '{"match_all":{}}', '--limit', '5'])
  t.equal(docs.code, 2)
  t.match(docs.stderr, /^es-read: --schema prints the indices' definitions, not documents: drop --query, --limit/)
})

t.test('es-read --schema | es-write --schema -: Elasticsearch to OpenSearch, flattened made flat_object, the rest as it was; a rerun writes into it', async (t) => {
  const r = await runShell(`es-read --url ${es.url} --index logs-1 --schema | es-write --url ${os.url} --schema -`)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /es-write: index logs-1: field labels: flattened → flat_object\n/)
  t.match(r.stderr, /es-write: created index logs-1\n/)
  const want = sorted((await call(es, 'GET', '/logs-1/_mapping')).json) as { 'logs-1': { mappings: { properties: Record<string, unknown> } } }
  want['logs-1'].mappings.properties.labels = { type: 'flat_object' }
  t.strictSame(sorted((await call(os, 'GET', '/logs-1/_mapping')).json), want, 'GET _mapping: the same, but for the one translated field')
  t.strictSame((await call(os, 'GET', '/logs-1/_alias')).json, (await call(es, 'GET', '/logs-1/_alias')).json)
  const settings = ((await call(os, 'GET', '/logs-1/_settings?flat_settings=true')).json as Record<string, { settings: Record<string, unknown> }>)['logs-1']?.settings
  t.hasStrict(settings, { 'index.number_of_shards': '2', 'index.number_of_replicas': '0', 'index.refresh_interval': '7s', 'index.analysis.analyzer.folded.filter': ['lowercase', 'asciifolding'] })
  t.equal(settings?.['index.routing.allocation.include._tier_preference'], undefined, 'Elasticsearch\'s data tier is not carried')
  t.match((await call(os, 'GET', '/logs-1/_mapping')).text, /"_meta":\{"n":12345678901234567890\}/, 'the big number kept its digits')

  // The same schema again, now with documents: the index is the schema's, so es-write writes into it.
  const docs = join(dir, 'docs.ndjson')
  writeFileSync(docs, '{"_index":"logs-1","_id":"1","_source":{"k":"a","t":"Été"}}\n{"_index":"logs-1","_id":"2","_source":{"k":"b","labels":{"x":"y"}}}\n')
  const again = await runShell(`es-read --url ${es.url} --index logs-1 --schema | es-write --url ${os.url} --schema - --refresh ${docs}`)
  t.equal(again.code, 0, again.stderr)
  t.match(again.stderr, /index logs-1 exists with the schema's mapping; writing into it/)
  t.equal(((await call(os, 'GET', '/logs-1/_count')).json as { count: number }).count, 2)
})

t.test('refused before anything is created: one line per field with no equivalent, exit 1', async (t) => {
  const file = join(dir, 'untranslatable.ndjson')
  writeFileSync(file, [
    '{"_index":"fine","mappings":{"properties":{"k":{"type":"keyword"}}}}',
    '{"_index":"metrics","mappings":{"properties":{"h":{"type":"histogram"},"v":{"type":"dense_vector","dims":8,"element_type":"bit"},"k":{"type":"keyword"}}},"settings":{"index.lifecycle.name":"hot"}}'
  ].join('\n') + '\n')
  const docs = join(dir, 'metrics-docs.ndjson')
  writeFileSync(docs, '{"_index":"fine","_id":"1","_source":{"k":"x"}}\n')
  const r = await runTool('es-write', ['--url', os.url, '--schema', file, docs])
  t.equal(r.code, 1)
  const errors = stderrLines(r.stderr).filter((l) => l.includes('error ['))
  t.strictSame(errors.map((l) => l.replace(/ \(host=.*$/, '')), [
    'es-write: error [ES_SCHEMA_UNTRANSLATABLE] index metrics: field h: type histogram (pre-aggregated histograms) has no equivalent in OpenSearch',
    'es-write: error [ES_SCHEMA_UNTRANSLATABLE] index metrics: field v: dense_vector with element_type bit has no knn_vector equivalent',
    'es-write: error [ES_SCHEMA_UNTRANSLATABLE] index metrics: setting index.lifecycle.name: an index lifecycle (ILM) setting, with no equivalent in OpenSearch (attach an ISM policy after the index is made) (and the 2 above); nothing was created or written'
  ])
  t.equal((await call(os, 'HEAD', '/fine')).status, 404, 'not even the index that had nothing wrong')
  t.equal((await call(os, 'HEAD', '/metrics')).status, 404)
})

t.test('an index that exists with another mapping: refused naming the first differing field, or kept with --schema-exists keep', async (t) => {
  await call(os, 'PUT', '/people', '{"mappings":{"properties":{"name":{"type":"keyword"},"age":{"type":"long"}}}}')
  const file = join(dir, 'people.ndjson')
  writeFileSync(file, '{"_index":"people","mappings":{"properties":{"age":{"type":"long"},"name":{"type":"text"}}}}\n')
  const docs = join(dir, 'people-docs.ndjson')
  writeFileSync(docs, '{"_index":"people","_id":"p1","_source":{"name":"Ann","age":40}}\n')
  const r = await runTool('es-write', ['--url', os.url, '--schema', file, '--refresh', docs])
  t.equal(r.code, 1)
  t.match(r.stderr, /es-write: error \[ES_SCHEMA_MAPPING_DIFFERS\] index people exists at http:\/\/127\.0\.0\.1:\d+ with another mapping: field name: type text in the schema, keyword in the existing index \(--schema-exists keep writes into it as it is\); nothing was created or written/)
  t.equal(((await call(os, 'GET', '/people/_count')).json as { count: number }).count, 0, 'no document written')
  const kept = await runTool('es-write', ['--url', os.url, '--schema', file, '--schema-exists', 'keep', '--refresh', docs])
  t.equal(kept.code, 0, kept.stderr)
  t.match(kept.stderr, /index people exists with another mapping \(field name: type text in the schema, keyword in the existing index\); --schema-exists keep: writing into it as it is/)
  t.equal(((await call(os, 'GET', '/people/_count')).json as { count: number }).count, 1)
  t.strictSame(((await call(os, 'GET', '/people/_mapping')).json as { people: { mappings: unknown } }).people.mappings, { properties: { age: { type: 'long' }, name: { type: 'keyword' } } }, 'its own mapping stays')
})

t.test('--index renames the one index of a schema (alone, with no documents); a schema of several is refused; --settings apply over its own', async (t) => {
  const file = join(dir, 'one.ndjson')
  writeFileSync(file, '{"_index":"src","mappings":{"properties":{"k":{"type":"keyword"}}},"settings":{"index.number_of_shards":"3","index.number_of_replicas":"1"}}\n')
  const settings = join(dir, 'over.json')
  writeFileSync(settings, '{"index":{"number_of_replicas":0}}')
  const r = await runShell(`es-write --url ${os.url} --schema - --index renamed --settings ${settings} < ${file}`)
  t.equal(r.code, 0, r.stderr)
  t.equal((await call(os, 'HEAD', '/src')).status, 404)
  const got = ((await call(os, 'GET', '/renamed/_settings?flat_settings=true')).json as Record<string, { settings: Record<string, unknown> }>).renamed?.settings
  t.hasStrict(got, { 'index.number_of_shards': '3', 'index.number_of_replicas': '0' })
  t.strictSame(((await call(os, 'GET', '/renamed/_mapping')).json as { renamed: { mappings: unknown } }).renamed.mappings, { properties: { k: { type: 'keyword' } } })

  const two = await runShell(`es-read --url ${es.url} --index 'logs-*' --schema | es-write --url ${os.url} --schema - --index both`)
  t.equal(two.code, 2)
  t.match(two.stderr, /es-write: --index renames the one index of a schema: --schema stdin holds 2 \(logs-1, logs-2\); leave --index out to create each under its own name/)
  const mixed = await runTool('es-write', ['--url', os.url, '--schema', file, '--create-index', '--index', 'x'])
  t.equal(mixed.code, 2)
  t.match(mixed.stderr, /--schema creates the indices it names: drop --create-index/)
})

t.test('a create the engine refuses: one line naming the field and what provides it; indices created before it are removed', async (t) => {
  const file = join(dir, 'plugin.ndjson')
  writeFileSync(file, [
    '{"_index":"vec-a","mappings":{"properties":{"k":{"type":"keyword"}}}}',
    '{"_index":"vec-b","mappings":{"properties":{"v":{"type":"knn_vector","dimension":3}}}}',
    '{"_index":"vec-c","mappings":{"properties":{"t":{"type":"text","analyzer":"icu_analyzer"}}}}'
  ].join('\n') + '\n')
  const r = await runTool('es-write', ['--url', os.url, '--schema', file])
  t.equal(r.code, 1)
  t.match(r.stderr, /es-write: error \[ES_SCHEMA_REFUSED\] index vec-b: field v: type knn_vector is unknown to OpenSearch 2\.19\.1 at http:\/\/127\.0\.0\.1:\d+ \(it comes with OpenSearch's k-NN plugin \(opensearch-knn\)\); nothing was written \(the 1 index created before it removed\)/)
  t.match(r.stderr, /removed index vec-a, created by this run before the refusal/)
  t.equal((await call(os, 'HEAD', '/vec-a')).status, 404)
  writeFileSync(file, '{"_index":"vec-c","mappings":{"properties":{"t":{"type":"text","analyzer":"icu_analyzer"}}}}\n')
  const analyzer = await runTool('es-write', ['--url', es.url, '--schema', file])
  t.equal(analyzer.code, 1)
  t.match(analyzer.stderr, /error \[ES_SCHEMA_REFUSED\] index vec-c: analyzer icu_analyzer is neither built into Elasticsearch 8\.19\.0 at http:\/\/127\.0\.0\.1:\d+ nor defined in the index's settings \(index\.analysis\.analyzer\.icu_analyzer\.\*\); it comes with the analysis-icu plugin; nothing was written/)
})

t.test('an alias the destination already gives other indices is left out, with a warning', async (t) => {
  const r = await runShell(`es-read --url ${es.url} --index logs-1 --schema | es-write --url ${es.url} --schema - --index logs-1-copy`)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /warning: index logs-1-copy: alias logs-read left out: it names logs-1 at /)
  t.match(r.stderr, /warning: index logs-1-copy: alias logs-w left out: it names logs-1 at /)
  t.strictSame((await call(es, 'GET', '/logs-1-copy/_alias')).json, { 'logs-1-copy': { aliases: {} } })
  t.strictSame(sorted(((await call(es, 'GET', '/logs-1-copy/_mapping')).json as Record<string, unknown>)['logs-1-copy']), sorted(((await call(es, 'GET', '/logs-1/_mapping')).json as Record<string, unknown>)['logs-1']))
})
