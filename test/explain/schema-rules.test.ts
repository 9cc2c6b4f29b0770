// explain-errors on es-write --schema's refusals (lib/explain/rules.ts): each code its rule, and
// the explanation names what the message named (the field, the index, the plugin).
import t from 'tap'
import { explainText } from '../../lib/explain/explain.js'
import { TOOLS } from '../../lib/cli.js'

const cases: Array<[string, string, string, string[]]> = [
  // [code, message as es-write prints it, rule, what the explanation must say]
  ['ES_SCHEMA_UNTRANSLATABLE', 'index metrics: field h: type histogram (pre-aggregated histograms) has no equivalent in OpenSearch', 'es-schema-untranslatable', ['create index metrics at https://es.internal:9200 with h,', "jq -c 'del(.mappings.properties.h)' SCHEMA_FILE"]],
  ['ES_SCHEMA_MAPPING_DIFFERS', 'index people exists at https://es.internal:9200 with another mapping: field name: type text in the schema, keyword in the existing index (--schema-exists keep writes into it as it is); nothing was created or written', 'es-schema-mapping-differs', ['(first at name)', "curl -u USER 'https://es.internal:9200/people/_mapping?pretty'"]],
  ['ES_SCHEMA_REFUSED', "index vec: field v: type knn_vector is unknown to OpenSearch 2.19.1 at https://es.internal:9200 (it comes with OpenSearch's k-NN plugin (opensearch-knn)); nothing was written", 'es-schema-refused', ["it comes with OpenSearch's k-NN plugin (opensearch-knn)", "curl -u USER 'https://es.internal:9200/_cat/plugins?v'"]],
  ['ES_SCHEMA_BAD_LINE', '--schema logs.ndjson line 3: unknown member "_id", "_source" (a document, not a schema line); a schema line is {"_index":…,"mappings":{…},"settings":{…},"aliases":{…}} as es-read --schema prints it', 'es-schema-bad-line', ['--schema logs.ndjson line 3 is not what es-read --schema prints']]
]

for (const [code, message, rule, says] of cases) {
  t.test(`${code}: ${rule}`, async (t) => {
    const r = await explainText(`es-write: error [${code}] ${message} (host=https://es.internal:9200)\n`, TOOLS)
    t.equal(r.problems.length, 1)
    t.equal(r.problems[0]?.rule, rule)
    const text = [r.problems[0]?.what ?? '', ...(r.problems[0]?.commands ?? [])]
    for (const s of says) t.ok(text.some((x) => x.includes(s)), `says ${s}: ${text.join(' | ')}`)
  })
}
