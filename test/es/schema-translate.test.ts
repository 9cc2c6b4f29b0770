// A schema line made fit for the destination engine (lib/es/schema-translate.ts), the first
// difference between two mappings (schema-compare.ts), and the schema line itself (schema-line.ts).
import t from 'tap'
import { parseExact, stringifyExact } from '../../lib/core/json.js'
import type { JsonObject } from '../../lib/core/record.js'
import type { ClusterInfo } from '../../lib/es/client.js'
import { firstMappingDifference } from '../../lib/es/schema-compare.js'
import { formatSchemaLine, parseSchemaLines } from '../../lib/es/schema-line.js'
import { translateSchema } from '../../lib/es/schema-translate.js'

const OS219: ClusterInfo = { distribution: 'opensearch', version: '2.19.1' }
const OS25: ClusterInfo = { distribution: 'opensearch', version: '2.5.0' }
const ES819: ClusterInfo = { distribution: 'elasticsearch', version: '8.19.0' }
const ES817: ClusterInfo = { distribution: 'elasticsearch', version: '8.7.0' }
const ES717: ClusterInfo = { distribution: 'elasticsearch', version: '7.17.28' }

const schema = (mappings: string, settings = '{}', aliases = '{}'): { index: string, mappings: JsonObject, settings: JsonObject, aliases: JsonObject } =>
  ({ index: 'i', mappings: parseExact(mappings) as JsonObject, settings: parseExact(settings) as JsonObject, aliases: parseExact(aliases) as JsonObject })

const json = (v: unknown): string => stringifyExact(v)

t.test('same engine: the definition as it is, exact numbers kept, engine-own settings left out, nothing said', async (t) => {
  const s = schema('{"_meta":{"n":12345678901234567890},"properties":{"sf":{"type":"scaled_float","scaling_factor":100.0},"fo":{"type":"flat_object"}}}', '{"index.number_of_shards":"2","index.uuid":"u","index.replication.type":"DOCUMENT"}', '{"a":{}}')
  const got = translateSchema(s, OS219)
  t.equal(json(got.mappings), '{"_meta":{"n":12345678901234567890},"properties":{"sf":{"type":"scaled_float","scaling_factor":100.0},"fo":{"type":"flat_object"}}}')
  t.strictSame(got.settings, { 'index.number_of_shards': '2', 'index.replication.type': 'DOCUMENT' })
  t.strictSame(got.aliases, { a: {} })
  t.strictSame([got.notes, got.refusals], [[], []])
})

t.test('flattened ↔ flat_object, in multi-fields and objects too; a flattened with parameters is refused', async (t) => {
  const toOs = translateSchema(schema('{"properties":{"o":{"properties":{"labels":{"type":"flattened"}}},"x":{"type":"flattened","ignore_above":10,"depth_limit":2}}}'), OS219)
  t.equal(json(toOs.mappings), '{"properties":{"o":{"properties":{"labels":{"type":"flat_object"}}}}}')
  t.strictSame(toOs.notes, ['field o.labels: flattened → flat_object'])
  t.strictSame(toOs.refusals, ['field x: flattened\'s ignore_above, depth_limit have no flat_object equivalent'])
  const toEs = translateSchema(schema('{"properties":{"labels":{"type":"flat_object"}}}'), ES717)
  t.equal(json(toEs.mappings), '{"properties":{"labels":{"type":"flattened"}}}')
  t.strictSame(toEs.notes, ['field labels: flat_object → flattened'])
  t.strictSame(translateSchema(schema('{"properties":{"labels":{"type":"flattened"}}}'), OS25).refusals, ['field labels: type flattened has no equivalent in OpenSearch 2.5.0 (flat_object came with 2.7)'])
})

t.test('dense_vector → knn_vector: dims become the dimension, an indexed similarity an hnsw method (and index.knn)', async (t) => {
  const got = translateSchema(schema('{"properties":{"v":{"type":"dense_vector","dims":384,"index":true,"similarity":"cosine","index_options":{"type":"int8_hnsw","m":16,"ef_construction":100}},"w":{"type":"dense_vector","dims":3,"index":false}}}'), OS219)
  t.equal(json(got.mappings), '{"properties":{"v":{"type":"knn_vector","dimension":384,"method":{"name":"hnsw","space_type":"cosinesimil","engine":"lucene","parameters":{"m":16,"ef_construction":100}}},"w":{"type":"knn_vector","dimension":3}}}')
  t.strictSame(got.settings, { 'index.knn': 'true' })
  t.strictSame(got.notes, [
    'field v: dense_vector → knn_vector (dims → dimension, similarity cosine → hnsw cosinesimil; int8_hnsw\'s quantization is not carried)',
    'field w: dense_vector → knn_vector (dims → dimension)',
    'setting index.knn = true added: OpenSearch builds a knn_vector\'s hnsw graph only in such an index'
  ])
  t.strictSame(translateSchema(schema('{"properties":{"v":{"type":"dense_vector","dims":8,"element_type":"bit"},"u":{"type":"dense_vector"}}}'), OS219).refusals, [
    'field v: dense_vector with element_type bit has no knn_vector equivalent',
    'field u: dense_vector has no dims yet (it takes them from its first document): give the mapping its dims'
  ])
})

