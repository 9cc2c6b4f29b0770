import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { generateDocs } from '../servers/es/seed.js'
import { testDatabase } from '../helpers/mysql.js'
import type { TestDatabase } from '../helpers/mysql.js'
import { collect, installedBinDir, lines, runShell, scratchDir } from '../helpers/run.js'

const DOCS = 6000
const docs = generateDocs(DOCS)
const allIds = docs.map((d) => d._id).sort()

/** The table as the server holds it: id → content text (CAST, so no driver parses it). */
async function tableText (db: TestDatabase, table: string): Promise<Map<string, string>> {
  const rows = await db.rows<{ id: string, content: string }>(`SELECT id, CAST(content AS CHAR) AS content FROM \`${table}\``)
  return new Map(rows.map((r) => [r.id, r.content]))
}

/** What a table loaded from es-read must hold: each document's id → its _source bytes as the ES server stores them. */
function storedDocs (ids: readonly string[] = allIds): Map<string, string> {
  return new Map(ids.map((id) => [id, es.storedSource('logs', id) ?? `<no document ${id}>`]))
}

/** The rows that differ from `want` (missing, extra, or other bytes), the first few of them. */
function differences (got: Map<string, string>, want: Map<string, string>): string[] {
  const out: string[] = []
  for (const [id, text] of want) if (got.get(id) !== text) out.push(`${id}: ${got.has(id) ? `holds ${got.get(id) ?? ''}` : 'missing'}`)
  for (const id of got.keys()) if (!want.has(id)) out.push(`${id}: not expected`)
  return out.slice(0, 5)
}

/** Rows in `table`, or 0 while mysql-write has not created it yet. */
async function countIn (db: TestDatabase, table: string): Promise<number> {
  const rows = await db.rows<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${table}\``).catch((err: { code?: string }) => {
    if (err.code === 'ER_NO_SUCH_TABLE') return [{ n: 0 }]
    throw err
  })
  return Number(rows[0].n)
}

async function until (what: string, check: () => Promise<boolean>, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`gave up waiting for ${what}`)
}

let es: EsTestServer
let db: TestDatabase
t.before(async () => {
  es = await startEsServer()
  es.addDocs('logs', docs)
  db = await testDatabase(t, 'e2e')
})
t.teardown(async () => { await es.close() })

t.beforeEach(async (t) => {
  es.faults.reset()
  es.faults.latencyMs = 0
  t.context.env = { ...process.env, ES_URL: es.url, MYSQL_URL: db.url }
})

t.test('es-read | jq select | mysql-write: exactly the selected documents, byte for byte', async (t) => {
  const r = await runShell(`es-read --index logs --size 500 | jq -c 'select(._source.level == "error")' | mysql-write --table errors --create`, { env: t.context.env })
  t.equal(r.code, 0, r.stderr)
  const expected = docs.filter((d) => d._source.level === 'error').map((d) => d._id)
  t.ok(expected.length > 0 && expected.length < DOCS, `jq selects a part (${expected.length})`)
  t.strictSame(differences(await tableText(db, 'errors'), storedDocs(expected)), [], 'the selected documents, each byte for byte, and no other')
  t.match(r.stderr, new RegExp(`^mysql-write: ${expected.length} read, ${expected.length} inserted, `, 'm'))
  t.equal(es.openPits(), 0, 'the point in time was closed')
})

t.test('csv-read | mysql-write', async (t) => {
  const dir = scratchDir(t)
  const csv = join(dir, 'people.csv')
  writeFileSync(csv, 'id,name\n' + Array.from({ length: 2500 }, (_, i) => `p${i},Name ${i}`).join('\n') + '\n')
  const r = await runShell(`csv-read ${csv} | mysql-write --table people --create`, { env: t.context.env })
  t.equal(r.code, 0, r.stderr)
  const want = new Map(Array.from({ length: 2500 }, (_, i) => [`p${i}`, `{"id":"p${i}","name":"Name ${i}"}`]))
  t.strictSame(differences(await tableText(db, 'people'), want), [], 'every row, its cells as strings')
})

