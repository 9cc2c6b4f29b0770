// mysql-read --binlog against the real MariaDB (binary log on, ROW, FULL images): the snapshot
// and the row events, through real shell pipes into jsonl-write (which keeps `_op`), checked
// against what mysql-read itself reads of the table and what the server says it holds.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { installedBinDir, collect, lines, runShell, scratchDir } from '../helpers/run.js'
import { testDatabase } from '../helpers/mysql.js'
import { COLS, ROWS } from '../helpers/mysql-types.js'
import { random } from '../helpers/resume.js'
import { waitFor } from '../helpers/wait.js'

const db = await testDatabase(t, 'binlog')
const dir = scratchDir(t)

const [[bin]] = await db.conn.query<RowDataPacket[]>('SELECT @@log_bin AS on_, @@binlog_format AS f, @@binlog_row_image AS i')
t.equal(Number(bin.on_), 1, 'the test server runs with its binary log on (.ci/services)')
t.equal(String(bin.f), 'ROW')
t.equal(String(bin.i), 'FULL')

/** mysql-read's own line for a row, as the binlog reader writes it: `_op` last. */
const withOp = (line: string, op = 'index'): string => `${line.slice(0, -1)},"_op":"${op}"}`

/** What plain mysql-read writes of the table now. */
async function plainRead (table: string): Promise<string[]> {
  const r = await runShell(`mysql-read --url '${db.url}' -t ${table}`)
  if (r.code !== 0) throw new Error(r.stderr)
  return lines(r.stdout)
}

t.test('every type of mysql-read\'s type test, through the snapshot and through the binary log, byte for byte', async (t) => {
  await db.rows(`CREATE TABLE types (id INT NOT NULL PRIMARY KEY, ${COLS.map((c) => `${c.name} ${c.ddl}`).join(', ')}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`)
  const ckpt = join(dir, 'types.ckpt')
  const out = join(dir, 'types.jsonl')
  const pipe = `mysql-read --url '${db.url}' --binlog --until-now -t types --checkpoint '${ckpt}' | jsonl-write --checkpoint '${ckpt}' -o '${out}'`
  const first = await runShell(pipe)
  t.equal(first.code, 0, first.stderr)
  t.equal(readFileSync(out, 'utf8'), '', 'an empty table: an empty snapshot')

  // Inserted after the snapshot: these come from the row events.
  await db.rows(`INSERT INTO types VALUES ${ROWS.join(', ')}`)
  const second = await runShell(pipe)
  t.equal(second.code, 0, second.stderr)
  const want = (await plainRead('types')).map((l) => withOp(l))
  t.equal(want.length, ROWS.length)
  const got = lines(readFileSync(out, 'utf8'))
  t.equal(got.length, want.length, 'one record per inserted row')
  for (let i = 0; i < want.length; i++) t.equal(got[i], want[i], `row ${i + 1} from its row event`)

  // An update that changes the key: the old id deleted, the row indexed under the new one.
  await db.rows('UPDATE types SET id = id + 100')
  const third = await runShell(pipe)
  t.equal(third.code, 0, third.stderr)
  const after = (await plainRead('types')).map((l) => withOp(l))
  const more = lines(readFileSync(out, 'utf8')).slice(want.length)
  const ids = ROWS.map((_r, i) => i + 1)
  t.strictSame(more, ids.flatMap((id, i) => [`{"_index":"types","_id":"${id}","_op":"delete"}`, after[i]]), 'delete of each old id, then the row under its new one')

  // The snapshot of the same rows: the same bytes.
  const snap = await runShell(`mysql-read --url '${db.url}' --binlog --until-now -t types`)
  t.equal(snap.code, 0, snap.stderr)
  t.strictSame(lines(snap.stdout), after, 'the snapshot writes what mysql-read writes')
})

