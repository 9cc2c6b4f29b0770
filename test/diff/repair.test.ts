import t from 'tap'
import { runShell, scratchDir } from '../helpers/run.js'
import { N, copies, doc, n, repairInputs } from '../helpers/diff-repair.js'

// The repair round trip: rec-diff SOURCE <(reader) | writer, then rec-diff again exits 0. Here
// for the missing and changed records, the `index` operations; the delete half (extra records)
// is repair-deletes.test.ts.

const dir = scratchDir(t)

const { db, es } = await copies(t, 'rec_diff')

t.test('MySQL: rec-diff | mysql-write --mode upsert, then rec-diff again exits 0', async (t) => {
  const env = { ...process.env, MYSQL_URL: db.url }
  const { source, stale, missing, changed } = repairInputs(dir, 'mysql', { huge: true })
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
  const want = doc(7, 0, true)
  t.equal(rows[0].content, want.slice(want.indexOf('"_source":') + 10, -1), 'a repaired row holds SOURCE\'s document byte for byte')
})

t.test('Elasticsearch (the test server): rec-diff | es-write, then rec-diff again exits 0', async (t) => {
  const env = { ...process.env, ES_URL: es.url }
  const { source, stale, missing, changed } = repairInputs(dir, 'es')
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
