// es-read --schema | es-write --schema against each real engine (OpenSearch 2.19, Elasticsearch
// 7.17, OpenSearch 3.3) and the test server in both dialects (see targets.ts): an index with
// every core field type, multi-fields, analyzers and aliases copied to a second index of the
// same engine, saved and restored after the index is dropped, and carried across engines (a real
// node's to the test server's Elasticsearch dialect and back; each dialect to the other); fields
// with no equivalent refused in one line each before anything is created.
//
// "Equal after normalisation": GET _mapping of the copy is GET _mapping of the source with its
// object members in any order (each engine prints them in its own), and, across engines, with
// the fields the README's translation table renames given their other name (flat_object as
// flattened, and back). Nothing else: every parameter the source engine printed, defaults it
// adds included, must be printed by the destination too.
import t from 'tap'
import type { Test } from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runShell, runTool } from '../helpers/run.js'
import { atLeast, call, targets, testServer } from './targets.js'
import type { Target } from './targets.js'

const SRC = 'engine-schema-src'

/** What every engine of the suite has in its core: the embedded Elasticsearch 7.17 has no modules (not even geo_shape). */
function mappingFor (target: Target): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    title: { type: 'text', analyzer: 'folded', search_analyzer: 'standard', fields: { raw: { type: 'keyword', ignore_above: 256 }, stopped: { type: 'text', analyzer: 'std_stop' } } },
    tag: { type: 'keyword', doc_values: false },
    l: { type: 'long' },
    i: { type: 'integer', coerce: false },
    s: { type: 'short' },
    b: { type: 'byte' },
    d: { type: 'double' },
    f: { type: 'float' },
    hf: { type: 'half_float' },
    day: { type: 'date', format: 'yyyy-MM-dd||epoch_millis' },
    nanos: { type: 'date_nanos' },
    ok: { type: 'boolean' },
    blob: { type: 'binary' },
    addr: { type: 'ip' },
    where: { type: 'geo_point' },
    user: { properties: { name: { type: 'keyword' }, age: { type: 'integer' } } },
    items: { type: 'nested', properties: { sku: { type: 'keyword' } } },
    opaque: { type: 'object', enabled: false },
    tag_alias: { type: 'alias', path: 'tag' },
    ir: { type: 'integer_range' },
    dr: { type: 'date_range' },
    suggest: { type: 'completion' }
  }
  // The engines that have them (OpenSearch's core, the test server in both dialects).
  if (target.distribution === 'opensearch' || !target.real) {
    Object.assign(properties, { area: { type: 'geo_shape' }, sf: { type: 'scaled_float', scaling_factor: 100 }, ul: { type: 'unsigned_long' }, w: { type: 'wildcard' }, tc: { type: 'token_count', analyzer: 'standard' } })
  }
  if (target.distribution === 'opensearch') properties.labels = { type: 'flat_object' }
  return { dynamic: 'strict', _meta: { owner: 'espipe' }, properties }
}

const SETTINGS = {
  number_of_shards: 2,
  number_of_replicas: 0,
  refresh_interval: '7s',
  analysis: { analyzer: { folded: { type: 'custom', tokenizer: 'standard' }, std_stop: { type: 'standard', stopwords: ['the', 'a'], max_token_length: 100 } } }
}

const ALIASES = { 'engine-schema-read': {}, 'engine-schema-w': { is_write_index: true, routing: '1' } }

const tmp = mkdtempSync(join(tmpdir(), 'espipe-engine-schema-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

const all = await targets(t)
const peer = all.some((target) => target.real) ? await testServer(t, 'elasticsearch', '8.19.0') : undefined

async function create (target: Target, index: string, body: unknown): Promise<void> {
  await call(target, 'DELETE', `/${index}`)
  const made = await call(target, 'PUT', `/${index}`, body)
  if (made.status !== 200) throw new Error(`creating ${index} on ${target.name}: ${made.status} ${made.text}`)
}

async function drop (target: Target, ...indices: string[]): Promise<void> {
  for (const index of indices) await call(target, 'DELETE', `/${index}`)
}

/** Objects with their members in name order, at every depth. */
function sorted (v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]))
  return v
}

