/** Whose connection limit refused a new connection: the server's for everyone, or one user's. */
export type ConnectionLimit = 'server' | 'user'

/** What the pool needs to know of a database driver's connections. */
export interface PoolDriver<C> {
  open: () => Promise<C>
  /** Ends a connection politely; a rejection makes the pool destroy it instead. */
  end: (conn: C) => Promise<void>
  destroy: (conn: C) => void
  /** Calls `lost` when the connection dies on its own (while idle, mostly). */
  watch: (conn: C, lost: () => void) => void
  /** Whose limit a failed open ran into, or undefined when it was no connection-limit refusal. */
  limitOf: (err: unknown) => ConnectionLimit | undefined
}

/** The pool keeps fewer connections than it was asked for: said once, the first time. */
export interface PoolCapped {
  /** The number of the connection the server refused (one more than were open). */
  refused: number
  /** Connections kept from now on. */
  cap: number
  /** Connections asked for. */
  size: number
  limit: ConnectionLimit
  err: unknown
}

/**
 * The connections a writer's lanes write over: opened when a batch needs one, lent for one
 * batch at a time. It starts at the size the user asked for (-c); when the server refuses a
 * connection for its connection limit while some are open, it keeps fewer (half of them for a
 * server-wide limit, leaving the rest to other clients; all but one for a per-user one), says
 * so once, and lanes wait their turn instead of each retrying and warning on its own.
 */
export class ConnectionPool<C> {
  private readonly live = new Set<C>()
  private readonly idle: C[] = []
  private readonly waiters: Array<() => void> = []
  private opening = false
  private cap: number
  private closed = false

  constructor (private readonly driver: PoolDriver<C>, readonly size: number, private readonly onCapped: (capped: PoolCapped) => void) {
    this.cap = size
  }

  /** How many connections it may hold now. */
  get limit (): number {
    return this.cap
  }

  /** Adds a connection opened elsewhere (the one the table was checked over). */
  adopt (conn: C): void {
    this.watch(conn)
    this.idle.push(conn)
  }

  /**
   * A connection for one batch. New ones are opened one at a time (a few milliseconds each):
   * a server at its limit then refuses one attempt, not one per lane, and the number open
   * when it refused is exact.
   */
  async acquire (): Promise<C> {
    for (;;) {
      const idle = this.idle.pop()
      if (idle !== undefined) return idle
      if (!this.opening && this.live.size < this.cap) return await this.open()
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  /**
   * `fn` over a lent connection. A failure for which `lost` says the connection can't be
   * trusted again (cut, reset, mid-transaction) drops it; any other returns it to the pool.
   */
  async use<T> (fn: (conn: C) => Promise<T>, lost: (err: unknown) => boolean): Promise<T> {
    const conn = await this.acquire()
    let result: T
    try {
      result = await fn(conn)
    } catch (err) {
      if (lost(err)) this.discard(conn)
      else this.release(conn)
      throw err
    }
    this.release(conn)
    return result
  }

  private async open (): Promise<C> {
    this.opening = true
    let conn: C
    try {
      conn = await this.driver.open()
    } catch (err) {
      this.opening = false
      const limit = this.driver.limitOf(err)
      if (limit === undefined || this.live.size === 0) {
        this.wake()
        throw err
      }
      this.lower(err, limit, this.live.size)
      this.wake()
      return await this.acquire()
    }
    this.opening = false
    this.watch(conn)
    this.wake()
    return conn
  }

  private watch (conn: C): void {
    this.live.add(conn)
    // A connection that dies while idle is forgotten; the next batch opens another.
    this.driver.watch(conn, () => this.forget(conn))
  }

  private lower (err: unknown, limit: ConnectionLimit, open: number): void {
    const cap = Math.max(1, limit === 'server' ? Math.floor(open / 2) : open - 1)
    if (cap >= this.cap) return
    const before = this.cap
    this.cap = cap
    if (before === this.size) this.onCapped({ refused: open + 1, cap, size: this.size, limit, err })
    while (this.live.size > this.cap && this.idle.length > 0) this.end(this.idle.pop() as C)
  }

  /** A batch is done with `conn`: the next waiting lane gets it (or it closes, above the cap). */
  release (conn: C): void {
    if (!this.live.has(conn)) return
    if (this.closed || this.live.size > this.cap) this.end(conn)
    else this.idle.push(conn)
    this.wake()
  }

  /** `conn` failed (lost, reset): it is dropped, and a waiting lane may open a new one. */
  discard (conn: C): void {
    this.driver.destroy(conn)
    this.forget(conn)
  }

  private forget (conn: C): void {
    if (!this.live.delete(conn)) return
    const i = this.idle.indexOf(conn)
    if (i >= 0) this.idle.splice(i, 1)
    this.wake()
  }

  private async endQuietly (conn: C): Promise<void> {
    await this.driver.end(conn).catch(() => { this.driver.destroy(conn) })
  }

  private end (conn: C): void {
    this.live.delete(conn)
    void this.endQuietly(conn)
  }

  private wake (): void {
    this.waiters.shift()?.()
  }

  async close (): Promise<void> {
    this.closed = true
    const all = [...this.live]
    this.live.clear()
    this.idle.length = 0
    await Promise.all(all.map(async (c) => await this.endQuietly(c)))
    for (const w of this.waiters.splice(0)) w()
  }
}
