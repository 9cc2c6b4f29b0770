import type { FlagSpecs, Options } from '../core/cli.js'
import type { HelpSection } from '../core/help.js'
import type { MysqlConnectionSettings, SslMode } from './connection.js'
import { MYSQL_CONNECTION_DEFAULTS as d, SSL_MODES } from './connection.js'

/**
 * The connection options of every MySQL binary (mysql-read, mysql-write), spelled, aliased and
 * documented once: the same flags, the same environment variables, the same precedence.
 */
export const MYSQL_CONNECTION_FLAGS: FlagSpecs = {
  url: { type: 'string', value: 'URL', env: 'MYSQL_URL', help: 'mysql://user:password@host:port/database' },
  host: { type: 'string', shortFlag: 'h', value: 'HOST', aliases: ['db_host'], env: 'MYSQL_HOST', help: `server host (default: ${d.host}; env {env})` },
  port: { type: 'string', shortFlag: 'P', value: 'N', aliases: ['db_port'], env: 'MYSQL_TCP_PORT', help: `server port (default: ${d.port}; env {env})` },
  user: { type: 'string', shortFlag: 'u', value: 'USER', aliases: ['db_user'], env: 'MYSQL_USER', help: `user (default: ${d.user}; env {env})` },
  password: { type: 'string', shortFlag: 'p', value: 'PASS', aliases: ['db_pass'], env: 'MYSQL_PWD', allowEmpty: true, bare: true, help: 'password; MYSQL_PWD keeps it out of ps; -p alone asks for it on the terminal' },
  database: { type: 'string', shortFlag: 'D', value: 'DB', aliases: ['db_name'], env: 'MYSQL_DATABASE', help: 'database, unless --table says db.table' },
  socket: { type: 'string', shortFlag: 'S', value: 'PATH', env: 'MYSQL_UNIX_PORT', help: 'Unix socket instead of host and port' },
  sslCa: { type: 'string', value: 'FILE', aliases: ['ssl_ca'], help: 'CA certificate to verify the server with' },
  sslMode: { type: 'string', value: 'MODE', aliases: ['ssl_mode'], help: 'disabled (default), required (TLS, unverified), verify-ca, verify-identity (default with --ssl-ca); preferred is taken as disabled' }
}

/** Their --help section. */
export const MYSQL_CONNECTION_SECTION: HelpSection = { title: 'Connection (flags win over the environment)', options: Object.keys(MYSQL_CONNECTION_FLAGS) }

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
    password: opts.bare('password') ? undefined : setting('password'),
    askPassword: opts.bare('password'),
    database: setting('database'),
    socket: setting('socket'),
    sslCa: opts.string('sslCa'),
    sslMode: opts.string('sslMode', { choices: SSL_MODES }) as SslMode | undefined
  }
}