async function mapping (target: Target, index: string): Promise<Record<string, unknown>> {
  const got = (await call(target, 'GET', `/${index}/_mapping`)).json as Record<string, { mappings: Record<string, unknown> }>
  const m = got[index]?.mappings
  if (m === undefined) throw new Error(`no mapping of ${index} on ${target.name}`)
  return m
}

/** The README's table, applied to a printed mapping: flat_object and flattened under the other's name. */
function renamedFor (m: Record<string, unknown>, to: Target): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk)
    if (v === null || typeof v !== 'object') return v
    const o = v as Record<string, unknown>
    if (o.type === 'flat_object' && to.distribution === 'elasticsearch') return { ...o, type: 'flattened' }
    if (o.type === 'flattened' && to.distribution === 'opensearch') return { ...o, type: 'flat_object' }
    // OpenSearch prints its wildcard's default, which Elasticsearch's wildcard does not take.
    if (o.type === 'wildcard' && to.distribution === 'elasticsearch' && o.doc_values === false) { const { doc_values: _d, ...rest } = o; return rest }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, walk(x)]))
  }
  return walk(m)
}

async function settings (target: Target, index: string): Promise<Record<string, unknown>> {
  return ((await call(target, 'GET', `/${index}/_settings?flat_settings=true`)).json as Record<string, { settings: Record<string, unknown> }>)[index]?.settings ?? {}
}

function sameDefinition (t: Test, got: { mapping: unknown, settings: Record<string, unknown> }, want: { mapping: unknown }, what: string): void {
  t.strictSame(sorted(got.mapping), sorted(want.mapping), `${what}: GET _mapping equal after normalisation`)
  t.hasStrict(got.settings, {
    'index.number_of_shards': '2',
    'index.number_of_replicas': '0',
    'index.refresh_interval': '7s',
    'index.analysis.analyzer.folded.tokenizer': 'standard',
    'index.analysis.analyzer.std_stop.stopwords': ['the', 'a'],
    'index.analysis.analyzer.std_stop.max_token_length': '100'
  }, `${what}: the settings`)
}

function eachTarget (name: string, fn: (t: Test, target: Target, i: number) => Promise<void>): void {
  t.test(name, async (t) => {
    for (const [i, target] of all.entries()) await t.test(target.name, async (t) => await fn(t, target, i))
  })
}

eachTarget('a second index of the same engine, and the index restored from its saved schema after a drop: the same mapping, settings and aliases', async (t, target) => {
  await create(target, SRC, { settings: SETTINGS, mappings: mappingFor(target), aliases: ALIASES })
  const source = await mapping(target, SRC)
  const copy = `${SRC}-copy`
  await drop(target, copy)
  const r = await runShell(`es-read --url ${target.url} --index ${SRC} --schema | es-write --url ${target.url} --schema - --index ${copy}`)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, new RegExp(`warning: index ${copy}: alias engine-schema-read left out: it names ${SRC} at `), 'the source\'s aliases stay its own')
  sameDefinition(t, { mapping: await mapping(target, copy), settings: await settings(target, copy) }, { mapping: source }, 'the copy')

  const saved = join(tmp, `saved-${all.indexOf(target)}.ndjson`)
  const read = await runTool('es-read', ['--url', target.url, '--index', SRC, '--schema'])
  t.equal(read.code, 0, read.stderr)
  writeFileSync(saved, read.stdout)
  await drop(target, SRC)
  const restored = await runTool('es-write', ['--url', target.url, '--schema', saved])
  t.equal(restored.code, 0, restored.stderr)
  sameDefinition(t, { mapping: await mapping(target, SRC), settings: await settings(target, SRC) }, { mapping: source }, 'restored')
  const aliases = (await call(target, 'GET', `/${SRC}/_alias`)).json as Record<string, { aliases: unknown }>
  t.strictSame(aliases[SRC]?.aliases, { 'engine-schema-read': {}, 'engine-schema-w': { index_routing: '1', search_routing: '1', is_write_index: true } }, 'its aliases, as GET _alias prints them')
  const rerun = await runTool('es-write', ['--url', target.url, '--schema', saved])
  t.equal(rerun.code, 0, rerun.stderr)
  t.match(rerun.stderr, new RegExp(`index ${SRC} exists with the schema's mapping; writing into it`), 'a rerun finds its index as the schema has it')
  await drop(target, copy)
})