t.test('es-read | tee >(jsonl-write -o copy.jsonl.gz) | mysql-write: both copies complete', async (t) => {
  const dir = scratchDir(t)
  const copy = join(dir, 'copy.jsonl.gz')
  const r = await runShell(`es-read --index logs | tee >(jsonl-write -o ${copy}) | mysql-write --table teed --create; s=$?; wait $!; exit $s`, { env: t.context.env })
  t.equal(r.code, 0, r.stderr)
  t.strictSame(differences(await tableText(db, 'teed'), storedDocs()), [], 'the table: every document byte for byte')
  const copied = new Map(lines(gunzipSync(readFileSync(copy)).toString()).map((l) => [(JSON.parse(l) as { _id: string })._id, l]))
  const wantLines = new Map(allIds.map((id) => [id, `{"_index":"logs","_id":"${id}","_source":${es.storedSource('logs', id) ?? ''}}`]))
  t.strictSame(differences(copied, wantLines), [], 'the copy: every line es-read wrote, byte for byte')
})

t.test('mysql-write … 2>&1 >/dev/null | explain-errors: the cause and the table', async (t) => {
  const r = await runShell(`es-read --index logs --limit 10 | mysql-write --table no_such_table 2>&1 >/dev/null | explain-errors`, { env: t.context.env })
  t.equal(r.code, 1, 'pipefail: the load failed')
  t.match(r.stdout, /no_such_table/)
  t.match(r.stdout, /--create/, 'names the option that helps')
})

t.test('kill -9 es-read mid-run: the pipe fails, mysql-write commits what it got; rerun with --checkpoint: exact table', async (t) => {
  const dir = scratchDir(t)
  const ckpt = join(dir, 'logs.ckpt')
  es.faults.latencyMs = 30
  const script = `( echo $BASHPID > ${dir}/es.pid; exec es-read --index logs --size 100 --checkpoint ${ckpt} ) | mysql-write --table killed_reader --create --batch-size 100`
  const child = spawn('bash', ['-o', 'pipefail', '-c', script], { env: { ...t.context.env, PATH: `${installedBinDir()}:${process.env.PATH ?? ''}` } })
  const done = collect(child, null)
  await until('some rows', async () => await countIn(db, 'killed_reader') >= 500)
  process.kill(Number(readFileSync(join(dir, 'es.pid'), 'utf8')), 'SIGKILL')
  const r = await done
  t.not(r.code, 0, 'pipefail reports the killed reader')
  // The kill may cut es-read's last line in half: mysql-write then gets a line that is not
  // JSON, and that is a failed record (reported, not a crash); the rerun restores the record.
  const summary = /mysql-write: (\d+) read, (\d+) inserted, \d+ updated, \d+ skipped, (\d+) failed/.exec(r.stderr)
  t.ok(summary !== null, 'mysql-write ended cleanly with a summary')
  const [read, inserted, failed] = (summary ?? []).slice(1).map(Number)
  const cutLines = [...r.stderr.matchAll(/record error \[NDJSON_INVALID_JSON\] line (\d+) is not JSON/g)]
  t.equal(failed, cutLines.length, `failed records are the cut lines (${failed})`)
  t.ok(failed <= 1, 'at most the one line the kill cut')
  if (failed === 1) t.equal(Number(cutLines[0][1]), read, 'the cut line is the last one read')
  t.equal(inserted + failed, read, 'every whole line was inserted')
  const partial = await countIn(db, 'killed_reader')
  t.equal(partial, inserted, 'the table holds exactly what mysql-write reported')
  t.ok(partial > 0 && partial < DOCS, `part of the index landed (${partial})`)
  es.faults.latencyMs = 0
  const again = await runShell(`es-read --index logs --size 100 --checkpoint ${ckpt} | mysql-write --table killed_reader --batch-size 100`, { env: t.context.env })
  t.equal(again.code, 0, again.stderr)
  t.strictSame(differences(await tableText(db, 'killed_reader'), storedDocs()), [], 'every document once, byte for byte')
})

