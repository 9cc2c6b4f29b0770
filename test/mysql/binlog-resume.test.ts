// mysql-read --binlog --checkpoint | jsonl-write --checkpoint, killed with SIGKILL at seeded
// moments (the reader, the writer, or the whole pipe), during the snapshot and during the
// stream of multi-row transactions, then run to the end: the file must be, byte for byte, what
// one clean run writes (every change once, in order, no transaction half there).
import t from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { lines, runShell, scratchDir } from '../helpers/run.js'
import { testDatabase } from '../helpers/mysql.js'
import type { KillTarget } from '../helpers/resume.js'
import { killChain, random } from '../helpers/resume.js'

const db = await testDatabase(t, 'binlog_kill')
const dir = scratchDir(t)

const reader = (table: string) => (ckpt: string): string => `mysql-read --url '${db.url}' --binlog --until-now -t ${table} --batch-size 100 --checkpoint '${ckpt}'`
const writer = (out: string) => (ckpt: string): string => `jsonl-write --checkpoint '${ckpt}' -o '${out}' --flush-interval 50ms`

/** One clean run of the pipe into its own file (its own checkpoint); how long it took. */
async function cleanRun (name: string, table: string): Promise<{ out: string, ms: number }> {
  const d = join(dir, name)
  mkdirSync(d, { recursive: true })
  const out = join(d, 'out.jsonl')
  const started = Date.now()
  const r = await runShell(`${reader(table)(join(d, 'ckpt'))} | ${writer(out)(join(d, 'ckpt'))}`)
  if (r.code !== 0) throw new Error(r.stderr)
  return { out, ms: Date.now() - started }
}

t.test('killed during the snapshot, then run to the end: the file is the clean run\'s', async (t) => {
  await db.rows('CREATE TABLE snap (id INT PRIMARY KEY, v VARCHAR(40), d DECIMAL(30,10))')
  const values = Array.from({ length: 3000 }, (_v, i) => `(${i + 1}, 'row ${i + 1} "é"', ${i}.0123456789)`)
  await db.rows(`INSERT INTO snap VALUES ${values.join(', ')}`)
  const ref = await cleanRun('snap-ref', 'snap')
  const want = readFileSync(ref.out, 'utf8')
  t.equal(lines(want).length, 3000)
  for (const [i, kill] of (['group', 'reader', 'writer'] as KillTarget[]).entries()) {
    const d = join(dir, `snap-${kill}`)
    mkdirSync(d, { recursive: true })
    const out = join(d, 'out.jsonl')
    const r = await killChain({ reader: reader('snap'), writer: writer(out), records: 3000, kill, seed: 100 + i, dir: d, cleanMs: ref.ms, kills: 3 })
    t.equal(r.final.code, 0, `${kill}: ${r.log.join('; ')} ${r.final.stderr}`)
    t.ok(r.landed > 0, `${kill}: a kill landed (${r.log.join('; ')})`)
    t.ok(readFileSync(out, 'utf8') === want, `${kill}: the file is the clean run's (${r.log.join('; ')})`)
  }
})

