import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { testDatabase } from '../helpers/mysql.js'
import type { TestDatabase } from '../helpers/mysql.js'
import { runShell, scratchDir } from '../helpers/run.js'

// The repair round trip: rec-diff SOURCE <(reader) | writer, then rec-diff again exits 0. Here
// for the missing and changed records, the `index` operations, which the writers apply today:
// they take "_op" as one more member of the record and write its _source. The delete half
// (extra records) waits for writers that honour "_op" (the sync issue).

const N = 3000
/**
 * Values a copy must keep: 2^53+1, 1.0, -0, escapes, astral characters, nesting; and for MySQL
 * 1e400 (a JSON column keeps its text; Elasticsearch refuses it in a float field).
 */
const doc = (i: number, v = 0, huge = ''): string => `{"_index":"logs","_id":"r${i}","_source":{"n":${i},"v":${v},"big":900719925474099${i % 10},"f":1.0,"z":-0,${huge}"s":"é \\"q\\" 𝄞 ${i}","tags":["a","b"],"o":{"d":"2024-01-0${(i % 9) + 1}T00:00:00Z"}}}`

const dir = scratchDir(t)
const kept = Array.from({ length: N }, (_v, i) => i).filter((i) => i % 10 !== 3)
const missing = N - kept.length
const changed = kept.filter((i) => i % 7 === 0).length

/** SOURCE, and TARGET before the repair: every 10th record missing, every 7th changed (no extra one). */
function inputs (name: string, huge: string): { source: string, stale: string, doc: (i: number) => string } {
  const source = join(dir, `${name}-source.ndjson`)
  const stale = join(dir, `${name}-stale.ndjson`)
  writeFileSync(source, Array.from({ length: N }, (_v, i) => doc(i, 0, huge)).join('\n') + '\n')
  writeFileSync(stale, kept.map((i) => doc(i, i % 7 === 0 ? 1 : 0, huge)).join('\n') + '\n')
  return { source, stale, doc: (i) => doc(i, 0, huge) }
}
const n = (x: number): string => x.toLocaleString('en-US')

let db: TestDatabase
let es: EsTestServer
t.before(async () => {
  db = await testDatabase(t, 'rec_diff')
  es = await startEsServer()
})
t.teardown(async () => { await es.close() })

t.test('MySQL: rec-diff | mysql-write --mode upsert, then rec-diff again exits 0', async (t) => {
  const env = { ...process.env, MYSQL_URL: db.url }
  const { source, stale, doc } = inputs('mysql', '"e":1e400,')
  const load = await runShell(`mysql-write -q -t copy --create < ${stale}`, { env })
  t.equal(load.code, 0, load.stderr.slice(-500))
  const read = 'mysql-read -q -t copy --content-column content'
  const before = await runShell(`rec-diff -q ${source} <(${read})`, { env })
  t.equal(before.code, 1, 'the copy differs')
  t.match(before.stderr, `rec-diff: ${n(N)} compared: ${n(N - missing - changed)} same, ${missing} missing, ${changed} changed, 0 extra`)

  const repair = await runShell(`rec-diff ${source} <(${read}) | mysql-write -t copy --mode upsert; echo "statuses \${PIPESTATUS[*]}"`, { env })
  t.match(repair.stdout, 'statuses 1 0', 'rec-diff says "different" (1); mysql-write writes every operation (0)')
  t.match(repair.stderr, `mysql-write: ${missing + changed} read, ${missing} inserted, ${changed} updated, 0 skipped, 0 failed`, 'the "_op" member is one more member to mysql-write: it writes _source')

  const after = await runShell(`rec-diff ${source} <(${read})`, { env })
  t.equal(after.code, 0, after.stderr.slice(-500))
  t.equal(after.stdout, '')
  t.match(after.stderr, `rec-diff: ${n(N)} compared: ${n(N)} same, 0 missing, 0 changed, 0 extra`)
  const rows = await db.rows<{ content: string }>("SELECT CAST(content AS CHAR) AS content FROM copy WHERE id = 'r7'")
  t.equal(rows[0].content, doc(7).slice(doc(7).indexOf('"_source":') + 10, -1), 'a repaired row holds SOURCE\'s document byte for byte')
})

t.test('Elasticsearch (the test server): rec-diff | es-write, then rec-diff again exits 0', async (t) => {
  const env = { ...process.env, ES_URL: es.url }
  const { source, stale } = inputs('es', '')
  const load = await runShell(`es-write -q --index copy --refresh < ${stale}`, { env })
  t.equal(load.code, 0, load.stderr.slice(-500))
  const read = 'es-read -q --index copy'
  const repair = await runShell(`rec-diff ${source} <(${read}) | es-write --index copy --refresh; echo "statuses \${PIPESTATUS[*]}"`, { env })
  t.match(repair.stdout, 'statuses 1 0')
  t.match(repair.stderr, `es-write: ${missing + changed} read, ${missing} created, ${changed} updated, 0 deleted, 0 skipped, 0 failed`)
  const after = await runShell(`rec-diff ${source} <(${read})`, { env })
  t.equal(after.code, 0, after.stderr.slice(-500))
  t.match(after.stderr, `rec-diff: ${n(N)} compared: ${n(N)} same, 0 missing, 0 changed, 0 extra`)
})