t.test('kill -9 mysql-write mid-run: es-read ends quietly on the closed pipe and closes its PIT; rerun: exact table', async (t) => {
  const dir = scratchDir(t)
  es.faults.latencyMs = 30
  const script = `es-read --index logs --size 100 | ( echo $BASHPID > ${dir}/mw.pid; exec mysql-write --table killed_writer --create --batch-size 100 ); echo "status=\${PIPESTATUS[*]}" >&2`
  const child = spawn('bash', ['-o', 'pipefail', '-c', script], { env: { ...t.context.env, PATH: `${installedBinDir()}:${process.env.PATH ?? ''}` } })
  const done = collect(child, null)
  await until('some rows', async () => await countIn(db, 'killed_writer') >= 500)
  process.kill(Number(readFileSync(join(dir, 'mw.pid'), 'utf8')), 'SIGKILL')
  const r = await done
  t.match(r.stderr, /status=0 137/, 'es-read exits 0 on the closed pipe; mysql-write was killed')
  t.notMatch(r.stderr, /EPIPE|\n\s+at /, 'no stack trace')
  await until('the PIT to be closed', async () => es.openPits() === 0, 50)
  t.equal(es.openPits(), 0)
  es.faults.latencyMs = 0
  const again = await runShell('es-read --index logs | mysql-write --table killed_writer', { env: t.context.env })
  t.equal(again.code, 0, again.stderr)
  t.strictSame(differences(await tableText(db, 'killed_writer'), storedDocs()), [], 'every document once, byte for byte')
})

t.test('SIGINT to the whole pipe group: every stage flushes and exits 130, nothing half-written', async (t) => {
  es.faults.latencyMs = 30
  const script = 'es-read --index logs --size 100 | mysql-write --table interrupted --create --batch-size 100; echo "status=${PIPESTATUS[*]}" >&2'
  const child = spawn('bash', ['-c', script], { detached: true, env: { ...t.context.env, PATH: `${installedBinDir()}:${process.env.PATH ?? ''}` } })
  const done = collect(child, null)
  await until('some rows', async () => await countIn(db, 'interrupted') >= 300)
  process.kill(-(child.pid ?? 0), 'SIGINT')
  const r = await done
  t.match(r.stderr, /status=130 130/)
  const emitted = Number(/es-read: \d+ read, (\d+) emitted/.exec(r.stderr)?.[1] ?? NaN)
  t.equal(await countIn(db, 'interrupted'), emitted, 'every record es-read wrote is in the table')
  t.match(r.stderr, new RegExp(`^mysql-write: ${emitted} read, ${emitted} inserted, `, 'm'))
  const held = await tableText(db, 'interrupted')
  t.strictSame(differences(held, storedDocs([...held.keys()])), [], 'each row holds its document whole')
  await until('the PIT to be closed', async () => es.openPits() === 0, 50)
})

t.test('scaling out: 4 slices with xargs -P, one table, exact', async (t) => {
  const r = await runShell(`mysql-write --table sliced --create < /dev/null && printf '%s\\n' 0 1 2 3 | xargs -P 4 -I{} bash -o pipefail -c 'es-read --index logs --slice {}/4 | mysql-write --table sliced'`, { env: t.context.env })
  t.equal(r.code, 0, r.stderr)
  t.strictSame(differences(await tableText(db, 'sliced'), storedDocs()), [], 'every document once, byte for byte')
  const perSlice = [...r.stderr.matchAll(/^es-read: (\d+) read, (\d+) emitted/gm)].map((m) => Number(m[2]))
  t.ok(perSlice.length === 4 && perSlice.every((n) => n > 0 && n < DOCS), `each of the 4 slices read a part (${perSlice.join(', ')})`)
})
