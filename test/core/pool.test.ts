// core's ConnectionPool over real MariaDB connections (mysql2, as a second SQL writer would
// plug in its own driver): the cap lowered on a per-user limit, lost connections dropped,
// idle ones that die forgotten, everything closed at the end.
import t from 'tap'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import mysql from 'mysql2/promise'
import type { Connection, RowDataPacket } from 'mysql2/promise'
import type { PoolCapped, PoolDriver } from '../../lib/core/pool.js'
import { ConnectionPool } from '../../lib/core/pool.js'
import { limitedUser, testDatabase } from '../helpers/mysql.js'

const db = await testDatabase(t, 'core_pool')
const url = await limitedUser(t, db, 'pool', 2)
const user = new URL(url).username

const driver: PoolDriver<Connection> = {
  open: async () => await mysql.createConnection(url),
  end: async (c) => { await c.end() },
  destroy: (c) => { c.destroy() },
  watch: (c, lost) => { c.on('error', lost) },
  limitOf: (err) => {
    const errno = (err as { errno?: number }).errno
    return errno === 1040 ? 'server' : errno === 1203 || errno === 1226 ? 'user' : undefined
  }
}
const connectionId = async (c: Connection): Promise<number> => Number((await c.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id'))[0][0].id)
const sessions = async (): Promise<number> => Number((await db.rows<RowDataPacket>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [user]))[0].n)
/** `p`, or a failure after `ms`: every wait in these tests is bounded. */
const within = async <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  await Promise.race([p, sleep(ms, undefined, { ref: false }).then(() => { throw new Error(`${what}: not within ${ms} ms`) })])
/** Polls the server until no session of the test user is left (closing is asynchronous there), for at most 5 s. */
const noSessions = async (): Promise<boolean> => {
  for (let i = 0; i < 100; i++) {
    if (await sessions() === 0) return true
    await sleep(50)
  }
  return false
}

t.test('a user allowed 2 connections, a pool of 5: one refusal, the cap lowered to 1, said once', async (t) => {
  const capped: PoolCapped[] = []
  let saidCapped: () => void = () => {}
  const firstCapped = new Promise<void>((resolve) => { saidCapped = resolve })
  const pool = new ConnectionPool(driver, 5, (c) => { capped.push(c); saidCapped() })
  t.teardown(async () => await pool.close())
  const a = await pool.acquire()
  const b = await pool.acquire()
  // The third is refused by the server while two are open: the pool keeps one from now on and waits.
  const third = pool.acquire()
  let got: Connection | undefined
  void third.then((c) => { got = c })
  await within(firstCapped, 10_000, 'the pool says it keeps fewer')
  t.equal(capped.length, 1)
  t.strictSame({ ...capped[0], err: undefined }, { refused: 3, cap: 1, size: 5, limit: 'user', err: undefined })
  t.equal((capped[0].err as { errno?: number }).errno, 1226, 'the server said max_user_connections')
  t.equal(pool.limit, 1)
  t.equal(got, undefined, 'the third waits')
  pool.release(a)
  pool.release(b)
  t.equal(await third, b, 'then gets the connection kept (the other one is closed)')
  pool.release(b)
  // Many at once over the one connection: each in turn, no further refusal.
  const ids = await Promise.all(Array.from({ length: 8 }, async () => await pool.use(connectionId, () => false)))
  t.equal(new Set(ids).size, 1, 'all over one connection')
  t.equal(capped.length, 1, 'said once')
  await pool.close()
  t.ok(await noSessions(), 'close ends every connection')
})

t.test('use(): a lost connection is dropped and replaced; after any other failure it is lent again', async (t) => {
  const pool = new ConnectionPool(driver, 1, () => t.fail('not capped'))
  t.teardown(async () => await pool.close())
  const first = await pool.use(connectionId, () => false)
  const syntax = await pool.use(async (c) => await c.query('SELEC 1'), () => false).catch((e: unknown) => e)
  t.equal((syntax as { errno?: number }).errno, 1064)
  t.equal(await pool.use(connectionId, () => false), first, 'a statement error keeps the connection')
  const cut = await pool.use(async (c) => { c.destroy(); await c.query('SELECT 1') }, () => true).catch((e: unknown) => e)
  t.ok(cut instanceof Error, `the cut connection failed (${(cut as Error).message})`)
  const next = await pool.use(connectionId, () => false)
  t.not(next, first, 'a new connection after the lost one')
})

t.test('an idle connection the server kills is forgotten: the next use opens another', async (t) => {
  const pool = new ConnectionPool(driver, 2, () => t.fail('not capped'))
  t.teardown(async () => await pool.close())
  const conn = await pool.acquire()
  const id = await connectionId(conn)
  const died = within(once(conn, 'error'), 10_000, 'the killed connection reports its end')
  pool.release(conn)
  await db.conn.query(`KILL ${id}`)
  await died
  const next = await pool.use(connectionId, () => false)
  t.not(next, id)
})
