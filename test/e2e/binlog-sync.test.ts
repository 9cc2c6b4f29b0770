// mysql-read --binlog --checkpoint C | mysql-write (a second database) or es-write (the test
// server) --checkpoint C: a copy kept in step with inserts, updates (keys too), deletes and
// multi-row transactions, the writer or the whole pipe killed -9 at seeded moments while the
// changes go on, then run to the end: the copy holds every row of the source with the bytes
// mysql-read writes of it, and no other.
import t from 'tap'
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import { lines, runShell, scratchDir } from '../helpers/run.js'
import { testDatabase, urlFor } from '../helpers/mysql.js'
import { destinations } from '../helpers/resume-destinations.js'
import type { KillTarget } from '../helpers/resume.js'
import { killChain, random } from '../helpers/resume.js'
import { makeIndex } from '../helpers/resume-matrix.js'

const src = await testDatabase(t, 'binlog_src')
const copy = await testDatabase(t, 'binlog_copy')
const es = await startEsServer()
t.teardown(async () => { await es.close() })
const dir = scratchDir(t)
const dests = destinations({ db: copy, dbUrl: urlFor(copy.name), es, dir }).filter((d) => d.name === 'mysql-write' || d.name === 'es-write')

await src.rows('CREATE TABLE acct (id INT PRIMARY KEY, grp INT NOT NULL, v BIGINT UNSIGNED, d DECIMAL(40,12), note VARCHAR(60), js JSON)')
await src.rows(`INSERT INTO acct VALUES ${Array.from({ length: 400 }, (_v, i) => `(${i + 1}, ${i % 20}, ${18446744073709551615n - BigInt(i)}, ${i}.000000000001, 'start "é" ${i}', '{"n": ${i}, "big": 12345678901234567890}')`).join(', ')}`)

const reader = (ckpt: string): string => `mysql-read --url '${src.url}' --binlog --until-now -t acct --batch-size 100 --checkpoint '${ckpt}'`

/** id → `_source` text of each row, as mysql-read writes it now. */
async function sourceRows (): Promise<Map<string, string>> {
  const r = await runShell(`mysql-read --url '${src.url}' -t acct`)
  if (r.code !== 0) throw new Error(r.stderr)
  return new Map(lines(r.stdout).map((l) => [(JSON.parse(l) as { _id: string })._id, l.slice(l.indexOf(',"_source":') + 11, -1)]))
}

/** Changes from another client: multi-row updates, moves of keys, deletes and inserts, each in a transaction. */
async function change (seed: number, count: number): Promise<void> {
  const rnd = random(seed)
  for (let i = 0; i < count; i++) {
    const g = Math.floor(rnd() * 20)
    const x = rnd()
    await src.conn.beginTransaction()
    if (x < 0.4) {
      await src.rows('UPDATE acct SET v = 18446744073709551615 - v, d = d + 0.000000000001, note = ? WHERE grp = ?', [`u${seed}-${i} "q"`, g])
    } else if (x < 0.6) {
      await src.rows('DELETE FROM acct WHERE grp = ? AND id % 4 = ?', [g, i % 4])
      await src.rows('INSERT IGNORE INTO acct VALUES (?, ?, 1, 0.5, ?, ?)', [10_000 + seed * 1000 + i, g, 'new', `{"i": ${i}}`])
    } else if (x < 0.75) {
      await src.rows('UPDATE IGNORE acct SET id = id + 100000 WHERE grp = ? AND id < 100000 AND id % 2 = ?', [g, i % 2])
    } else {
      await src.rows('UPDATE acct SET js = JSON_SET(js, \'$.t\', ?) WHERE grp IN (?, ?)', [i, g, (g + 3) % 20])
    }
    await src.conn.commit()
  }
}

// 'limit': runs cut by --limit, which stop inside transactions at known counts.
const chains: Array<{ dest: typeof dests[number], kill: KillTarget | 'limit', k: string }> = []
for (const dest of dests) for (const kill of ['writer', 'group', 'limit'] as const) chains.push({ dest, kill, k: String(chains.length + 1) })
for (const c of chains) await makeIndex(es, `w${c.k}`)

// The snapshots first, each chain's own, before any change.
for (const c of chains) {
  const d = join(dir, `chain${c.k}`)
  mkdirSync(d, { recursive: true })
  const r = await runShell(`${reader(join(d, 'ckpt'))} | ${c.dest.writer(join(d, 'ckpt'), c.k, 2)}`)
  if (r.code !== 0) throw new Error(r.stderr)
  // Complete (--until-now), as a run killed right after it committed the snapshot would not be:
  // so that the chain's runs are killed while they stream.
  const f = JSON.parse(readFileSync(join(d, 'ckpt'), 'utf8')) as { reader: { complete: boolean }, writer: { complete: boolean } }
  f.reader.complete = false
  f.writer.complete = false
  writeFileSync(join(d, 'ckpt'), JSON.stringify(f))
}

t.test('every chain: killed while another client changes the table, then run to the end, the copy is the table', async (t) => {
  await change(1, 60)
  for (const [i, c] of chains.entries()) {
    const d = join(dir, `chain${c.k}`)
    // More changes arrive while this chain is being killed and rerun.
    const more = change(10 + i, 25)
    if (c.kill === 'limit') {
      let inside = 0
      for (const limit of [137, 311, 29, 1]) {
        const r = await runShell(`${reader(join(d, 'ckpt'))} --limit ${limit} | ${c.dest.writer(join(d, 'ckpt'), c.k, 2)}`)
        t.equal(r.code, 0, r.stderr)
        const w = (JSON.parse(readFileSync(join(d, 'ckpt'), 'utf8')) as { writer: { streams: Array<{ after: string, n: number }> } }).writer.streams[0]
        const cur = JSON.parse(w.after) as { n0?: number }
        if (cur.n0 !== undefined && w.n - cur.n0 > 0) inside++
      }
      t.ok(inside > 0, `${c.dest.name}: a run stopped inside a transaction`)
      await more
      continue
    }
    const started = Date.now()
    // A run streams only the changes since the last: a second or two; the kills come within it.
    const r = await killChain({ reader, writer: (ckpt) => c.dest.writer(ckpt, c.k, 2), records: 5000, kill: c.kill, seed: 300 + i, dir: d, cleanMs: 1500, kills: 3 })
    await more
    t.equal(r.final.code, 0, `${c.dest.name} ${c.kill}: ${r.log.join('; ')} ${r.final.stderr}`)
    t.ok(r.landed > 0, `${c.dest.name} ${c.kill}: a kill landed (${r.log.join('; ')}, ${Date.now() - started} ms)`)
  }
  // One last run of each, to the end of every change.
  const want = await sourceRows()
  t.ok(want.size > 300)
  for (const c of chains) {
    const d = join(dir, `chain${c.k}`)
    const r = await runShell(`${reader(join(d, 'ckpt'))} | ${c.dest.writer(join(d, 'ckpt'), c.k, 2)}`)
    t.equal(r.code, 0, r.stderr)
    const got = await c.dest.holds(c.k)
    t.strictSame([...got.keys()].sort(), [...want.keys()].sort(), `${c.dest.name} ${c.kill}: the same ids`)
    const wrong = [...want].filter(([id, text]) => got.get(id) !== text).map(([id]) => id)
    t.strictSame(wrong.slice(0, 5), [], `${c.dest.name} ${c.kill}: every row's bytes`)
  }
})
