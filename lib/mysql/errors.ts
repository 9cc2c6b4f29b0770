/**
 * What a MySQL error means for the batch that got it:
 * - `row`: some row of the batch is bad (too long, wrong type, NULL, duplicate in insert
 *   mode): split the batch to find it, land the rest.
 * - `retry`: the server or the network failed, not the data (deadlock, lock wait, lost
 *   connection): the batch is idempotent by id, so send it again after a pause.
 * - `fatal`: anything else (access denied, no such table, unknown column): stop the run.
 */
export type ErrorKind = 'row' | 'retry' | 'fatal'

interface SqlError { code?: unknown, errno?: unknown, fatal?: unknown, message?: unknown, sqlMessage?: unknown }

// By number, because mysql2 names codes after MySQL and MariaDB reuses numbers above 4000.
const ROW_ERRNOS = new Set([
  1048, // ER_BAD_NULL_ERROR
  1062, // ER_DUP_ENTRY (insert mode)
  1101, // ER_BLOB_CANT_HAVE_DEFAULT
  1264, // ER_WARN_DATA_OUT_OF_RANGE
  1265, // WARN_DATA_TRUNCATED
  1292, // ER_TRUNCATED_WRONG_VALUE
  1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  1364, // ER_NO_DEFAULT_FOR_FIELD
  1367, // ER_ILLEGAL_VALUE_FOR_TYPE
  1406, // ER_DATA_TOO_LONG
  1411, // ER_WRONG_VALUE_FOR_TYPE
  1416, // ER_CANT_CREATE_GEOMETRY_OBJECT
  1452, // ER_NO_REFERENCED_ROW_2
  1525, // ER_WRONG_VALUE
  1586, // ER_DUP_ENTRY_WITH_KEY_NAME
  1300, // ER_INVALID_CHARACTER_STRING
  1365, // ER_DIVISION_BY_ZERO
  3140, // ER_INVALID_JSON_TEXT (MySQL)
  3819, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  4025 // ER_CONSTRAINT_FAILED (MariaDB: JSON columns are CHECK (json_valid(...)))
])

const RETRY_ERRNOS = new Set([
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1040, // ER_CON_COUNT_ERROR (the pool keeps fewer connections while some are open)
  1203, // ER_TOO_MANY_USER_CONNECTIONS (the server's max_user_connections)
  1053, // ER_SERVER_SHUTDOWN
  1152, // ER_ABORTING_CONNECTION
  1158, 1159, 1160, 1161, // network read/write errors and timeouts
  1927, // ER_CONNECTION_KILLED (MariaDB)
  2006, 2013 // CR_SERVER_GONE_ERROR, CR_SERVER_LOST
])

const RETRY_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'PROTOCOL_PACKETS_OUT_OF_ORDER',
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH',
  'EHOSTDOWN', 'EAI_AGAIN', 'ENOTCONN', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED'
])

/** MariaDB numbers mysql2 names after an unrelated MySQL error. */
const MARIADB_NAMES: Record<number, string> = { 4025: 'ER_CONSTRAINT_FAILED' }

export function sqlErrno (err: unknown): number | undefined {
  const n = (err as SqlError | null)?.errno
  return typeof n === 'number' ? n : undefined
}

/** The code users see: mysql2's, except where MariaDB reused the number. */
export function sqlCode (err: unknown): string {
  const e = err as SqlError | null
  const errno = sqlErrno(err)
  if (errno !== undefined && MARIADB_NAMES[errno] !== undefined) return MARIADB_NAMES[errno]
  if (typeof e?.code === 'string' && e.code !== '') return e.code
  return errno !== undefined ? `ER_${errno}` : 'EUNKNOWN'
}

/**
 * A refusal because the server (1040), the server's per-user setting (1203) or the account's
 * own limit (1226 naming max_user_connections, as CREATE USER … WITH MAX_USER_CONNECTIONS sets)
 * has no connection left: fewer connections would do, and once one frees up, a retry.
 */
export function isConnectionLimit (err: unknown): boolean {
  const errno = sqlErrno(err)
  const message = (err as SqlError | null)?.message
  return errno === 1040 || errno === 1203 || (errno === 1226 && typeof message === 'string' && message.includes('max_user_connections'))
}

export function classifySqlError (err: unknown): ErrorKind {
  const e = err as SqlError | null
  const errno = sqlErrno(err)
  if (isConnectionLimit(err)) return 'retry'
  if (errno !== undefined && ROW_ERRNOS.has(errno)) return 'row'
  if (errno !== undefined && RETRY_ERRNOS.has(errno)) return 'retry'
  if (typeof e?.code === 'string' && RETRY_CODES.has(e.code)) return 'retry'
  // mysql2 marks errors that killed the connection as fatal: a closed socket, a reset.
  // Those with a server errno (access denied, unknown database) stay fatal for the run.
  if (e?.fatal === true && errno === undefined) return 'retry'
  if (typeof e?.message === 'string' && /closed state|connection is closed|Connection lost/i.test(e.message)) return 'retry'
  return 'fatal'
}

/** The 1-based row a multi-row INSERT error names ("... at row 37"), when it names one. */
export function errorRow (err: unknown): number | undefined {
  const e = err as SqlError | null
  const msg = typeof e?.sqlMessage === 'string' ? e.sqlMessage : typeof e?.message === 'string' ? e.message : ''
  const m = / at row (\d+)\s*$/.exec(msg)
  return m === null ? undefined : Number(m[1])
}