eachTarget('across engines: to the other engine and back, renamed where the table says, equal after normalisation', async (t, target, i) => {
  await create(target, SRC, { settings: SETTINGS, mappings: mappingFor(target), aliases: ALIASES })
  const source = await mapping(target, SRC)
  const pairs: Array<[Target, Target]> = target.real && peer !== undefined ? [[target, peer]] : [[target, all[(i + 1) % all.length] as Target]]
  for (const [from, to] of pairs) {
    if (from === to) continue
    const there = `${SRC}-from-${i}`
    // The other dialect's own source holds the same aliases: they would be left out, as taken.
    await drop(to, there, SRC)
    const r = await runShell(`es-read --url ${from.url} --index ${SRC} --schema | es-write --url ${to.url} --schema - --index ${there}`)
    t.equal(r.code, 0, r.stderr)
    if (from.distribution !== to.distribution && target.distribution === 'opensearch') t.match(r.stderr, new RegExp(`index ${there}: field labels: flat_object → flattened`))
    sameDefinition(t, { mapping: await mapping(to, there), settings: await settings(to, there) }, { mapping: renamedFor(source, to) }, `${from.name} to ${to.name}`)
    t.strictSame(((await call(to, 'GET', `/${there}/_alias`)).json as Record<string, { aliases: unknown }>)[there]?.aliases, { 'engine-schema-read': {}, 'engine-schema-w': { index_routing: '1', search_routing: '1', is_write_index: true } }, 'the aliases carried')
    // A rerun of the migration finds the index as the schema, translated, made it: what the
    // destination prints of its own defaults is no difference.
    const rerun = await runShell(`es-read --url ${from.url} --index ${SRC} --schema | es-write --url ${to.url} --schema - --index ${there}`)
    t.equal(rerun.code, 0, rerun.stderr)
    t.match(rerun.stderr, new RegExp(`index ${there} exists with the schema's mapping; writing into it`))
    // And back, beside the source: the same mapping it left with.
    const back = `${SRC}-back`
    await drop(from, back)
    const b = await runShell(`es-read --url ${to.url} --index ${there} --schema | es-write --url ${from.url} --schema - --index ${back}`)
    t.equal(b.code, 0, b.stderr)
    sameDefinition(t, { mapping: await mapping(from, back), settings: await settings(from, back) }, { mapping: source }, `${to.name} back to ${from.name}`)
    await drop(from, back)
    await drop(to, there)
  }
})