/** A follow pipe into jsonl-write, running until stopped. */
function follow (args: string, out: string): { stop: () => Promise<{ code: number | null, stderr: string }>, stderr: () => string } {
  const env = { ...process.env, PATH: `${installedBinDir()}:${process.env.PATH ?? ''}` }
  const child = spawn('bash', ['-o', 'pipefail', '-c', `mysql-read --url '${db.url}' --binlog ${args} | jsonl-write > '${out}'`], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const done = collect(child, null)
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  return {
    stderr: () => err,
    stop: async () => {
      try { process.kill(-(child.pid as number), 'SIGTERM') } catch {}
      const r = await done
      return { code: r.code, stderr: err }
    }
  }
}

const outLines = (file: string): string[] => existsSync(file) ? lines(readFileSync(file, 'utf8')) : []

/** Applies the records of a file, in order, to a map of id → _source text (what a writer would hold). */
function replay (records: readonly string[], index: string): Map<string, string> {
  const m = new Map<string, string>()
  for (const l of records) {
    const r = JSON.parse(l) as { _index: string, _id: string, _op: string }
    if (r._index !== index) continue
    if (r._op === 'delete') m.delete(r._id)
    else m.set(r._id, sourceText(l))
  }
  return m
}

/** The `_source` member's text, as written. */
function sourceText (line: string): string {
  const a = line.indexOf('"_source":') + 10
  const b = line.lastIndexOf(',"_op"')
  return line.slice(a, b)
}

t.test('inserts, updates (key changes too), deletes and multi-row transactions from a concurrent client: the replayed records are the table', async (t) => {
  await db.rows('CREATE TABLE acc (region VARCHAR(10) NOT NULL, n INT NOT NULL, amount DECIMAL(30,8), big BIGINT UNSIGNED, note TEXT, PRIMARY KEY (region, n))')
  await db.rows('CREATE TABLE marks (id INT PRIMARY KEY)')
  await db.rows("INSERT INTO acc VALUES ('a,b', 1, 1.5, 18446744073709551615, 'first'), ('eu', 2, -0.00000001, 0, NULL)")
  const out = join(dir, 'concurrent.jsonl')
  const p = follow('-t acc,marks', out)
  await waitFor(() => outLines(out).length >= 2, { what: 'the snapshot\'s two rows', timeoutMs: 30_000 })
  const rnd = random(25)
  const regions = ['eu', 'us', 'a,b', 'x%y']
  for (let i = 0; i < 120; i++) {
    const r = regions[Math.floor(rnd() * regions.length)]
    const n = Math.floor(rnd() * 15)
    const amount = `${Math.floor(rnd() * 1e12)}.${String(Math.floor(rnd() * 1e8)).padStart(8, '0')}`
    const op = rnd()
    if (op < 0.4) {
      await db.rows('INSERT INTO acc VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE amount = VALUES(amount), note = VALUES(note)', [r, n, amount, '18446744073709551615', `n${i} "q" é`])
    } else if (op < 0.55) {
      // A key change (the target key may exist: then it fails, and nothing is logged).
      await db.rows('UPDATE IGNORE acc SET n = n + 20 WHERE region = ? AND n = ?', [r, n])
    } else if (op < 0.7) {
      await db.rows('DELETE FROM acc WHERE region = ? AND n = ?', [r, n])
    } else if (op < 0.9) {
      await db.conn.beginTransaction()
      await db.rows('INSERT IGNORE INTO acc VALUES (?, ?, ?, NULL, ?)', [r, n + 40, amount, 'txn'])
      await db.rows('UPDATE acc SET amount = amount + 1 WHERE region = ?', [r])
      await db.rows('DELETE FROM acc WHERE region = ? AND n < 3', [regions[(regions.indexOf(r) + 1) % regions.length]])
      await db.conn.commit()
    } else {
      await db.conn.beginTransaction()
      await db.rows('DELETE FROM acc')
      await db.conn.rollback()
    }
  }
  await db.rows('INSERT INTO marks VALUES (1)')
  await waitFor(() => outLines(out).some((l) => l.startsWith('{"_index":"marks"')), { what: 'the marker row', timeoutMs: 60_000 })
  const r = await p.stop()
  t.notOk(/error/.test(r.stderr), r.stderr)
  const want = new Map((await plainRead('acc')).map((l) => { const o = JSON.parse(l) as { _id: string }; return [o._id, l.slice(l.indexOf('"_source":') + 10, -1)] }))
  t.ok(want.size > 0)
  const got = replay(outLines(out), 'acc')
  t.strictSame([...got.keys()].sort(), [...want.keys()].sort(), 'the same ids')
  for (const [id, text] of want) t.equal(got.get(id), text, `row ${id}`)
  t.ok(outLines(out).some((l) => l.includes('"_op":"delete"')), 'deletes came through')
})

t.test('a column added or dropped is followed; a dropped table ends its stream with a warning, the others go on', async (t) => {
  await db.rows('CREATE TABLE shape (id INT PRIMARY KEY, a VARCHAR(5), b INT)')
  await db.rows('CREATE TABLE doomed (id INT PRIMARY KEY)')
  await db.rows('CREATE TABLE keep (id INT PRIMARY KEY)')
  const out = join(dir, 'ddl.jsonl')
  const p = follow('-t shape,doomed,keep', out)
  const until = async (n: number, what: string): Promise<void> => { await waitFor(() => outLines(out).length >= n, { what, timeoutMs: 30_000 }) }
  await db.rows("INSERT INTO shape VALUES (1, 'x', 2)")
  await until(1, 'the first insert')
  await db.rows("ALTER TABLE shape ADD COLUMN c ENUM('p,q', 'it''s') AFTER a")
  await db.rows("INSERT INTO shape VALUES (2, 'y', 'p,q', 3)")
  await until(2, 'the insert after ADD COLUMN')
  await db.rows('ALTER TABLE shape DROP COLUMN a')
  await db.rows("UPDATE shape SET c = 'it''s' WHERE id = 1")
  await until(3, 'the update after DROP COLUMN')
  await db.rows('INSERT INTO doomed VALUES (1)')
  await until(4, 'the insert into doomed')
  await db.rows('DROP TABLE doomed')
  await db.rows('INSERT INTO keep VALUES (7)')
  await until(5, 'the insert into keep')
  const r = await p.stop()
  t.strictSame(outLines(out), [
    '{"_index":"shape","_id":"1","_source":{"id":1,"a":"x","b":2},"_op":"index"}',
    '{"_index":"shape","_id":"2","_source":{"id":2,"a":"y","c":"p,q","b":3},"_op":"index"}',
    '{"_index":"shape","_id":"1","_source":{"id":1,"c":"it\'s","b":2},"_op":"index"}',
    '{"_index":"doomed","_id":"1","_source":{"id":1},"_op":"index"}',
    '{"_index":"keep","_id":"7","_source":{"id":7},"_op":"index"}'
  ])
  t.match(r.stderr, /warning: table \S+\.doomed was dropped or renamed \(DROP TABLE .*\): its stream ends here; the others go on/)
})

t.test('a change written as a statement, or with a minimal row image, stops the read with one line', async (t) => {
  await db.rows('CREATE TABLE fmt (id INT PRIMARY KEY, a INT, b INT)')
  for (const [setting, code, pattern] of [
    ["SET SESSION binlog_format = 'STATEMENT'", 'BINLOG_STATEMENT', /as a statement \(INSERT INTO fmt .*\), not as rows: its session wrote binlog_format=STATEMENT or MIXED/],
    ["SET SESSION binlog_row_image = 'MINIMAL'", 'BINLOG_ROW_IMAGE', /lacks column \w+: its session wrote binlog_row_image=MINIMAL or NOBLOB/]
  ] as const) {
    await db.rows('DELETE FROM fmt')
    const out = join(dir, `${code}.jsonl`)
    const env = { ...process.env, PATH: `${installedBinDir()}:${process.env.PATH ?? ''}` }
    const child = spawn('bash', ['-o', 'pipefail', '-c', `mysql-read --url '${db.url}' --binlog -t fmt | jsonl-write > '${out}'`], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const done = collect(child, null)
    let err = ''
    child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
    await waitFor(() => /streaming the binary log/.test(err), { what: 'the stream to start', child })
    await db.rows(setting)
    try {
      await db.rows('INSERT INTO fmt VALUES (1, 1, 1)')
      await db.rows('UPDATE fmt SET a = 2 WHERE id = 1')
    } finally {
      await db.rows('SET SESSION binlog_format = DEFAULT')
      await db.rows('SET SESSION binlog_row_image = DEFAULT')
    }
    const r = await done
    t.equal(r.code, 1, `${code}: exit 1`)
    const errors = lines(r.stderr).filter((l) => l.includes(`[${code}]`))
    t.equal(errors.length, 1, `${code}: one line`)
    t.match(errors[0] ?? '', pattern)
  }
})

t.test('preconditions: a user without the replication privileges is refused in one line, before any read', async (t) => {
  const user = `espipe_norepl_${process.pid}`
  await db.rows(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`)
  t.teardown(async () => { await db.rows(`DROP USER IF EXISTS '${user}'@'%'`) })
  await db.rows(`GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'%'`)
  await db.rows('CREATE TABLE priv (id INT PRIMARY KEY)')
  const u = new URL(db.url)
  u.username = user
  u.password = 'pw'
  const r = await runShell(`mysql-read --url '${u.toString()}' --binlog --until-now -t priv`)
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  const err = lines(r.stderr).filter((l) => l.includes('[BINLOG_PRIVILEGES]'))
  t.equal(err.length, 1, r.stderr)
  t.match(err[0] ?? '', /the user lacks REPLICATION SLAVE and REPLICATION CLIENT, which reading the binary log needs/)
})

t.test('a checkpoint whose binary log the server has purged is refused, and --resnapshot starts over', async (t) => {
  await db.rows('CREATE TABLE purged (id INT PRIMARY KEY, v INT)')
  await db.rows('INSERT INTO purged VALUES (1, 1), (2, 2)')
  const ckpt = join(dir, 'purged.ckpt')
  const out = join(dir, 'purged.jsonl')
  const pipe = (extra = ''): string => `mysql-read --url '${db.url}' --binlog --until-now -t purged --checkpoint '${ckpt}' ${extra} | jsonl-write --checkpoint '${ckpt}' -o '${out}'`
  t.equal((await runShell(pipe())).code, 0)
  await db.rows('UPDATE purged SET v = 3 WHERE id = 2')
  t.equal((await runShell(pipe())).code, 0)
  // The place the writer acknowledged, moved to a file long gone.
  const file = JSON.parse(readFileSync(ckpt, 'utf8')) as { writer: { streams: Array<{ after: string }> } }
  const after = JSON.parse(file.writer.streams[0].after) as { file: string }
  t.match(after.file, /\.\d+$/)
  file.writer.streams[0].after = JSON.stringify({ ...after, file: after.file.replace(/\d+$/, (d) => '0'.repeat(d.length)) })
  writeFileSync(ckpt, JSON.stringify(file))
  const refused = await runShell(pipe())
  t.equal(refused.code, 1)
  const err = lines(refused.stderr).filter((l) => l.includes('[BINLOG_PURGED]'))
  t.equal(err.length, 1, refused.stderr)
  t.match(err[0] ?? '', /resumes the binary log at \S+\.0+:\d+, but the server has purged it \(its oldest binary log is \S+\): the changes since are lost to this read; rerun with --resnapshot/)
  const before = outLines(out).length
  const again = await runShell(pipe('--resnapshot'))
  t.equal(again.code, 0, again.stderr)
  t.strictSame(outLines(out).slice(before), (await plainRead('purged')).map((l) => withOp(l)), 'the table copied again')
})

t.test('usage: --binlog with options it cannot honour, and its options without it', async (t) => {
  for (const [args, pattern] of [
    ['--binlog -t x --where "a = 1"', /--binlog cannot be combined with --where/],
    ['--binlog -e "SELECT 1"', /--binlog reads tables, not a --query/],
    ['--binlog -t x --resnapshot', /--resnapshot .* needs --checkpoint/],
    ['-t x --until-now', /--until-now goes with --binlog/]
  ] as const) {
    const r = await runShell(`mysql-read --url '${db.url}' ${args}`)
    t.equal(r.code, 2, args)
    t.match(r.stderr, pattern)
  }
})
