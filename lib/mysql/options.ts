import type { FlagSpecs, Options } from '../core/cli.js'
import type { MysqlConnectionSettings, SslMode } from './connection.js'
import { SSL_MODES } from './connection.js'

/**
 * The connection options of every MySQL binary (mysql-read, mysql-write), spelled, aliased and
 * documented once: the same flags, the same environment variables, the same precedence.
 */
export const MYSQL_CONNECTION_FLAGS: FlagSpecs = {
  url: { type: 'string', env: 'MYSQL_URL' },
  host: { type: 'string', shortFlag: 'h', aliases: ['db_host'], env: 'MYSQL_HOST' },
  port: { type: 'string', shortFlag: 'P', aliases: ['db_port'], env: 'MYSQL_TCP_PORT' },
  user: { type: 'string', shortFlag: 'u', aliases: ['db_user'], env: 'MYSQL_USER' },
  password: { type: 'string', shortFlag: 'p', aliases: ['db_pass'], env: 'MYSQL_PWD', allowEmpty: true },
  database: { type: 'string', shortFlag: 'D', aliases: ['db_name'], env: 'MYSQL_DATABASE' },
  socket: { type: 'string', shortFlag: 'S', env: 'MYSQL_UNIX_PORT' },
  sslCa: { type: 'string', aliases: ['ssl_ca'] },
  sslMode: { type: 'string', aliases: ['ssl_mode'] }
}

/** The help block for MYSQL_CONNECTION_FLAGS, as --help prints it. */
export const MYSQL_CONNECTION_HELP = `    Connection (flags win over the environment)
      --url URL              mysql://user:password@host:port/database   (MYSQL_URL)
      -h, --host HOST        server host (default 127.0.0.1)           (MYSQL_HOST)
      -P, --port N           server port (default 3306)                 (MYSQL_TCP_PORT)
      -u, --user USER        user (default root)                        (MYSQL_USER)
      -p, --password PASS    password; MYSQL_PWD keeps it out of ps      (MYSQL_PWD)
      -D, --database DB      database, unless --table says db.table     (MYSQL_DATABASE)
      -S, --socket PATH      Unix socket instead of host and port       (MYSQL_UNIX_PORT)
      --ssl-ca FILE          CA certificate to verify the server with
      --ssl-mode MODE        disabled (default), required (TLS, unverified),
                             verify-ca, verify-identity (default with --ssl-ca);
                             preferred is taken as disabled`

/** The original tool's spellings of the connection options, for the help's alias line. */
export const MYSQL_CONNECTION_ALIASES = '--db_host, --db_user, --db_pass, --db_name'

/**
 * The connection settings the options give. An explicit --url outranks the discrete
 * environment variables (MYSQL_HOST, …); explicit flags outrank both.
 */
export function connectionSettings (opts: Options): MysqlConnectionSettings {
  const urlFromFlag = opts.has('url')
  const setting = (name: string): string | undefined => opts.has(name) || !urlFromFlag ? opts.string(name) : undefined
  return {
    url: opts.string('url'),
    host: setting('host'),
    port: opts.has('port') || !urlFromFlag ? opts.int('port', { min: 1 }) : undefined,
    user: setting('user'),
    password: setting('password'),
    database: setting('database'),
    socket: setting('socket'),
    sslCa: opts.string('sslCa'),
    sslMode: opts.string('sslMode', { choices: SSL_MODES }) as SslMode | undefined
  }
}