eachTarget('refused: each field with no equivalent in this engine its one line, exit 1, nothing created', async (t, target) => {
  const file = join(tmp, `refused-${all.indexOf(target)}.ndjson`)
  const foreign = target.distribution === 'opensearch'
    ? '{"_index":"engine-schema-refused","mappings":{"properties":{"h":{"type":"histogram"},"v":{"type":"version"},"s":{"type":"sparse_vector"},"k":{"type":"keyword"}}},"settings":{"index.lifecycle.name":"hot"}}'
    : '{"_index":"engine-schema-refused","mappings":{"properties":{"s":{"type":"semantic"},"v":{"type":"knn_vector","dimension":4,"method":{"name":"ivf","space_type":"l2"}},"k":{"type":"keyword"}}},"settings":{"index.plugins.index_state_management.rollover_alias":"x"}}'
  writeFileSync(file, foreign + '\n')
  const docs = join(tmp, 'refused-docs.ndjson')
  writeFileSync(docs, '{"_index":"engine-schema-refused","_id":"1","_source":{"k":"x"}}\n')
  await drop(target, 'engine-schema-refused')
  const r = await runTool('es-write', ['--url', target.url, '--schema', file, docs])
  t.equal(r.code, 1)
  const errors = r.stderr.split('\n').filter((l) => l.includes('error [ES_SCHEMA_UNTRANSLATABLE]')).map((l) => l.replace(/^es-write: error \[ES_SCHEMA_UNTRANSLATABLE\] index engine-schema-refused: /, '').replace(/ \((?:and the \d+ above\)|host=).*$/, '').replace(/; nothing was created or written.*$/, ''))
  t.strictSame(errors, target.distribution === 'opensearch'
    ? ['field h: type histogram (pre-aggregated histograms) has no equivalent in OpenSearch', 'field v: type version (semantic-version ordering) has no equivalent in OpenSearch', 'field s: type sparse_vector (learned sparse vectors (ELSER)) has no equivalent in OpenSearch', 'setting index.lifecycle.name: an index lifecycle (ILM) setting, with no equivalent in OpenSearch (attach an ISM policy after the index is made)']
    : ['field s: type semantic (neural-search inference at index time) has no equivalent in Elasticsearch',
        atLeast(target, 8) ? 'field v: knn_vector method ivf has no dense_vector equivalent (hnsw has)' : `field v: knn_vector with a method (kNN search) has no equivalent in Elasticsearch ${target.version}: its dense_vector is for script scoring only`,
        'setting index.plugins.index_state_management.rollover_alias: an OpenSearch plugin\'s, with no equivalent in Elasticsearch'])
  t.equal((await call(target, 'HEAD', '/engine-schema-refused')).status, 404, 'nothing created')
})

eachTarget('a type this node lacks (a plugin, a module): the engine\'s refusal in one line naming what provides it, nothing left behind', async (t, target) => {
  const file = join(tmp, `lacking-${all.indexOf(target)}.ndjson`)
  // Neither the suite's OpenSearch nodes nor the test server have the k-NN plugin; the embedded
  // Elasticsearch 7.17 has no modules (mapper-extras' scaled_float); the test server's
  // Elasticsearch dialect has both, but no analysis-icu.
  const lacking = target.distribution === 'opensearch'
    ? { line: '{"_index":"engine-schema-lacking","mappings":{"properties":{"v":{"type":"knn_vector","dimension":3}}}}', said: /field v: type knn_vector is unknown to OpenSearch [\d.]+ at \S+ \(it comes with OpenSearch's k-NN plugin \(opensearch-knn\)\)/ }
    : target.real
      ? { line: '{"_index":"engine-schema-lacking","mappings":{"properties":{"sf":{"type":"scaled_float","scaling_factor":10}}}}', said: /field sf: type scaled_float is unknown to Elasticsearch 7\.17\.\d+ at \S+ \(it comes with the mapper-extras module\)/ }
      : { line: '{"_index":"engine-schema-lacking","mappings":{"properties":{"t":{"type":"text","analyzer":"icu_analyzer"}}}}', said: /analyzer icu_analyzer is neither built into Elasticsearch [\d.]+ at \S+ nor defined in the index's settings \(index\.analysis\.analyzer\.icu_analyzer\.\*\); it comes with the analysis-icu plugin/ }
  writeFileSync(file, `{"_index":"engine-schema-first","mappings":{"properties":{"k":{"type":"keyword"}}}}\n${lacking.line}\n`)
  await drop(target, 'engine-schema-first', 'engine-schema-lacking')
  const r = await runTool('es-write', ['--url', target.url, '--schema', file])
  t.equal(r.code, 1)
  t.match(r.stderr, /error \[ES_SCHEMA_REFUSED\] index engine-schema-lacking: /)
  t.match(r.stderr, lacking.said)
  t.match(r.stderr, /nothing was written \(the 1 index created before it removed\)/)
  t.equal((await call(target, 'HEAD', '/engine-schema-first')).status, 404, 'the index created before it removed')
  t.equal((await call(target, 'HEAD', '/engine-schema-lacking')).status, 404)
})

t.teardown(async () => {
  for (const target of all) await drop(target, SRC, `${SRC}-copy`)
})
