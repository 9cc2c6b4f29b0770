// core's Lanes writing real batches into MariaDB over core's ConnectionPool, with a driver
// and statements of the test's own (what a second SQL writer would bring): rows with the same
// id land in input order whatever the lanes, a bad row is cut out of its batch, a full lane
// makes the writer wait, a fatal error stops everything.
import t from 'tap'
import mysql from 'mysql2/promise'
import type { Connection, RowDataPacket } from 'mysql2/promise'
import { Lanes } from '../../lib/core/lanes.js'
import type { LaneRow } from '../../lib/core/lanes.js'
import { ConnectionPool } from '../../lib/core/pool.js'
import { testDatabase } from '../helpers/mysql.js'

const db = await testDatabase(t, 'core_lanes')

interface Row extends LaneRow { id: string, n: number, tag: string }
const row = (id: string, n: number, tag = 'ok'): Row => ({ key: id, bytes: id.length + tag.length + 8, id, n, tag })

function pool (size: number): ConnectionPool<Connection> {
  return new ConnectionPool<Connection>({
    open: async () => {
      const c = await mysql.createConnection(db.url)
      await c.query("SET SESSION sql_mode = 'STRICT_ALL_TABLES'")
      return c
    },
    end: async (c) => { await c.end() },
    destroy: (c) => { c.destroy() },
    watch: (c, lost) => { c.on('error', lost) },
    limitOf: () => undefined
  }, size, () => {})
}

const errno = (err: unknown): number | undefined => (err as { errno?: number }).errno
const atRow = (err: unknown): number | undefined => {
  const m = / at row (\d+)$/.exec((err as { sqlMessage?: string }).sqlMessage ?? '')
  return m === null ? undefined : Number(m[1])
}

/** An upsert of a batch into `table`; counts every row it was given and every statement. */
function upsert (p: ConnectionPool<Connection>, table: string, stats: { rows: number, statements: number }): (rows: Row[]) => Promise<void> {
  return async (rows) => {
    stats.statements++
    const sql = `INSERT INTO ${table} (id, n, tag) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')} ON DUPLICATE KEY UPDATE n = VALUES(n), tag = VALUES(tag)`
    await p.use(async (c) => await c.query(sql, rows.flatMap((r) => [r.id, r.n, r.tag])), () => false)
    stats.rows += rows.length
  }
}

t.test('4 lanes: every id ends with its last good row; each bad row fails alone, once', async (t) => {
  await db.conn.query('CREATE TABLE t (id VARCHAR(20) COLLATE utf8mb4_nopad_bin PRIMARY KEY, n INT NOT NULL, tag VARCHAR(5), CHECK (n >= 0))')
  const p = pool(4)
  t.teardown(async () => await p.close())
  // 3000 ids, three passes (n = 1, 2, 3), ids in a different order in each pass.
  const ids = Array.from({ length: 3000 }, (_v, i) => `id-${i}`)
  const input: Row[] = []
  for (const n of [1, 2, 3]) {
    for (let k = 0; k < ids.length; k++) {
      const i = (k * (n === 2 ? 7 : n === 3 ? 13 : 1)) % ids.length
      // Too long (error 1406, "at row N": cut there) in pass 2, a CHECK failure (4025, no row
      // named: bisect) in pass 3.
      const bad = n === 2 && i % 97 === 5 ? 'toolong' : undefined
      input.push(n === 3 && i % 101 === 7 ? row(ids[i], -1) : row(ids[i], n, bad))
    }
  }
  const badRows = input.filter((r) => r.n < 0 || r.tag.length > 5)
  const failed: Array<[Row, number | undefined]> = []
  const stats = { rows: 0, statements: 0 }
  const lanes = new Lanes<Row>({
    lanes: 4,
    maxRows: 50,
    maxBytes: 1 << 20,
    write: upsert(p, 't', stats),
    rowError: (err) => errno(err) === 1406 || errno(err) === 4025,
    errorRow: atRow,
    rowFailed: (r, err) => failed.push([r, errno(err)])
  })
  for (const r of input) await lanes.add(r)
  await lanes.drain()
  t.equal(lanes.error, undefined)
  t.equal(failed.length, badRows.length, `${badRows.length} bad rows failed`)
  t.ok(badRows.length > 50 && badRows.every((r) => failed.some(([f]) => f === r)), 'each bad row, once')
  t.strictSame([...new Set(failed.map(([, e]) => e))].sort(), [1406, 4025])
  t.equal(stats.rows, input.length - badRows.length, 'every good row was written once')
  const want = new Map<string, number>()
  for (const r of input) if (!badRows.includes(r)) want.set(r.id, r.n)
  const got = await db.rows<RowDataPacket>('SELECT id, n FROM t')
  t.equal(got.length, ids.length)
  t.strictSame(new Map(got.map((g) => [String(g.id), Number(g.n)])), want, 'the last good row of each id')
  t.ok([...want.values()].includes(2), 'some ids kept pass 2 (their pass-3 row failed)')
})

t.test('a full lane makes add() return a promise, resolved once its batch landed', async (t) => {
  await db.conn.query('CREATE TABLE bp (id VARCHAR(20) PRIMARY KEY, n INT NOT NULL, tag VARCHAR(5))')
  const p = pool(1)
  t.teardown(async () => await p.close())
  const stats = { rows: 0, statements: 0 }
  const lanes = new Lanes<Row>({ lanes: 1, maxRows: 1, maxBytes: 1 << 20, write: upsert(p, 'bp', stats), rowError: () => false, rowFailed: () => t.fail('no row fails') })
  t.equal(lanes.add(row('a', 1)), undefined, 'one batch in flight: go on')
  const wait = lanes.add(row('b', 1))
  t.ok(wait instanceof Promise, 'a second one waiting behind it: wait')
  await wait
  t.ok(stats.rows >= 1, 'the first batch landed before the wait ended')
  await lanes.drain()
  t.equal(Number((await db.rows<RowDataPacket>('SELECT COUNT(*) AS n FROM bp'))[0].n), 2)
})

t.test('a fatal error: drain and add throw it as `fatal` made it, the signal is aborted, nothing more is written', async (t) => {
  await db.conn.query('CREATE TABLE gone (id VARCHAR(20) PRIMARY KEY, n INT NOT NULL, tag VARCHAR(5))')
  const p = pool(2)
  t.teardown(async () => await p.close())
  const stats = { rows: 0, statements: 0 }
  let made = 0
  const lanes = new Lanes<Row>({
    lanes: 1,
    maxRows: 10,
    maxBytes: 1 << 20,
    write: upsert(p, 'gone', stats),
    rowError: (err) => errno(err) === 1406,
    rowFailed: () => t.fail('no row fails'),
    fatal: (err) => { made++; return new Error(`stopped: ${(err as Error).message}`) }
  })
  for (let i = 0; i < 20; i++) await lanes.add(row(`r${i}`, i))
  await lanes.drain()
  t.equal(stats.rows, 20)
  const before = stats.statements
  await db.conn.query('DROP TABLE gone')
  // Three batches queued in the lane: the first fails, the two behind it are not sent.
  for (let i = 20; i < 50; i++) lanes.add(row(`r${i}`, i))?.catch(() => {})
  const err = await lanes.drain().catch((e: unknown) => e)
  t.match((err as Error).message, /^stopped: Table '.*gone' doesn't exist$/)
  t.equal(made, 1, 'fatal is asked once')
  t.equal(lanes.error, err)
  t.equal(lanes.signal.aborted, true)
  t.throws(() => lanes.add(row('late', 1)), err as Error)
  t.equal(stats.statements - before, 1, 'no statement after the one that failed')
})
