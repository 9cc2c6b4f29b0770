import { readFileSync } from 'node:fs'
import mysql from 'mysql2/promise'
import type { Connection, ConnectionOptions } from 'mysql2/promise'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError, UsageError, errorMessage } from '../core/errors.js'
import { sqlCode } from './errors.js'
import { checkIdentifier } from './identifiers.js'
import { identifyPeer } from '../core/peer.js'

export type SslMode = 'disabled' | 'preferred' | 'required' | 'verify-ca' | 'verify-identity'
export const SSL_MODES: readonly SslMode[] = ['disabled', 'preferred', 'required', 'verify-ca', 'verify-identity']

/** Where a connection goes when neither the settings nor the URL say. */
export const MYSQL_CONNECTION_DEFAULTS = { host: '127.0.0.1', port: 3306, user: 'root' }

/** Connection settings as a user gives them; `url` is filled in by the discrete ones. */
export interface MysqlConnectionSettings {
  url?: string
  host?: string
  port?: number
  user?: string
  password?: string
  database?: string
  socket?: string
  sslCa?: string
  sslMode?: SslMode
  /** -p was given with no value: the CLI asks for the password on the terminal (see password.ts). */
  askPassword?: boolean
}

/** Where we write: everything an error message may name (never the password). */
export interface MysqlTarget {
  options: ConnectionOptions
  host: string
  port: number
  socket?: string
  user: string
  database?: string
  password?: string
}

function fromUrl (url: string): MysqlConnectionSettings {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new UsageError('invalid --url: expected mysql://user:password@host:port/database')
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') throw new UsageError(`invalid --url: scheme must be mysql:// (got ${u.protocol}//)`)
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''))
  return {
    host: u.hostname === '' ? undefined : u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? undefined : Number(u.port),
    user: u.username === '' ? undefined : decodeURIComponent(u.username),
    password: u.password === '' ? undefined : decodeURIComponent(u.password),
    database: db === '' ? undefined : db,
    socket: u.searchParams.get('socket') ?? undefined
  }
}

/**
 * Explicit settings win over the URL's parts. The result is what mysql2 needs plus the
 * host/port/database every fatal message names.
 */
export function resolveConnection (s: MysqlConnectionSettings): MysqlTarget {
  const fromU = s.url === undefined ? {} : fromUrl(s.url)
  const host = s.host ?? fromU.host ?? MYSQL_CONNECTION_DEFAULTS.host
  const port = s.port ?? fromU.port ?? MYSQL_CONNECTION_DEFAULTS.port
  const user = s.user ?? fromU.user ?? MYSQL_CONNECTION_DEFAULTS.user
  const password = s.password ?? fromU.password
  const database = s.database ?? fromU.database
  const socket = s.socket ?? fromU.socket
  if (database !== undefined) checkIdentifier(database, 'database')
  const options: ConnectionOptions = {
    host,
    port,
    user,
    password,
    database,
    socketPath: socket,
    charset: 'utf8mb4',
    // Without FOUND_ROWS an unchanged duplicate counts 0 affected rows, which is how the
    // summary tells inserted from updated from skipped (see statement.ts).
    flags: ['-FOUND_ROWS'],
    supportBigNumbers: true,
    connectTimeout: 10_000,
    multipleStatements: false
  }
  const mode = s.sslMode ?? (s.sslCa !== undefined ? 'verify-identity' : 'disabled')
  if (mode === 'verify-ca' || mode === 'verify-identity' || mode === 'required') {
    let ca: string | undefined
    if (s.sslCa !== undefined) {
      try {
        ca = readFileSync(s.sslCa, 'utf8')
      } catch (err) {
        throw new EspipeError('ENOENT', `cannot read --ssl-ca ${s.sslCa}: ${(err as Error).message}`, { context: { file: s.sslCa } })
      }
    }
    options.ssl = mode === 'required'
      ? { rejectUnauthorized: false }
      : { ca, rejectUnauthorized: true, ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}) }
  }
  return { options, host, port, socket, user, database, password }
}

/** A connection for writing: the session in strict mode, whatever the server's default. */
export async function openConnection (target: MysqlTarget): Promise<Connection> {
  const conn = await mysql.createConnection(target.options)
  // A value that does not fit must be an error (dead-lettered), never a silent truncation.
  // TIMESTAMP text is read in the session's zone: UTC, the zone mysql-write's times are given in.
  await conn.query("SET SESSION sql_mode = IF(@@SESSION.sql_mode = '', 'STRICT_ALL_TABLES', CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES')), time_zone = '+00:00'")
  return conn
}

export function targetContext (t: MysqlTarget, table?: string): ErrorContext {
  return { host: t.socket ?? t.host, port: t.socket === undefined ? t.port : undefined, database: t.database, table }
}

export function describeTarget (t: MysqlTarget): string {
  return t.socket !== undefined ? `${t.socket}` : `${t.host}:${t.port}`
}

/**
 * A connection from `open` (by default a writing one), or one error line naming the server and
 * why it could not be reached (what answered, when it is not MySQL).
 */
export async function connectOrSay (t: MysqlTarget, context: ErrorContext | undefined, open: () => Promise<Connection> = async () => await openConnection(t)): Promise<Connection> {
  try {
    return await open()
  } catch (err) {
    throw new EspipeError(sqlCode(err), `cannot connect to MySQL at ${describeTarget(t)}: ${await explainConnectFailure(err, t)}`, { context, cause: err })
  }
}

/**
 * Why a connection failed, naming what answered when the port is not MySQL's: a server that
 * never greets (HTTP, TLS) times out, one that greets otherwise breaks the handshake.
 */
export async function explainConnectFailure (err: unknown, t: MysqlTarget): Promise<string> {
  const message = errorMessage(err)
  const code = (err as { code?: unknown }).code
  if (t.socket !== undefined || !(code === 'ETIMEDOUT' || (typeof code === 'string' && code.startsWith('PROTOCOL_')) || /handshake|packets out of order/i.test(message))) return message
  const peer = await identifyPeer(t.host, t.port)
  if (peer === undefined || peer.protocol === 'mysql') return message
  return `${message}: it is not a MySQL server but ${peer.description}; check the port (MySQL listens on 3306)`
}