t.test('knn_vector → dense_vector: Elasticsearch 8 gets the similarity and hnsw options; 7 only a vector without kNN search', async (t) => {
  const knn = '{"properties":{"v":{"type":"knn_vector","dimension":4,"method":{"name":"hnsw","space_type":"l2","engine":"lucene","parameters":{"m":24}}},"w":{"type":"knn_vector","dimension":2}}}'
  const es8 = translateSchema(schema(knn, '{"index.knn":"true","index.number_of_replicas":"0"}'), ES819)
  t.equal(json(es8.mappings), '{"properties":{"v":{"type":"dense_vector","dims":4,"index":true,"similarity":"l2_norm","index_options":{"type":"hnsw","m":24}},"w":{"type":"dense_vector","dims":2,"index":false}}}')
  t.strictSame(es8.settings, { 'index.number_of_replicas': '0' })
  t.match(es8.notes, ['field v: knn_vector → dense_vector (dimension → dims, space_type → similarity l2_norm)', 'field w: knn_vector → dense_vector (dimension → dims)', /^setting index.knn left out/])
  const es7 = translateSchema(schema(knn), ES717)
  t.strictSame(es7.refusals, ['field v: knn_vector with a method (kNN search) has no equivalent in Elasticsearch 7.17.28: its dense_vector is for script scoring only'])
  t.equal(json(es7.mappings), '{"properties":{"w":{"type":"dense_vector","dims":2}}}')
  // innerproduct is max_inner_product from 8.11; dot_product before it needs unit vectors: not the same.
  const ip = '{"properties":{"v":{"type":"knn_vector","dimension":4,"method":{"name":"hnsw","space_type":"innerproduct"}}}}'
  t.equal(json(translateSchema(schema(ip), ES819).mappings), '{"properties":{"v":{"type":"dense_vector","dims":4,"index":true,"similarity":"max_inner_product","index_options":{"type":"hnsw"}}}}')
  t.strictSame(translateSchema(schema(ip), ES817).refusals, ['field v: knn_vector space_type innerproduct has no dense_vector similarity in Elasticsearch 8.7.0'])
  t.strictSame(translateSchema(schema('{"properties":{"v":{"type":"knn_vector","dimension":4,"method":{"name":"ivf","space_type":"l2"}}}}'), ES819).refusals, ['field v: knn_vector method ivf has no dense_vector equivalent (hnsw has)'])
})

t.test('one refusal per field, setting or root parameter with no equivalent; the rest is translated', async (t) => {
  const toOs = translateSchema(schema(
    '{"runtime":{"r":{"type":"keyword"}},"properties":{"h":{"type":"histogram"},"v":{"type":"version"},"t":{"type":"text","fields":{"s":{"type":"semantic_text"}}},"k":{"type":"keyword"}}}',
    '{"index.lifecycle.name":"hot","index.mode":"time_series","index.number_of_shards":"1","index.routing.allocation.include._tier_preference":"data_content"}'
  ), OS219)
  t.strictSame(toOs.refusals, [
    'mapping runtime: Elasticsearch\'s, with no equivalent in OpenSearch',
    'field h: type histogram (pre-aggregated histograms) has no equivalent in OpenSearch',
    'field v: type version (semantic-version ordering) has no equivalent in OpenSearch',
    'field t.s: type semantic_text (inference at index time) has no equivalent in OpenSearch',
    'setting index.lifecycle.name: an index lifecycle (ILM) setting, with no equivalent in OpenSearch (attach an ISM policy after the index is made)',
    'setting index.mode: time_series indices have no equivalent in OpenSearch'
  ])
  t.strictSame(toOs.settings, { 'index.number_of_shards': '1' })
  const toEs = translateSchema(schema('{"derived":{"d":{"type":"keyword"}},"properties":{"s":{"type":"semantic"},"w":{"type":"wildcard","doc_values":false}}}', '{"index.replication.type":"SEGMENT","index.plugins.index_state_management.rollover_alias":"x"}'), ES819)
  t.strictSame(toEs.refusals, [
    'mapping derived: OpenSearch\'s, with no equivalent in Elasticsearch',
    'field s: type semantic (neural-search inference at index time) has no equivalent in Elasticsearch',
    'setting index.replication.type: SEGMENT replication has no equivalent in Elasticsearch (document replication only)',
    'setting index.plugins.index_state_management.rollover_alias: an OpenSearch plugin\'s, with no equivalent in Elasticsearch'
  ])
  // OpenSearch prints its wildcard's default (no doc values), a parameter Elasticsearch's does not take.
  t.equal(json(toEs.mappings), '{"properties":{"w":{"type":"wildcard"}}}')
})

