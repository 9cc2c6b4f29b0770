import t from 'tap'
import { runShell, scratchDir } from '../helpers/run.js'
import { N, copies, n, repairInputs } from '../helpers/diff-repair.js'

// The delete half of the repair round trip (issue 26), with writers that honour the "_op"
// member (issue 24): TARGET holds records SOURCE does not, rec-diff writes
// {"_index","_id","_op":"delete"} for them, the writer deletes them, and rec-diff again exits 0.

const dir = scratchDir(t)

const { db, es } = await copies(t, 'rec_diff_deletes')

t.test('MySQL: the deletes apply, and rec-diff again exits 0', async (t) => {
  const env = { ...process.env, MYSQL_URL: db.url }
  const { source, stale, missing, changed, extra } = repairInputs(dir, 'mysql', { huge: true, extra: 150 })
  const load = await runShell(`mysql-write -q -t copy --create < ${stale}`, { env })
  t.equal(load.code, 0, load.stderr.slice(-500))
  const read = 'mysql-read -q -t copy --content-column content'
  const repair = await runShell(`rec-diff ${source} <(${read}) | mysql-write -t copy --mode upsert; echo "statuses \${PIPESTATUS[*]}"`, { env })
  t.match(repair.stdout, 'statuses 1 0', repair.stderr.slice(-500))
  t.match(repair.stderr, `mysql-write: ${missing + changed + extra} read, ${missing} inserted, ${changed} updated, ${extra} deleted, 0 skipped, 0 failed`)
  const rows = await db.rows<{ n: number }>('SELECT COUNT(*) AS n FROM copy')
  t.equal(Number(rows[0].n), N, 'the extra rows are gone')
  const after = await runShell(`rec-diff ${source} <(${read})`, { env })
  t.equal(after.code, 0, after.stderr.slice(-500))
  t.match(after.stderr, `rec-diff: ${n(N)} compared: ${n(N)} same, 0 missing, 0 changed, 0 extra`)
})

t.test('Elasticsearch (the test server): the deletes apply, and rec-diff again exits 0', async (t) => {
  const env = { ...process.env, ES_URL: es.url }
  const { source, stale, missing, changed, extra } = repairInputs(dir, 'es', { extra: 150 })
  const load = await runShell(`es-write -q --index copy --refresh < ${stale}`, { env })
  t.equal(load.code, 0, load.stderr.slice(-500))
  const read = 'es-read -q --index copy'
  const repair = await runShell(`rec-diff ${source} <(${read}) | es-write --index copy --refresh; echo "statuses \${PIPESTATUS[*]}"`, { env })
  t.match(repair.stdout, 'statuses 1 0', repair.stderr.slice(-500))
  t.match(repair.stderr, `es-write: ${missing + changed + extra} read, ${missing} created, ${changed} updated, ${extra} deleted, 0 skipped, 0 failed`)
  const after = await runShell(`rec-diff ${source} <(${read})`, { env })
  t.equal(after.code, 0, after.stderr.slice(-500))
  t.match(after.stderr, `rec-diff: ${n(N)} compared: ${n(N)} same, 0 missing, 0 changed, 0 extra`)
})
