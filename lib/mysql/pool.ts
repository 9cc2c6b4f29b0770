import type { Connection } from 'mysql2/promise'
import type { PoolCapped, PoolDriver } from '../core/pool.js'
import { ConnectionPool } from '../core/pool.js'
import { errorMessage } from '../core/errors.js'
import type { MysqlTarget } from './connection.js'
import { openConnection } from './connection.js'
import { isConnectionLimit, sqlCode, sqlErrno } from './errors.js'

/** mysql2's connections as core's pool handles them; error 1040 is the server's own limit. */
function mysqlDriver (target: MysqlTarget): PoolDriver<Connection> {
  return {
    open: async () => await openConnection(target),
    end: async (conn) => { await conn.end() },
    destroy: (conn) => { conn.destroy() },
    watch: (conn, lost) => { conn.on('error', lost) },
    limitOf: (err) => !isConnectionLimit(err) ? undefined : sqlErrno(err) === 1040 ? 'server' : 'user'
  }
}

/** The line that says the pool keeps fewer connections than -c asked for, and why. */
export function cappedMessage (c: PoolCapped): string {
  const why = c.limit === 'server' ? 'half of what it allowed, leaving the rest to other clients' : 'one left free for other clients of this user'
  return `MySQL refused connection ${c.refused} (${sqlCode(c.err)}: ${errorMessage(c.err)}): writing over ${c.cap} connection${c.cap === 1 ? '' : 's'} instead of ${c.size} (-c), ${why}`
}

/** Up to `size` connections to `target` (see ConnectionPool); `warn` gets the one line when it keeps fewer. */
export function mysqlPool (target: MysqlTarget, size: number, warn: (message: string, code: string) => void): ConnectionPool<Connection> {
  return new ConnectionPool(mysqlDriver(target), size, (c) => { warn(cappedMessage(c), sqlCode(c.err)) })
}