t.test('first mapping difference: named by field path, in the schema\'s order; key order, implied object type and number forms are not differences', async (t) => {
  const m = (s: string): JsonObject => parseExact(s) as JsonObject
  const base = '{"dynamic":"strict","properties":{"user":{"type":"object","properties":{"name":{"type":"text","fields":{"raw":{"type":"keyword","ignore_above":256}}}}},"sf":{"type":"scaled_float","scaling_factor":100}}}'
  t.equal(firstMappingDifference(m(base), m('{"properties":{"sf":{"scaling_factor":100.0,"type":"scaled_float"},"user":{"properties":{"name":{"fields":{"raw":{"ignore_above":"256","type":"keyword"}},"type":"text"}}}},"dynamic":"strict"}')), undefined)
  t.equal(firstMappingDifference(m(base), m('{"dynamic":"strict","properties":{"user":{"properties":{"name":{"type":"keyword"}}},"sf":{"type":"long"}}}')), 'field user.name: type text in the schema, keyword in the existing index')
  t.equal(firstMappingDifference(m(base), m('{"dynamic":"strict","properties":{"user":{"properties":{"name":{"type":"text","fields":{"raw":{"type":"keyword","ignore_above":100}}}}},"sf":{"type":"scaled_float","scaling_factor":100}}}')), 'field user.name.raw: ignore_above 256 in the schema, 100 in the existing index')
  t.equal(firstMappingDifference(m(base), m('{"dynamic":"strict","properties":{"user":{"properties":{"name":{"type":"text","fields":{"raw":{"type":"keyword","ignore_above":256}}}}}}}')), 'field sf: not in the existing index')
  t.equal(firstMappingDifference(m('{"properties":{"a":{"type":"long"}}}'), m('{"properties":{"a":{"type":"long"},"b":{"type":"long"}}}')), 'field b: only in the existing index')
  t.equal(firstMappingDifference(m(base), m('{"dynamic":"true","properties":{}}')), 'mapping dynamic: strict in the schema, true in the existing index')
  // What an engine prints of its own defaults is no difference; the same parameter set otherwise is.
  t.equal(firstMappingDifference(m('{"properties":{"w":{"type":"wildcard"},"c":{"type":"completion"}}}'), m('{"properties":{"w":{"type":"wildcard","doc_values":false},"c":{"type":"completion","analyzer":"simple","max_input_length":50}}}')), undefined)
  t.equal(firstMappingDifference(m('{"properties":{"c":{"type":"completion"}}}'), m('{"properties":{"c":{"type":"completion","max_input_length":20}}}')), 'field c: max_input_length nothing in the schema, 20 in the existing index')
  t.equal(firstMappingDifference(m('{"properties":{"n":{"type":"long","null_value":12345678901234567890}}}'), m('{"properties":{"n":{"type":"long","null_value":12345678901234567891}}}')), 'field n: null_value 12345678901234567890 in the schema, 12345678901234567891 in the existing index')
})

t.test('schema lines: printed in one order with exact numbers; read back with nested settings flattened; anything else refused by line', async (t) => {
  const s = schema('{"properties":{"n":{"type":"long","null_value":12345678901234567890}}}', '{"index.number_of_shards":"1"}')
  const line = formatSchemaLine(s)
  t.equal(line, '{"_index":"i","mappings":{"properties":{"n":{"type":"long","null_value":12345678901234567890}}},"settings":{"index.number_of_shards":"1"},"aliases":{}}')
  const back = parseSchemaLines(`${line}\n\n{"_index":"j","settings":{"index":{"refresh_interval":"1s","analysis":{"analyzer":{"a":{"filter":["lowercase"]}}}},"number_of_replicas":0}}\n`, '--schema f')
  t.equal(back.length, 2)
  t.equal(formatSchemaLine(back[0] as typeof s), line)
  t.strictSame(back[1], { index: 'j', mappings: {}, settings: { 'index.refresh_interval': '1s', 'index.analysis.analyzer.a.filter': ['lowercase'], 'index.number_of_replicas': 0 }, aliases: {} })
  const refused = (text: string): string => { try { parseSchemaLines(text, '--schema f'); return 'accepted' } catch (err) { return `${(err as { code: string }).code} ${(err as Error).message}` } }
  t.match(refused('{"_index":"a"}\n{"_index":"b","_id":"1","_source":{}}'), /^ES_SCHEMA_BAD_LINE --schema f line 2: unknown member "_id", "_source" \(a document, not a schema line\)/)
  t.match(refused('{"_index":"a"}\n{"_index":"a"}'), /^ES_SCHEMA_BAD_LINE --schema f line 2: index a is named a second time/)
  t.match(refused('{"mappings":{}}'), /line 1: "_index" must be a non-empty string/)
  t.match(refused('{"_index":"a","mappings":[]}'), /line 1: "mappings" must be a JSON object/)
  t.match(refused('{"_index":'), /^ES_SCHEMA_BAD_LINE --schema f line 1: not JSON/)
})