t.test('killed while streaming multi-row transactions, then run to the end: the file is the clean run\'s', async (t) => {
  await db.rows('CREATE TABLE chg (id INT PRIMARY KEY, grp INT NOT NULL, v BIGINT UNSIGNED, note VARCHAR(40))')
  await db.rows(`INSERT INTO chg VALUES ${Array.from({ length: 500 }, (_v, i) => `(${i + 1}, ${i % 25}, ${i}, 'start')`).join(', ')}`)
  const targets: KillTarget[] = ['reader', 'writer', 'group']
  // Every pipe reads the snapshot first (before any change), so that they all stream the same changes.
  const first = await Promise.all([cleanRun('chg-ref', 'chg'), cleanRun('chg-limits', 'chg'), ...targets.map(async (k) => await cleanRun(`chg-${k}`, 'chg'))])
  t.ok(first.every((f) => lines(readFileSync(f.out, 'utf8')).length === 500), 'each snapshot has the 500 rows')
  const rnd = random(7)
  for (let i = 0; i < 150; i++) {
    const g = Math.floor(rnd() * 25)
    const x = rnd()
    await db.conn.beginTransaction()
    if (x < 0.5) {
      // Some 20 rows in one statement.
      await db.rows('UPDATE chg SET v = 18446744073709551615 - v, note = ? WHERE grp = ?', [`t${i}`, g])
    } else if (x < 0.7) {
      await db.rows('DELETE FROM chg WHERE grp = ? AND id % 3 = ?', [g, i % 3])
      await db.rows('INSERT IGNORE INTO chg VALUES (?, ?, ?, ?), (?, ?, ?, ?)', [1000 + i, g, i, 'new', 2000 + i, g, i, 'new'])
    } else if (x < 0.85) {
      // Keys that move: a delete and an index each.
      await db.rows('UPDATE IGNORE chg SET id = id + 5000 WHERE grp = ? AND id < 5000', [g])
    } else {
      await db.rows('UPDATE chg SET note = ? WHERE grp = ? OR grp = ?', [`both ${i}`, g, (g + 1) % 25])
    }
    await db.conn.commit()
  }
  const refAll = await cleanRun('chg-ref', 'chg')
  const want = readFileSync(refAll.out, 'utf8')
  const total = lines(want).length
  t.ok(total > 1500, `the changes make ${total - 500} records`)
  for (const [i, kill] of targets.entries()) {
    const d = join(dir, `chg-${kill}`)
    const out = join(d, 'out.jsonl')
    // The snapshot run ended complete (--until-now): as a run killed just after it committed
    // the snapshot would have left it, so that the chain's first runs are killed too.
    const ckpt = JSON.parse(readFileSync(join(d, 'ckpt'), 'utf8')) as { reader: { complete: boolean }, writer: { complete: boolean } }
    ckpt.reader.complete = false
    ckpt.writer.complete = false
    writeFileSync(join(d, 'ckpt'), JSON.stringify(ckpt))
    const r = await killChain({ reader: reader('chg'), writer: writer(out), records: total, kill, seed: 200 + i, dir: d, cleanMs: refAll.ms, kills: 4 })
    t.equal(r.final.code, 0, `${kill}: ${r.log.join('; ')} ${r.final.stderr}`)
    t.ok(r.landed > 0, `${kill}: a kill landed (${r.log.join('; ')})`)
    const got = readFileSync(out, 'utf8')
    t.equal(lines(got).length, total, `${kill}: as many records as the clean run`)
    t.ok(got === want, `${kill}: the file is the clean run's, byte for byte (${r.log.join('; ')})`)
  }

  // --limit stops a run after so many records, which lands inside a transaction: the writer
  // commits part of it, and the next run must give exactly the rest of it, then go on.
  const d = join(dir, 'chg-limits')
  const out = join(d, 'out.jsonl')
  const ckpt = join(d, 'ckpt')
  let inside = 0
  for (const limit of [137, 311, 29, 503, 1]) {
    const r = await runShell(`${reader('chg')(ckpt)} --limit ${limit} | ${writer(out)(ckpt)}`)
    t.equal(r.code, 0, r.stderr)
    const w = (JSON.parse(readFileSync(ckpt, 'utf8')) as { writer: { streams: Array<{ after: string, n: number }> } }).writer.streams[0]
    const cur = JSON.parse(w.after) as { n0?: number }
    if (cur.n0 !== undefined && w.n - cur.n0 > 0) inside++
  }
  t.ok(inside > 0, 'some run stopped inside a transaction')
  const last = await runShell(`${reader('chg')(ckpt)} | ${writer(out)(ckpt)}`)
  t.equal(last.code, 0, last.stderr)
  t.ok(readFileSync(out, 'utf8') === want, 'the file is the clean run\'s, byte for byte')
})
