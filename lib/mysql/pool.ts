import type { Connection } from 'mysql2/promise'
import { errorMessage } from '../core/errors.js'
import type { MysqlTarget } from './connection.js'
import { isConnectionLimit, sqlCode, sqlErrno } from './errors.js'
import { openConnection } from './lane.js'

/**
 * The connections the lanes write over: opened when a batch needs one, lent for one batch at
 * a time. It starts at the -c the user asked for; when the server refuses a connection for
 * its connection limit while some are open, it keeps fewer (half of them for a server-wide
 * limit, leaving the rest to other clients; all but one for a per-user one), says so once,
 * and lanes wait their turn instead of each retrying and warning on its own.
 */
export class ConnectionPool {
  private readonly live = new Set<Connection>()
  private readonly idle: Connection[] = []
  private readonly waiters: Array<() => void> = []
  private opening = false
  private cap: number
  private closed = false

  constructor (private readonly target: MysqlTarget, readonly size: number, private readonly onCapped: (message: string, code: string) => void) {
    this.cap = size
  }

  /** How many connections it may hold now. */
  get limit (): number {
    return this.cap
  }

  /** Adds a connection opened elsewhere (the one the table was checked over). */
  adopt (conn: Connection): void {
    this.watch(conn)
    this.idle.push(conn)
  }

  /**
   * A connection for one batch. New ones are opened one at a time (a few milliseconds each):
   * a server at its limit then refuses one attempt, not one per lane, and the number open
   * when it refused is exact.
   */
  async acquire (): Promise<Connection> {
    for (;;) {
      const idle = this.idle.pop()
      if (idle !== undefined) return idle
      if (!this.opening && this.live.size < this.cap) return await this.open()
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  private async open (): Promise<Connection> {
    this.opening = true
    let conn: Connection
    try {
      conn = await openConnection(this.target)
    } catch (err) {
      this.opening = false
      if (!isConnectionLimit(err) || this.live.size === 0) {
        this.wake()
        throw err
      }
      this.lower(err, this.live.size)
      this.wake()
      return await this.acquire()
    }
    this.opening = false
    this.watch(conn)
    this.wake()
    return conn
  }

  private watch (conn: Connection): void {
    this.live.add(conn)
    // A connection that dies while idle is forgotten; the next batch opens another.
    conn.on('error', () => this.forget(conn))
  }

  private lower (err: unknown, open: number): void {
    const serverWide = sqlErrno(err) === 1040
    const cap = Math.max(1, serverWide ? Math.floor(open / 2) : open - 1)
    if (cap >= this.cap) return
    const before = this.cap
    this.cap = cap
    const why = serverWide ? 'half of what it allowed, leaving the rest to other clients' : 'one left free for other clients of this user'
    if (before === this.size) this.onCapped(`MySQL refused connection ${open + 1} (${sqlCode(err)}: ${errorMessage(err)}): writing over ${cap} connection${cap === 1 ? '' : 's'} instead of ${this.size} (-c), ${why}`, sqlCode(err))
    while (this.live.size > this.cap && this.idle.length > 0) this.end(this.idle.pop() as Connection)
  }

  /** A batch is done with `conn`: the next waiting lane gets it (or it closes, above the cap). */
  release (conn: Connection): void {
    if (!this.live.has(conn)) return
    if (this.closed || this.live.size > this.cap) this.end(conn)
    else this.idle.push(conn)
    this.wake()
  }

  /** `conn` failed (lost, reset): it is dropped, and a waiting lane may open a new one. */
  discard (conn: Connection): void {
    conn.destroy()
    this.forget(conn)
  }

  private forget (conn: Connection): void {
    if (!this.live.delete(conn)) return
    const i = this.idle.indexOf(conn)
    if (i >= 0) this.idle.splice(i, 1)
    this.wake()
  }

  private end (conn: Connection): void {
    this.live.delete(conn)
    conn.end().catch(() => { conn.destroy() })
  }

  private wake (): void {
    this.waiters.shift()?.()
  }

  async close (): Promise<void> {
    this.closed = true
    const all = [...this.live]
    this.live.clear()
    this.idle.length = 0
    await Promise.all(all.map(async (c) => await c.end().catch(() => { c.destroy() })))
    for (const w of this.waiters.splice(0)) w()
  }
}
