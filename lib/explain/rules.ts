import type { Service } from './finding.js'
import { CERT_DATE_CODES, CERT_NAME_CODES, CERT_UNTRUSTED_CODES } from '../core/tls-codes.js'

/** A command to check or fix; `service` limits it to failures of that side (network rules). */
export type RuleCommand = string | { service: Service, run: string }

/**
 * One entry of the catalogue. A finding matches when its code is one of `codes` or its
 * message matches one of `messages`; the first matching rule (catalogue order) wins, so
 * specific rules come before general ones. Texts are templates: `{name}` is filled from the
 * finding's context, then from the named groups of `extract` run on the message (see
 * match.ts for the derived names such as {mysql}, {esUrl}, {hostport}).
 */
export interface Rule {
  id: string
  title: string
  /** 5 stops everything (unreachable, refused) … 1 a detail. Orders the report. */
  severity: 1 | 2 | 3 | 4 | 5
  codes?: string[]
  messages?: RegExp[]
  /** The rule applies only to failures of these sides (when the side is known). */
  services?: Service[]
  /** The rule applies only to these HTTP statuses (when the context has a `status`): 401 and 403 share a code. */
  statuses?: number[]
  extract?: RegExp[]
  /**
   * Template names that tell one problem from another of the same rule (a column, a key):
   * quoted values are otherwise blanked when grouping, so "Duplicate entry 'x'" groups whatever x is.
   */
  groupBy?: string[]
  /** Values used when neither the context nor the message gives one. */
  defaults?: Record<string, string>
  what: string
  /** Likely causes, most likely first. */
  causes: string[]
  commands: RuleCommand[]
  /** The espipe option that helps, if one does. */
  option?: string
}

const HOST_PORT = /(?:connect|to|at) (?:E[A-Z]+ )?\[?(?<host>[\w.-]+|[\d:a-f]+)\]?:(?<port>\d+)/i

export const RULES: Rule[] = [
  // ---- MySQL / MariaDB (before the network rules: "Lock wait timeout" is not a network timeout)
  {
    id: 'mysql-access-denied',
    title: 'MySQL refused the login',
    severity: 5,
    groupBy: ['user', 'client'],
    codes: ['ER_ACCESS_DENIED_ERROR', 'ER_NOT_SUPPORTED_AUTH_MODE', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR'],
    messages: [/Access denied for user '[^']*'@'[^']*' \(using password/],
    extract: [/user '(?<user>[^']*)'@'(?<client>[^']*)'(?: \(using password: (?<usingPassword>YES|NO)\))?/],
    what: "MySQL at {hostport} refused the login of user '{user}' (connecting from '{client}', password given: {usingPassword}).",
    causes: [
      'the password is wrong or not set (MYSQL_PWD, or the password in MYSQL_URL)',
      "the account '{user}'@'{client}' does not exist: MySQL accounts are per client host, and 'localhost' (socket) differs from '127.0.0.1' (TCP)",
      'the account uses an authentication plugin the client does not support'
    ],
    commands: [
      "{mysql} -e 'select current_user()'",
      "mariadb -u root -e \"select user, host, plugin from mysql.user where user = '{user}'\"",
      "mariadb -u root -e \"ALTER USER '{user}'@'{client}' IDENTIFIED BY 'NEW_PASSWORD'\""
    ],
    option: 'mysql-write --user (MYSQL_USER) with the password in MYSQL_PWD, or --url mysql://user:pass@host:port/db (MYSQL_URL)'
  },
  {
    id: 'mysql-no-privilege',
    title: 'The MySQL user lacks a privilege',
    severity: 5,
    groupBy: ['user', 'database', 'table'],
    codes: ['ER_DBACCESS_DENIED_ERROR', 'ER_TABLEACCESS_DENIED_ERROR', 'ER_SPECIFIC_ACCESS_DENIED_ERROR', 'ER_COLUMNACCESS_DENIED_ERROR'],
    messages: [/command denied to user|Access denied for user '[^']*'@'[^']*' to database/],
    extract: [/user '(?<user>[^']*)'@'(?<client>[^']*)'(?: to database '(?<database>[^']+)')?/, /for table [`']?(?<table>[^`'\s]+)/],
    what: "MySQL user '{user}'@'{client}' may not do this on database '{database}' (table {table}).",
    causes: [
      'the account has no INSERT/UPDATE/CREATE privilege on that database',
      'the run needs CREATE (mysql-write --create) but the account may only write rows'
    ],
    commands: [
      "mariadb -u root -e \"SHOW GRANTS FOR '{user}'@'{client}'\"",
      "mariadb -u root -e \"GRANT SELECT, INSERT, UPDATE, CREATE ON {database}.* TO '{user}'@'{client}'\""
    ]
  },
  {
    id: 'mysql-binlog-setup',
    title: 'The server\'s binary log cannot be read as rows',
    severity: 5,
    groupBy: ['code'],
    codes: ['BINLOG_OFF', 'BINLOG_FORMAT', 'BINLOG_ROW_IMAGE', 'BINLOG_PRIVILEGES', 'BINLOG_SNAPSHOT', 'BINLOG_STATEMENT'],
    what: 'mysql-read --binlog needs the server\'s binary log in rows with whole images, and a user allowed to read it; here: {message}',
    causes: [
      'the server runs without --log-bin, or with binlog_format STATEMENT or MIXED, or binlog_row_image MINIMAL or NOBLOB',
      'a session of some client set binlog_format or binlog_row_image for itself',
      'the user lacks REPLICATION SLAVE and REPLICATION CLIENT (BINLOG MONITOR)'
    ],
    commands: [
      "mariadb -u root -e 'SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@server_id'",
      "mariadb -u root -e \"SET GLOBAL binlog_format = 'ROW'; SET GLOBAL binlog_row_image = 'FULL'\"",
      "mariadb -u root -e \"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'USER'@'HOST'\""
    ],
    option: 'start the server with --log-bin --binlog-format=ROW --binlog-row-image=FULL --server-id=N (and in its configuration file), then rerun; after a change that could not be read, rerun with --resnapshot'
  },
  {
    id: 'mysql-binlog-lost',
    title: 'Changes the binary log no longer holds, or holds in another shape',
    severity: 4,
    codes: ['BINLOG_PURGED', 'BINLOG_SCHEMA_CHANGED'],
    what: 'mysql-read --binlog cannot go on from its checkpoint: {message}',
    causes: [
      'the server purged the binary log files the checkpoint names (expire_logs_days, binlog_expire_logs_seconds, PURGE BINARY LOGS) while the pipe was stopped',
      'a table was altered while the read was behind or stopped: the binary log keeps no columns, so the rows written before cannot be read with the new ones'
    ],
    commands: [
      "mariadb -u root -e 'SHOW BINARY LOGS'",
      "mariadb -u root -e 'SELECT @@binlog_expire_logs_seconds, @@expire_logs_days'"
    ],
    option: 'rerun the same command with --resnapshot: the tables are copied again and the stream goes on from the new snapshot'
  },
  {
    id: 'mysql-unknown-database',
    title: 'The MySQL database does not exist',
    severity: 4,
    groupBy: ['database'],
    codes: ['ER_BAD_DB_ERROR'],
    messages: [/Unknown database '/],
    extract: [/Unknown database '(?<database>[^']+)'/],
    what: "MySQL at {hostport} has no database '{database}'.",
    causes: [
      'the database name is misspelt (MYSQL_DATABASE, or the path of MYSQL_URL)',
      'the database was never created on this server (or this is another server than intended)'
    ],
    commands: [
      "{mysql} -e 'show databases'",
      "{mysql} -e 'CREATE DATABASE `{database}` CHARACTER SET utf8mb4'"
    ]
  },
  {
    id: 'mysql-no-database',
    title: 'No MySQL database was named',
    severity: 4,
    codes: ['ER_NO_DB_ERROR'],
    messages: [/No database selected|no database selected/],
    what: 'The run named no database on {hostport}, so table {table} cannot be found.',
    causes: [
      'neither --database (MYSQL_DATABASE), a path in --url, nor --table database.table was given'
    ],
    commands: [
      "{mysql} -e 'show databases'"
    ],
    option: 'mysql-write --database DB, --url mysql://user@host:port/DB, or --table DB.TABLE'
  },
  {
    id: 'mysql-missing-table',
    title: 'The MySQL table does not exist',
    severity: 4,
    groupBy: ['database', 'table'],
    codes: ['ER_NO_SUCH_TABLE'],
    messages: [/Table '[^']+' doesn't exist/],
    extract: [/Table '(?:(?<database>[^'.]+)\.)?(?<table>[^']+)' doesn't exist/],
    what: "Table '{table}' does not exist in database '{database}' on {hostport}.",
    causes: [
      'the table was never created: mysql-write creates it only with --create',
      'the table name is misspelt, or the run points at another database'
    ],
    commands: [
      "{mysql} {database} -e 'show tables'"
    ],
    option: 'mysql-write --create creates the table from the records'
  },
  {
    id: 'mysql-unknown-column',
    title: 'A column does not exist in the MySQL table',
    severity: 3,
    groupBy: ['column'],
    codes: ['ER_BAD_FIELD_ERROR'],
    messages: [/Unknown column '/],
    extract: [/Unknown column '(?<column>[^']+)'/],
    what: "Table '{table}' has no column '{column}'.",
    causes: [
      'the records carry a field the table was not created with',
      'the table was created by hand (or by an older run) with other column names'
    ],
    commands: [
      "{mysql} {database} -e 'SHOW CREATE TABLE `{table}`\\G'",
      "{mysql} {database} -e 'ALTER TABLE `{table}` ADD COLUMN `{column}` TEXT'"
    ],
    option: 'mysql-write --columns / --map choose the columns written; --create makes a table with id and content columns'
  },
  {
    id: 'mysql-data-too-long',
    title: 'A value is longer than its MySQL column',
    severity: 2,
    groupBy: ['column'],
    codes: ['ER_DATA_TOO_LONG'],
    messages: [/Data too long for column/],
    extract: [/column '(?<column>[^']+)'/],
    what: "A value is longer than column '{column}' of table '{table}' allows.",
    causes: [
      'the column type is too small for the data (VARCHAR(n), TEXT is 64 KiB)',
      'the data holds something unexpected there (a whole document instead of a field)',
      "a key column (the id) cannot be TEXT: MySQL indexes at most 3072 bytes of a key, 768 utf8mb4 characters"
    ],
    // Which fix MySQL takes depends on whether the column is in a key (SHOW FULL COLUMNS: Key,
    // and the Collation to keep): each command says when it applies, as a shell comment.
    commands: [
      "{mysql} {database} -e 'SHOW FULL COLUMNS FROM `{table}` LIKE \"{column}\"'",
      "{mysql} {database} -e 'ALTER TABLE `{table}` MODIFY `{column}` LONGTEXT'   # only if Key is empty: a column not in a key",
      "{mysql} {database} -e 'ALTER TABLE `{table}` MODIFY `{column}` VARCHAR(768) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL'   # a key column (Key PRI, UNI or MUL): keep the Collation shown (utf8mb4_bin is what mysql-write --create uses)"
    ],
    option: '--errors FILE keeps the rejected records to replay after the fix'
  },
  {
    id: 'mysql-invalid-json',
    title: 'MySQL rejected a value as invalid JSON',
    severity: 2,
    groupBy: ['column'],
    codes: ['ER_INVALID_JSON_TEXT', 'ER_INVALID_JSON_TEXT_IN_PARAM', 'ER_INVALID_JSON_CHARSET', 'ER_INVALID_JSON_VALUE_FOR_CAST', 'ER_CONSTRAINT_FAILED'],
    messages: [/Invalid JSON text|CONSTRAINT `[^`]+` failed/],
    extract: [/CONSTRAINT `(?:(?<table>[^`.]+)\.)?(?<column>[^`]+)` failed/, /column '(?<column>[^']+)'/],
    what: "A value for JSON column '{column}' of table '{table}' is not valid JSON.",
    causes: [
      'the document is nested deeper than 31 levels: MariaDB\'s json_valid() refuses deeper JSON that JSON.parse and Elasticsearch accept',
      'the document holds a lone surrogate (a \\ud800-\\udfff escape without its pair): valid to JSON.parse, refused by json_valid()',
      'a string that only looks like JSON (truncated, single quotes) was written to a JSON column',
      "MariaDB's JSON type is LONGTEXT with a json_valid() CHECK: the CONSTRAINT failure is that check"
    ],
    commands: [
      "{mysql} {database} -e 'SHOW CREATE TABLE `{table}`\\G'"
    ],
    option: '--errors FILE keeps the rejected records; inspect them with jq'
  },
  {
    id: 'mysql-incorrect-value',
    title: 'MySQL rejected a value for its column type',
    severity: 2,
    groupBy: ['type', 'column'],
    codes: ['ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', 'ER_TRUNCATED_WRONG_VALUE', 'ER_WARN_DATA_OUT_OF_RANGE', 'ER_BAD_NULL_ERROR', 'ER_WRONG_VALUE', 'ER_WARN_DATA_TRUNCATED', 'ER_WRONG_VALUE_FOR_TYPE'],
    messages: [/Incorrect \w+ value|Out of range value|cannot be null|Data truncated for column/],
    extract: [/Incorrect (?<type>\w+) value: '(?<value>[^']*)'/, /column (?:`[^`]*`\.)*[`']?(?<column>[^`'\s]+)[`']? at row/, /Column '(?<column>[^']+)' cannot be null/],
    defaults: { type: 'typed' },
    what: "A value does not fit the {type} column '{column}' of table '{table}'.",
    causes: [
      'the field holds text where the column wants a number or a date (or an empty string)',
      'a NOT NULL column got no value',
      'strict SQL mode (STRICT_TRANS_TABLES) turns what would be a warning into an error'
    ],
    commands: [
      "{mysql} {database} -e 'SHOW COLUMNS FROM `{table}`'",
      "{mysql} -e 'SELECT @@sql_mode'"
    ],
    option: '--errors FILE keeps the rejected records to fix and replay'
  },
  {
    id: 'mysql-inexact-value',
    title: 'A number would have been stored rounded',
    severity: 2,
    groupBy: ['type', 'column'],
    codes: ['RECORD_INEXACT_VALUE', 'RECORD_INEXACT_ID'],
    messages: [/can't be stored exactly in|is not a whole number written plainly/],
    extract: [/in (?<type>[A-Z]+(?:\([\d,]+\))?(?: UNSIGNED)?) (?:key )?column (?<column>[^\s:]+)/, /column (?<column>[^\s:]+) (?<type>[A-Z]+(?:\([\d,]+\))?(?: UNSIGNED)?)\)/],
    defaults: { type: 'numeric', column: '?' },
    what: "A value would not be stored exactly in the {type} column '{column}' of table '{table}', so its record was not written.",
    causes: [
      'the column is narrower than the data: a fraction into an integer column, more decimals than DECIMAL keeps, more digits than FLOAT/DOUBLE hold',
      'an id such as 01 or 1.0 into an integer key column, where it would be the same row as 1',
      "an id starting with base64: into a binary id column that is not the form mysql-read gives bytes (base64: and canonical base64 of bytes that are not UTF-8 text)",
      'a table made from a mapping (--schema): a field the schema does not map, an array in a one-value column, a string in a number column, a keyword longer than its column, more fractional seconds than its DATETIME keeps'
    ],
    commands: [
      "{mysql} {database} -e 'SHOW COLUMNS FROM `{table}`'",
      "{mysql} {database} -e 'ALTER TABLE `{table}` MODIFY `{column}` DECIMAL(65,30)'"
    ],
    option: '--errors FILE keeps the records to replay once the column is wide enough'
  },
  {
    id: 'mysql-value-form',
    title: 'A value is not in the form its column takes',
    severity: 2,
    groupBy: ['column'],
    codes: ['RECORD_WRONG_FORM'],
    messages: [/must be base64|must be a whole number from 0|wall time .* skips|would read back as another time/],
    extract: [/column (?<column>[^\s:(]+)/],
    defaults: { column: '?' },
    what: "A value for column '{column}' of table '{table}' is not in the form mysql-write takes for its type (the form mysql-read writes), so its record was not written.",
    causes: [
      'a binary column (BINARY, VARBINARY, BLOB) takes base64, as mysql-read writes bytes: text meant as the bytes themselves is not base64',
      'a BIT column takes a whole number from 0, as mysql-read writes it',
      'a TIMESTAMP without an offset names a wall time --timezone skips (clocks going forward)'
    ],
    commands: [
      "{mysql} {database} -e 'SHOW COLUMNS FROM `{table}`'"
    ],
    option: '--errors FILE keeps the records to fix and replay; --timezone sets the zone of times without an offset'
  },
  {
    id: 'mysql-read-not-advancing',
    title: 'The read stopped advancing',
    severity: 4,
    codes: ['ER_KEY_NOT_ADVANCING'],
    messages: [/stopped advancing/],
    what: "The server sent a row of '{table}' that is not after the last one read, so paging would have read the same rows again; the read stopped.",
    causes: [
      'the key that pages the read compares differently in ORDER BY and in > (a collation or type the server converts)',
      'an --id-column of a query whose values change between pages'
    ],
    commands: [
      "{mysql} {database} -e 'SHOW CREATE TABLE `{table}`'"
    ],
    option: '--id-column naming a unique NOT NULL integer or binary key pages by exact comparisons'
  },
  {
    id: 'mysql-unsafe-id-column',
    title: 'The id column would merge distinct ids',
    severity: 4,
    codes: ['EUNSAFE_ID_COLUMN'],
    messages: [/would merge distinct ids/],
    extract: [/make it exact with (?<fix>ALTER TABLE .*?), or pass/],
    defaults: { fix: 'ALTER TABLE ...' },
    what: "Table '{table}' compares ids loosely (case, trailing spaces or a prefix), so different Elasticsearch ids would become one row; nothing was written.",
    causes: [
      'the id column has a case-insensitive collation, or a PAD SPACE one such as utf8mb4_bin',
      'the id column is CHAR, or its unique key covers only a prefix'
    ],
    commands: [
      "{mysql} {database} -e '{fix}'"
    ],
    option: '--allow-id-merge writes anyway, accepting that such ids share one row'
  },
  {
    id: 'mysql-schema-field',
    title: 'A field of the mapping has no exact column',
    severity: 4,
    codes: ['ESCHEMA_FIELD'],
    messages: [/has no exact reading into a DATETIME|no DECIMAL holds exactly|both make column|is the id column|more than a column name's 64|does not read back as the values of field/],
    extract: [/^fields? (?<field>[^\s:]+)/, /values of field (?<field>[^\s:]+)/],
    defaults: { field: '?' },
    what: "mysql-write --schema cannot make a column that holds every value of field '{field}' exactly, so no table was made and nothing was written.",
    causes: [
      "a date field with a custom format (yyyy/MM/dd): only ISO-8601 and epoch_millis/epoch_second are read exactly into a DATETIME",
      'a scaled_float whose scaling_factor is not made of 2s and 5s (its values have no finite decimal form)',
      'two fields make the same column name (a.b and a_b; names ignore case), or a field takes the id column\'s name, or a name is longer than 64 characters',
      'the table exists already with a column of another type than the field needs'
    ],
    commands: [
      "jq -c '.mappings.properties' SCHEMA_FILE"
    ],
    option: '--map NAME=path names a field\'s column; edit the schema line (jq) to make a field a keyword or a double'
  },
  {
    id: 'mysql-schema-line',
    title: 'The --schema input is not one mapping line',
    severity: 4,
    codes: ['ESCHEMA'],
    messages: [/--schema takes/],
    what: 'mysql-write --schema takes the one line es-read --schema prints for one index; nothing was written.',
    causes: [
      'es-read --index with a pattern printed a line per index, and none is named as --table',
      'the file is not JSON, or has no "mappings" object'
    ],
    commands: [
      "jq -c 'select(._index == \"NAME\")' SCHEMA_FILE"
    ],
    option: 'es-read --index NAME --schema prints one index\'s line'
  },
  {
    id: 'mysql-packet-too-large',
    title: "A batch is larger than MySQL's max_allowed_packet",
    severity: 4,
    codes: ['ER_NET_PACKET_TOO_LARGE', 'ER_PACKET_TOO_LARGE', 'ER_TOO_LONG_STRING'],
    messages: [/max_allowed_packet|packet bigger than/i],
    what: "MySQL at {hostport} refused a statement larger than its max_allowed_packet.",
    causes: [
      'one record alone is larger than max_allowed_packet',
      'a batch of records (one multi-row INSERT) exceeds max_allowed_packet'
    ],
    commands: [
      "{mysql} -e 'SELECT @@global.max_allowed_packet'",
      "{mysql} -e 'SET GLOBAL max_allowed_packet=268435456'"
    ],
    option: 'mysql-write keeps each batch under max_allowed_packet by itself (--batch-size sets the most rows); a larger single record needs the server setting raised'
  },
  {
    id: 'mysql-deadlock',
    title: 'MySQL chose this transaction as a deadlock victim',
    severity: 3,
    codes: ['ER_LOCK_DEADLOCK'],
    messages: [/Deadlock found when trying to get lock/],
    what: "Two writers locked rows of table '{table}' in opposite orders and MySQL rolled this one back.",
    causes: [
      'several writers (parallel mysql-write runs, or another application) update the same rows at once',
      'large batches hold many row locks for long'
    ],
    commands: [
      "{mysql} -e 'SHOW ENGINE INNODB STATUS\\G' | sed -n '/LATEST DETECTED DEADLOCK/,/TRANSACTIONS/p'"
    ],
    option: 'mysql-write retries the batch for --retry-for SECONDS (default 60); a smaller --batch-size or -c/--concurrency shortens and spreads the locks'
  },
  {
    id: 'mysql-lock-wait-timeout',
    title: 'A MySQL lock wait timed out',
    severity: 3,
    codes: ['ER_LOCK_WAIT_TIMEOUT'],
    messages: [/Lock wait timeout exceeded/],
    what: "A write to table '{table}' waited longer than innodb_lock_wait_timeout for a row lock.",
    causes: [
      'another transaction holds locks on the same rows (a long-running job, an open client session)',
      'batches too large for the lock wait timeout'
    ],
    commands: [
      "{mysql} -e 'SELECT * FROM information_schema.innodb_trx\\G'",
      "{mysql} -e 'SELECT @@innodb_lock_wait_timeout'"
    ],
    option: 'mysql-write retries the batch for --retry-for SECONDS (default 60); a smaller --batch-size holds locks for less time'
  },
  {
    id: 'mysql-too-many-connections',
    title: 'MySQL has no connection slot left',
    severity: 4,
    codes: ['ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS'],
    messages: [/Too many connections|has exceeded the 'max_user_connections'/],
    what: "MySQL at {hostport} refused a new connection: max_connections is reached.",
    causes: [
      'other clients hold the connections (connection leaks, many parallel jobs)',
      'max_connections (or max_user_connections) is set low for the load'
    ],
    commands: [
      "{mysql} -e 'SHOW PROCESSLIST'",
      "{mysql} -e \"SHOW VARIABLES LIKE 'max_connections'; SHOW STATUS LIKE 'Threads_connected'\"",
      "{mysql} -e 'SET GLOBAL max_connections=500'"
    ],
    option: 'mysql-write -c/--concurrency N opens N connections (default 4)'
  },
  {
    id: 'mysql-gone-away',
    title: 'The MySQL server closed the connection',
    severity: 4,
    // mysql2 reports a write on a connection the server killed as EPIPE, a dropped one as ECONNRESET.
    codes: ['PROTOCOL_CONNECTION_LOST', 'ER_SERVER_GONE_ERROR', 'CR_SERVER_GONE_ERROR', 'CR_SERVER_LOST', 'ER_SERVER_LOST', 'EPIPE', 'ECONNRESET'],
    services: ['mysql'],
    messages: [/server has gone away|Connection lost: The server closed the connection|Lost connection to (MySQL|MariaDB) server|connection is in closed state/i],
    what: 'MySQL at {hostport} closed the connection in the middle of the run.',
    causes: [
      'a statement was larger than max_allowed_packet (the server drops the connection)',
      'the server restarted or was killed (out of memory)',
      'the connection sat idle longer than wait_timeout'
    ],
    commands: [
      "{mysql} -e \"SELECT @@global.max_allowed_packet, @@wait_timeout; SHOW GLOBAL STATUS LIKE 'Uptime'\"",
      'journalctl -u mariadb --since "-1 hour"'
    ],
    option: 'mysql-write retries for --retry-for SECONDS (default 60); rerunning the same input is safe (writes are idempotent by id)'
  },
  {
    id: 'mysql-duplicate-key',
    title: 'A record collides with a unique key',
    severity: 2,
    groupBy: ['key'],
    codes: ['ER_DUP_ENTRY', 'ER_DUP_KEY', 'ER_DUP_ENTRY_WITH_KEY_NAME'],
    messages: [/Duplicate entry '/],
    extract: [/Duplicate entry '(?<value>.*)' for key '(?<key>[^']+)'/],
    what: "Value '{value}' already exists under unique key '{key}' of table '{table}'.",
    causes: [
      'a unique key other than the id column: two records with different _id share that value',
      'the id column is not the primary key, so mysql-write cannot upsert by _id'
    ],
    commands: [
      "{mysql} {database} -e 'SHOW INDEX FROM `{table}`'"
    ],
    option: 'mysql-write --mode: a duplicate id is skipped (ignore, the default) or updated (upsert, replace); a clash on another unique key needs the data or the key fixed'
  },

  // ---- Elasticsearch
  {
    id: 'es-not-elasticsearch',
    title: 'The server is neither Elasticsearch nor OpenSearch',
    severity: 5,
    codes: ['ProductNotSupportedError', 'ES_NOT_ELASTICSEARCH'],
    messages: [/server is not Elasticsearch|unknown product|neither Elasticsearch nor OpenSearch/],
    what: 'The server at {esUrl} answered, but neither as Elasticsearch (X-Elastic-Product header, or the Elasticsearch GET / body) nor as OpenSearch (version.distribution in GET /).',
    causes: [
      'the URL points at another service: a wrong port (5601 is Kibana or OpenSearch Dashboards, 9300 the transport port), a proxy or a web server',
      'a proxy in front of the cluster that rewrites GET / or strips its headers'
    ],
    commands: [
      'curl -s -i {esUrl}/ | head -20'
    ],
    option: 'es-read --url (ES_URL) must name the Elasticsearch HTTP endpoint, usually port 9200'
  },
  // ---- AWS request signing (--aws-sigv4): AWS's front end answers before the engine does
  {
    id: 'aws-clock-skew',
    title: "AWS refused the signature's time: this machine's clock is off",
    severity: 5,
    messages: [/Signature expired: \d{8}T\d{6}Z is now earlier than|Signature not yet current: \d{8}T\d{6}Z is still later than/],
    extract: [/Signature (?:expired|not yet current): (?<signedAt>\d{8}T\d{6}Z) is (?:now earlier|still later) than \d{8}T\d{6}Z \((?<awsTime>\d{8}T\d{6}Z)/],
    what: 'AWS at {esUrl} refused the request: it was signed at {signedAt}, and AWS\'s clock said {awsTime}; a signature is good for 5 minutes either side.',
    causes: [
      "this machine's clock is wrong (no NTP, a container or VM whose clock drifted after a suspend)",
      'the run waited more than 5 minutes between signing a request and sending it (a stopped process)'
    ],
    commands: [
      'date -u',
      'timedatectl status',
      "curl -sI https://aws.amazon.com | grep -i '^date:'"
    ],
    option: 'set the clock right (chrony, systemd-timesyncd), then run again'
  },
  {
    id: 'aws-expired-token',
    title: 'The AWS session credentials have expired',
    severity: 5,
    codes: ['ExpiredTokenException'],
    messages: [/security token included in the request is expired/],
    what: 'AWS at {esUrl} refused the request: the session token of the credentials it was signed with has expired.',
    causes: [
      'temporary credentials (AWS_SESSION_TOKEN, an assumed role, SSO) were exported into the environment and outlived their session: the SDK cannot renew what it did not fetch',
      'a shared credentials file holds an old aws_session_token'
    ],
    commands: [
      'aws sts get-caller-identity',
      'aws sso login --profile "$AWS_PROFILE"'
    ],
    option: 'let the SDK fetch credentials itself (AWS_PROFILE with role_arn or SSO, a web identity token, or container/instance credentials): those it renews during a run'
  },
  {
    id: 'aws-wrong-region',
    title: 'The request was signed for another AWS region',
    severity: 5,
    messages: [/Credential should be scoped to a valid region/],
    extract: [/not '(?<region>[^']+)'/],
    defaults: { region: 'the one given' },
    what: 'AWS at {esUrl} refused the request: it was signed for region {region}, which is not the region of this endpoint.',
    causes: [
      '--aws-region (or AWS_REGION, AWS_DEFAULT_REGION) names another region than the domain\'s',
      'the URL is of a domain in another region than intended'
    ],
    commands: [
      "echo '{esUrl}' | grep -oE '[a-z]{2}(-[a-z]+)+-[0-9]+'"
    ],
    option: 'es-read --aws-region REGION (the region in the endpoint\'s host name; without --aws-region es-read takes it from there)'
  },
  {
    id: 'aws-wrong-service',
    title: 'The request was signed for another AWS service',
    severity: 5,
    messages: [/Credential should be scoped to correct service/],
    extract: [/correct service: '(?<service>[^']+)'/],
    what: "AWS at {esUrl} refused the request: this endpoint expects signatures for service '{service}'.",
    causes: [
      '--aws-service is aoss for an OpenSearch Service domain (which is es), or es for an OpenSearch Serverless collection (which is aoss)'
    ],
    commands: [],
    option: "es-read --aws-service {service} (es: a domain, *.es.amazonaws.com; aoss: Serverless, *.aoss.amazonaws.com)"
  },
  {
    id: 'aws-signature-mismatch',
    title: 'AWS computed another signature: the secret key is wrong',
    severity: 5,
    messages: [/request signature we calculated does not match the signature you provided/],
    what: 'AWS at {esUrl} refused the request: the signature does not match what AWS computed with the secret of that access key.',
    causes: [
      'AWS_SECRET_ACCESS_KEY (or aws_secret_access_key in the profile) does not belong to the access key id given with it',
      'a proxy between espipe and AWS changed the request (its path, query string, a signed header or the body) after it was signed'
    ],
    commands: [
      'aws sts get-caller-identity',
      'aws configure list'
    ],
    option: 'es-read --aws-sigv4 with the access key and its own secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)'
  },
  {
    id: 'aws-invalid-token',
    title: 'AWS does not know the access key',
    severity: 5,
    codes: ['UnrecognizedClientException'],
    messages: [/security token included in the request is invalid/],
    what: 'AWS at {esUrl} refused the request: it does not know the access key (or session token) it was signed with.',
    causes: [
      'the access key was deleted or deactivated, or belongs to another AWS partition (China, GovCloud)',
      'AWS_SESSION_TOKEN is missing for temporary credentials (access key ids starting ASIA), or left over with long-term ones (AKIA)'
    ],
    commands: [
      'aws sts get-caller-identity',
      'env | grep ^AWS_ | cut -d= -f1'
    ]
  },
  {
    id: 'aws-no-credentials',
    title: 'No AWS credentials were found',
    severity: 5,
    codes: ['AWS_NO_CREDENTIALS'],
    messages: [/--aws-sigv4: no AWS credentials/],
    what: 'es-read was asked to sign requests (--aws-sigv4) but the AWS SDK\'s default chain found no credentials.',
    causes: [
      'neither AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY nor a profile (AWS_PROFILE, ~/.aws/credentials, ~/.aws/config) is set in this environment',
      'a cron job or service runs without the variables and HOME of the shell where it worked'
    ],
    commands: [
      'aws configure list',
      'env | grep ^AWS_ | cut -d= -f1'
    ],
    option: 'export AWS_PROFILE=NAME (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) before es-read --aws-sigv4'
  },
  {
    id: 'es-unauthorized',
    title: 'Elasticsearch refused the credentials (401)',
    severity: 5,
    statuses: [401],
    codes: ['security_exception'],
    messages: [/unable to authenticate|missing authentication (credentials|token)|authentication failed at|\b401 (Unauthorized|security_exception)\b/i],
    extract: [/authenticate user \[(?<user>[^\]]+)\]/],
    what: "Elasticsearch at {esUrl} did not accept the credentials (user '{user}').",
    causes: [
      'the password (ES_PASSWORD) or API key (ES_API_KEY) is wrong or expired',
      'no credentials were sent at all to a cluster with security on',
      'the user exists in another realm or cluster than this URL'
    ],
    commands: [
      'curl -u {user} {esUrl}/_security/_authenticate?pretty'
    ],
    option: 'es-read --username with ES_PASSWORD (or --password), or --api-key (ES_API_KEY)'
  },
  {
    id: 'es-forbidden',
    title: 'Elasticsearch denied the action (403)',
    severity: 5,
    statuses: [403],
    codes: ['security_exception'],
    messages: [/is unauthorized for (user|API key)|authorization failed|\b403 security_exception|\b403 Forbidden\b/i],
    // Elasticsearch's wording, then OpenSearch's security plugin's (an AWS domain's fine-grained access control).
    extract: [/action \[(?<action>[^\]]+)\] is unauthorized for (?:user|API key id) \[(?<user>[^\]]+)\]/, /no permissions for \[(?<action>[^\]]+)\] and User \[name=(?<user>[^,\]]+)/, /on indices \[(?<index>[^\]]+)\]/],
    what: "Elasticsearch at {esUrl} authenticated user '{user}' but refused action {action} on index {index}.",
    causes: [
      "the user's roles grant no 'read' (and 'view_index_metadata') privilege on that index pattern",
      'an API key created with limited role descriptors'
    ],
    commands: [
      'curl -u {user} {esUrl}/_security/_authenticate?pretty',
      "curl -u {user} -H 'content-type: application/json' {esUrl}/_security/user/_has_privileges -d '{\"index\":[{\"names\":[\"{index}\"],\"privileges\":[\"read\",\"view_index_metadata\"]}]}'"
    ]
  },
  {
    id: 'es-index-not-found',
    title: 'The Elasticsearch index does not exist',
    severity: 4,
    groupBy: ['index'],
    codes: ['index_not_found_exception'],
    messages: [/index_not_found_exception|no such index/],
    extract: [/no such index \[(?<index>[^\]]+)\]/],
    what: "Elasticsearch at {esUrl} has no index '{index}'.",
    causes: [
      'the index name is misspelt, or it is an alias/data stream name on another cluster',
      'a wildcard or date pattern matched nothing'
    ],
    commands: [
      "curl -u {user} '{esUrl}/_cat/indices?v&s=index'",
      "curl -u {user} '{esUrl}/_cat/aliases?v'"
    ],
    option: 'es-read --index takes comma lists and wildcards (logs-*)'
  },
  {
    id: 'es-mapping-conflict',
    title: 'A value does not fit its field in the Elasticsearch mapping',
    severity: 2,
    groupBy: ['field', 'fieldType'],
    codes: ['document_parsing_exception', 'mapper_parsing_exception'],
    messages: [/failed to parse field \[/],
    extract: [/failed to parse field \[(?<field>[^\]]+)\] of type \[(?<fieldType>[^\]]+)\]/, /object mapping for \[(?<field>[^\]]+)\]/],
    defaults: { field: 'FIELD', fieldType: 'TYPE' },
    what: "Elasticsearch refused documents whose field '{field}' does not fit its mapping (type {fieldType}) in index {index}.",
    causes: [
      "dynamic mapping typed the field from the first document that had it (a number makes it long), and later documents hold something else there",
      'the input mixes shapes for the same field (a string in some records, an object in others)',
      'an explicit mapping that does not match the data'
    ],
    commands: [
      "curl -u {user} '{esUrl}/{index}/_mapping/field/{field}?pretty'",
      "jq -c '.record' ERRORS_FILE | head"
    ],
    option: 'es-write --create-index --mappings FILE maps the field yourself before loading (keyword takes any value); fix the records and replay them: jq -c .record ERRORS_FILE | es-write …'
  },
  {
    id: 'es-strict-mapping',
    title: 'The Elasticsearch mapping is strict and the documents have new fields',
    severity: 2,
    groupBy: ['field'],
    codes: ['strict_dynamic_mapping_exception'],
    messages: [/mapping set to strict, dynamic introduction of/],
    extract: [/dynamic introduction of \[(?<field>[^\]]+)\]/],
    defaults: { field: 'FIELD' },
    what: "Index {index} has a strict mapping (dynamic: strict), and documents bring field '{field}' it does not declare.",
    causes: [
      'the documents have fields the mapping was not written for',
      'the wrong index, or a template that applies a strict mapping'
    ],
    commands: [
      "curl -u {user} '{esUrl}/{index}/_mapping?pretty'"
    ],
    option: 'add the field to the mapping (PUT {index}/_mapping), or drop it from the records (jq del(._source.FIELD)) and replay the dead-letter file'
  },
  {
    id: 'es-document-missing',
    title: 'An update found no document to update',
    severity: 2,
    codes: ['document_missing_exception'],
    messages: [/document_missing_exception|\]: document missing/],
    what: 'Updates named ids that index {index} does not have.',
    causes: [
      'the documents were never created, or were deleted',
      'the ids or the index differ from the ones written before'
    ],
    commands: [
      "curl -u {user} '{esUrl}/{index}/_doc/ID?pretty'"
    ],
    option: 'es-write --op upsert creates what is missing (doc_as_upsert)'
  },
  {
    id: 'es-document-too-large',
    title: 'A record is larger than Elasticsearch takes in one request',
    severity: 2,
    codes: ['ES_DOCUMENT_TOO_LARGE'],
    messages: [/413 Request Entity Too Large|http\.max_content_length/],
    what: 'A record is larger than {esUrl} accepts in one request (http.max_content_length, 100mb by default).',
    causes: [
      'the document holds something it should not (a file, a whole log)',
      "the cluster's http.max_content_length was lowered"
    ],
    commands: [
      "curl -u {user} '{esUrl}/_cluster/settings?include_defaults=true&filter_path=**.max_content_length'"
    ],
    option: 'shrink the record, or raise http.max_content_length on the nodes (a static setting)'
  },
  {
    id: 'es-search-context-missing',
    title: 'The point in time (or scroll) expired',
    severity: 4,
    codes: ['search_context_missing_exception'],
    messages: [/search_context_missing_exception|No search context found/],
    what: 'Elasticsearch at {esUrl} no longer knows the point in time (or scroll) the read was paging through on index {index}.',
    causes: [
      'a page took longer to consume than the keep-alive (a slow consumer downstream of es-read)',
      'the node holding the context restarted, or the context was closed by someone else'
    ],
    commands: [
      "curl -u {user} '{esUrl}/_nodes/stats/indices/search?filter_path=**.open_contexts&pretty'"
    ],
    option: 'es-read --keep-alive (default 5m) keeps the point in time longer between two pages; --checkpoint FILE lets a rerun resume'
  },
  {
    id: 'es-since-field',
    title: 'The --since-field cannot order the read',
    severity: 4,
    codes: ['ES_SINCE_FIELD'],
    messages: [/--since-field \S+: .*it must be a date, date_nanos or numeric field/],
    extract: [/--since-field (?<field>\S+):/],
    groupBy: ['field'],
    defaults: { field: 'FIELD' },
    what: 'es-read reads incrementally in order of {field}, which is not a date, date_nanos or numeric field in every index read at {esUrl}.',
    causes: [
      'a typo in the field name, or a field of another index pattern',
      'the field is mapped as text or keyword (a date stored as a string without a date mapping)',
      'indices of a wildcard or alias map the field differently'
    ],
    commands: [
      "curl -u {user} '{esUrl}/{index}/_mapping/field/{field}?pretty'"
    ],
    option: 'map the field as a date (or stamp an ingest-time date with an ingest pipeline) and give it to --since-field'
  },
  {
    id: 'es-schema-untranslatable',
    title: 'A field or setting of the schema has no equivalent in the destination engine',
    severity: 4,
    groupBy: ['field'],
    codes: ['ES_SCHEMA_UNTRANSLATABLE'],
    messages: [/has no (?:equivalent|[a-z_]+ equivalent|dense_vector similarity|knn_vector space_type) in /],
    extract: [/index (?<index>\S+): (?:field|setting|mapping) (?<field>[^:]+):/],
    defaults: { field: 'FIELD' },
    what: 'es-write --schema was asked to create index {index} at {esUrl} with {field}, which means something the destination engine has under no name (Elasticsearch and OpenSearch differ): it created nothing rather than create an index that would behave otherwise.',
    causes: [
      'the index comes from the other engine (Elasticsearch to OpenSearch, or back) and uses a type, mapping parameter or setting only that engine has',
      'the destination is an older version that lacks it (flat_object came with OpenSearch 2.7, dense_vector similarities with Elasticsearch 8)'
    ],
    commands: [
      "curl -u {user} '{esUrl}/'",
      "jq -c 'del(.mappings.properties.{field})' SCHEMA_FILE"
    ],
    option: "edit the schema line (jq) to use what the destination has, or drop the field, then es-write --schema again; the README's \"Migrate an index\" lists every translation"
  },
  {
    id: 'es-schema-mapping-differs',
    title: 'The index exists with another mapping',
    severity: 4,
    codes: ['ES_SCHEMA_MAPPING_DIFFERS'],
    messages: [/exists at \S+ with another mapping: /],
    extract: [/index (?<index>\S+) exists at \S+ with another mapping: (?:field|mapping) (?<field>[^:]+):/],
    defaults: { field: 'FIELD' },
    what: 'Index {index} already exists at {esUrl}, and its mapping differs from the schema\'s (first at {field}): es-write --schema wrote nothing into it.',
    causes: [
      'an earlier load (or dynamic mapping, or an index template) made the index before the schema was applied',
      'the schema is of another index than the one it is being written to (--index renames it)'
    ],
    commands: [
      "curl -u {user} '{esUrl}/{index}/_mapping?pretty'"
    ],
    option: 'es-write --schema-exists keep writes into the index as it is; or delete the index (curl -X DELETE {esUrl}/{index}) and run again to create it from the schema'
  },
  {
    id: 'es-schema-refused',
    title: 'The engine refused to create an index of the schema',
    severity: 4,
    codes: ['ES_SCHEMA_REFUSED'],
    messages: [/is unknown to (?:Elasticsearch|OpenSearch) .* \(it comes with|is neither built into .* nor defined in the index's settings/],
    extract: [/index (?<index>\S+): /, /it comes with (?<plugin>[^;)]+\)?)/],
    defaults: { plugin: 'a plugin or module the node lacks' },
    what: 'The engine at {esUrl} refused to create index {index} from the schema: it does not have a type, analyzer or setting the schema uses (it comes with {plugin}). Nothing was written; the indices this run created before it were removed.',
    causes: [
      'the source cluster has a plugin or module the destination lacks (analysis-icu, k-NN, X-Pack of Elasticsearch\'s default distribution)',
      'an analyzer named in the mapping is defined nowhere: not built in, and not in the index\'s settings'
    ],
    commands: [
      "curl -u {user} '{esUrl}/_cat/plugins?v'"
    ],
    option: 'install the plugin on the destination nodes, or edit the schema line to use what the destination has, then es-write --schema again'
  },
  {
    id: 'es-schema-bad-line',
    title: 'A line of --schema is not a schema line',
    severity: 4,
    codes: ['ES_SCHEMA_BAD_LINE'],
    messages: [/a schema line is \{"_index":/],
    extract: [/(?<file>--schema \S+(?: \(stdin\))?) line (?<line>\d+)/],
    defaults: { file: '--schema FILE', line: 'N' },
    what: '{file} line {line} is not what es-read --schema prints ({"_index":…,"mappings":{…},"settings":{…},"aliases":{…}}), so es-write created nothing.',
    causes: [
      'documents were given as the schema (es-read without --schema), or the two were mixed in one file',
      'the line was edited by hand and is no longer JSON'
    ],
    commands: [
      "jq -c 'keys' SCHEMA_FILE | sort | uniq -c"
    ],
    option: 'es-read --index NAME --schema > NAME.schema.ndjson makes the file; the documents go as es-write\'s FILE arguments or stdin'
  },
  {
    id: 'checkpoint-ties',
    title: 'The tie log of a --since-field checkpoint is missing or another',
    severity: 4,
    codes: ['ECHECKPOINT_TIES'],
    messages: [/does not hold the \d+ records that share the checkpoint's last value/],
    extract: [/^(?<file>\S+\.ties) does not hold/],
    defaults: { file: 'FILE.ties' },
    what: 'The checkpoint says how many records of its last value were committed, and {file} (beside it) must name them; it does not, so es-read cannot tell which of them to leave out.',
    causes: [
      'FILE.ties was deleted or replaced while FILE was kept (or FILE was copied without it)',
      'two pipes share one checkpoint file'
    ],
    commands: [
      'ls -l {file}'
    ],
    option: 'keep FILE and FILE.ties together; delete both to read from the start again'
  },
  {
    id: 'es-checkpoint-needs-id',
    title: 'es-write --checkpoint met a record without an id',
    severity: 4,
    codes: ['ES_CHECKPOINT_NEEDS_ID'],
    messages: [/has no id at '[^']*': with --checkpoint, every record needs one/],
    extract: [/line (?<line>\d+|\?) has no id at '(?<idField>[^']*)'/],
    defaults: { line: '?', idField: '_id' },
    what: "Line {line} reached es-write with no id at '{idField}'. With --checkpoint a rerun sends again what was not acknowledged, and Elasticsearch would give each repeated record a new id: the copy would hold it twice.",
    causes: [
      "the records carry their id under another member than '{idField}' (plain JSON Lines, a CSV's id column)",
      'a filter between the stages (jq) dropped _id from the record'
    ],
    commands: [
      "head -n 1 INPUT | jq 'keys'"
    ],
    option: 'es-write --id-field PATH names the member that holds each id; without --checkpoint, records without one are indexed with ids Elasticsearch makes'
  },
  {
    id: 'es-rejected',
    title: 'Elasticsearch is overloaded (429)',
    severity: 3,
    codes: ['es_rejected_execution_exception', 'rejected_execution_exception', 'ES_TOO_MANY_REQUESTS'],
    messages: [/es_rejected_execution_exception|rejected execution|Too Many Requests|status(Code)?[=: ]+429\b/i],
    what: 'Elasticsearch at {esUrl} rejected requests: its thread pool queue is full.',
    causes: [
      'the cluster is busy with other searches or indexing',
      'too many parallel requests (slices) or too large pages from this run'
    ],
    commands: [
      "curl -u {user} '{esUrl}/_cat/thread_pool/search?v&h=node_name,active,queue,rejected'"
    ],
    option: 'es-read retries 429 with backoff (--retries, --retry-max-wait); fewer --slices and a smaller --size lighten the load'
  },
  {
    id: 'es-circuit-breaker',
    title: 'An Elasticsearch circuit breaker tripped',
    severity: 3,
    codes: ['circuit_breaking_exception'],
    messages: [/circuit_breaking_exception|\[parent\] Data too large/],
    what: 'Elasticsearch at {esUrl} refused a request that would use more heap than its circuit breaker allows.',
    causes: [
      'pages too large (many or big documents per request)',
      'the nodes are short of heap because of other load'
    ],
    commands: [
      "curl -u {user} '{esUrl}/_nodes/stats/breaker?pretty'"
    ],
    option: 'a smaller es-read --size (hits per request)'
  },
  {
    id: 'es-shard-failure',
    title: 'Elasticsearch shards failed',
    severity: 3,
    codes: ['search_phase_execution_exception', 'ES_SHARD_FAILURE'],
    messages: [/search_phase_execution_exception|all shards failed|shard failures?/i],
    what: 'The search on index {index} at {esUrl} failed on its shards.',
    causes: [
      'the query or sort is invalid for the mapping (sorting on a text field, a bad date format)',
      'shards are unassigned (cluster red)'
    ],
    commands: [
      "curl -u {user} '{esUrl}/_cluster/health?pretty'",
      "curl -u {user} '{esUrl}/_cat/shards/{index}?v'"
    ]
  },

  // ---- Network (after the specific rules)
  {
    id: 'connection-refused',
    title: 'Connection refused',
    severity: 5,
    groupBy: ['host', 'port'],
    codes: ['ECONNREFUSED'],
    messages: [/ECONNREFUSED|connection refused/i],
    extract: [HOST_PORT],
    what: 'Nothing accepted a connection at {hostport}.',
    causes: [
      'the server is not running there',
      'a wrong host or port (MySQL listens on 3306, Elasticsearch on 9200)',
      "the server listens only on another interface (bind-address) or a firewall rejects the port"
    ],
    commands: [
      { service: 'mysql', run: "{mysql} -e 'select version()'" },
      { service: 'mysql', run: 'systemctl status mariadb' },
      { service: 'elasticsearch', run: 'curl -u {user} {esUrl}/' },
      'ss -ltnp | grep {port}'
    ],
    option: 'mysql-write --host/--port or --url (MYSQL_URL); es-read --url (ES_URL)'
  },
  {
    id: 'dns-failure',
    title: 'The host name does not resolve',
    severity: 5,
    groupBy: ['host'],
    codes: ['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME'],
    messages: [/getaddrinfo (ENOTFOUND|EAI_AGAIN)/],
    extract: [/getaddrinfo \w+ (?<host>\S+)/],
    what: "The host name '{host}' could not be resolved to an address.",
    causes: [
      'the host name is misspelt',
      'no DNS (EAI_AGAIN: the resolver did not answer), or a name only known inside another network/VPN/container'
    ],
    commands: [
      'getent hosts {host}',
      'cat /etc/resolv.conf'
    ]
  },
  {
    id: 'wrong-service',
    title: 'The URL or port leads to another kind of server',
    severity: 5,
    codes: ['ENOTHTTP', 'ES_WRONG_SCHEME'],
    messages: [/does not speak (HTTP|TLS)|speaks TLS.*use https|is not a MySQL server but/],
    what: '{hostport} answered, but in another protocol than the one asked for: {message}',
    causes: [
      "the port is another service's: 3306 is MySQL, 9200 Elasticsearch's HTTP, 9300 its transport port, 5601 Kibana",
      'http:// where the server wants https:// (a cluster with TLS on), or the other way round'
    ],
    commands: [
      'curl -sv {esUrl}/ 2>&1 | head -20',
      'openssl s_client -connect {hostport} </dev/null 2>&1 | head -5'
    ],
    option: 'es-read --url (ES_URL) takes http:// or https:// and the HTTP port; mysql-write -P/--port (MYSQL_TCP_PORT) the MySQL port'
  },
  // A certificate the client refused, by what fixes it (the codes are Node's, which es-read,
  // es-write and mysql2 keep); then any other TLS failure.
  {
    id: 'tls-client-certificate',
    title: 'The cluster wants a client certificate it accepts',
    severity: 5,
    codes: ['ES_CLIENT_CERT_REQUIRED', 'ES_CLIENT_CERT_REFUSED'],
    messages: [/requires a client certificate|refused the client certificate|alert (?:certificate required|unknown ca|bad certificate)/i],
    what: 'The TLS handshake with {esUrl} failed on the client certificate: the cluster requires one (mutual TLS) and got none, or one it does not accept.',
    causes: [
      'no --cert/--key (ES_CERT, ES_KEY) was given to a cluster that requires client certificates',
      "the certificate is signed by a CA the cluster does not trust, has no clientAuth extended key usage, or has expired",
      'the key file is not the key of that certificate'
    ],
    commands: [
      'openssl x509 -in CLIENT.pem -noout -subject -issuer -dates -ext extendedKeyUsage',
      'openssl s_client -connect {hostport} -cert CLIENT.pem -key CLIENT-KEY.pem </dev/null'
    ],
    option: 'es-read --cert FILE --key FILE (env ES_CERT, ES_KEY), with --ca-cert for the cluster\'s own CA'
  },
  {
    id: 'tls-untrusted-certificate',
    title: "The server's TLS certificate is not trusted",
    severity: 5,
    codes: [...CERT_UNTRUSTED_CODES],
    messages: [/self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|TLS certificate is not (trusted|signed by the CA)/i],
    what: '{hostport} presented a TLS certificate that no CA the client trusts has signed.',
    causes: [
      'the cluster signs with its own CA (Elasticsearch 8 makes one at install: config/certs/http_ca.crt) and that CA was not given',
      "a company CA: Node trusts its own list of public CAs, not the system's store",
      'the CA given is not the one that signed the certificate, or the server sends its certificate without the intermediate CA'
    ],
    commands: [
      'openssl s_client -connect {hostport} -servername {host} </dev/null 2>/dev/null | openssl x509 -noout -subject -issuer -dates',
      { service: 'elasticsearch', run: 'curl --cacert http_ca.crt -u {user} {esUrl}/' }
    ],
    option: 'es-read/es-write --ca-cert FILE (ES_CA_CERT) with the CA that signed it, or --insecure to skip the check; mysql-write/mysql-read --ssl-ca FILE'
  },
  {
    id: 'tls-certificate-expired',
    title: "The server's TLS certificate is out of date",
    severity: 5,
    codes: [...CERT_DATE_CODES],
    messages: [/certificate has expired|certificate is not yet valid|TLS certificate (has expired|is not valid yet)/i],
    what: 'The TLS certificate of {hostport} is outside its validity dates.',
    causes: [
      'the certificate expired and was not renewed',
      "this machine's clock is wrong (a certificate not yet valid usually means a clock behind)"
    ],
    commands: [
      'openssl s_client -connect {hostport} -servername {host} </dev/null 2>/dev/null | openssl x509 -noout -subject -dates',
      'date -u'
    ],
    option: 'renew the certificate on the server; es-read/es-write --insecure skips the check meanwhile'
  },
  {
    id: 'tls-hostname-mismatch',
    title: "The server's TLS certificate is for another name",
    severity: 5,
    codes: [...CERT_NAME_CODES],
    messages: [/does not match certificate's altnames|TLS certificate (does not name|is for another name)/i],
    what: 'The TLS certificate of {hostport} does not name {host}.',
    causes: [
      'the URL names the server by an IP address or a short name, the certificate by its full host name (or the other way round)',
      'a load balancer or proxy in front of the server presents its own certificate'
    ],
    commands: [
      'openssl s_client -connect {hostport} -servername {host} </dev/null 2>/dev/null | openssl x509 -noout -subject -ext subjectAltName'
    ],
    option: 'es-read/es-write --url with a host name the certificate holds, or --insecure to skip the check; mysql-write/mysql-read --ssl-mode verify-ca checks the CA but not the name'
  },
  {
    id: 'tls-error',
    title: 'The TLS handshake or certificate check failed',
    severity: 5,
    codes: ['ERR_SSL_WRONG_VERSION_NUMBER', 'HANDSHAKE_SSL_ERROR', 'EPROTO', 'HANDSHAKE_NO_SSL_SUPPORT'],
    // TLS as a word, in capitals: not the letters in a path such as /srv/tlsfinal/run.log.
    messages: [/certificate|self[- ]signed|SSL routines|wrong version number/i, /\bTLS\b/],
    what: 'The secure connection to {hostport} could not be set up.',
    causes: [
      'the server certificate is signed by a private CA the client does not trust (self-signed Elasticsearch)',
      'the certificate expired, or does not name this host',
      'https:// against a plain-HTTP port (or the reverse): "wrong version number"'
    ],
    commands: [
      'openssl s_client -connect {hostport} -servername {host} </dev/null | openssl x509 -noout -subject -issuer -dates',
      { service: 'elasticsearch', run: 'curl --cacert CA.pem -u {user} {esUrl}/' }
    ],
    option: 'es-read/es-write --ca-cert FILE (ES_CA_CERT); mysql-write --ssl-ca FILE'
  },
  {
    id: 'timeout',
    title: 'The connection or request timed out',
    severity: 4,
    codes: ['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'TimeoutError', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ETIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT'],
    messages: [/timed? ?out/i],
    extract: [HOST_PORT],
    what: 'No answer from {hostport} in time.',
    causes: [
      'a firewall drops the packets (no refusal, just silence)',
      'the server is overloaded or stuck (long GC pause, a full disk)',
      'the request is too big for the timeout (a huge page or batch)'
    ],
    commands: [
      'nc -vz -w 5 {host} {port}',
      { service: 'elasticsearch', run: "curl -u {user} -m 10 '{esUrl}/_cluster/health?pretty'" },
      { service: 'mysql', run: "{mysql} --connect-timeout=5 -e 'SHOW PROCESSLIST'" }
    ]
  },
  {
    id: 'connection-reset',
    title: 'The connection was reset',
    severity: 4,
    codes: ['ECONNRESET', 'UND_ERR_SOCKET'],
    messages: [/ECONNRESET|socket hang up|other side closed/i],
    extract: [HOST_PORT],
    what: 'The server at {hostport} dropped the connection while talking.',
    causes: [
      'the server restarted or killed the connection',
      'a proxy or load balancer cut an idle or long request'
    ],
    commands: [
      'nc -vz {host} {port}'
    ],
    option: 'rerun the pipe: writes are idempotent by _id'
  },

  // ---- CSV and NDJSON input
  {
    id: 'csv-broken-quote',
    title: 'A CSV field has a broken quote',
    severity: 3,
    codes: ['CSV_INVALID_CLOSING_QUOTE', 'CSV_QUOTE_NOT_CLOSED', 'CSV_INVALID_OPENING_QUOTE', 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE'],
    messages: [/Invalid (Closing|Opening) Quote|Quote Not Closed/i],
    what: '{file} line {line}: a quoted field is not closed properly, so the CSV parser cannot go on.',
    causes: [
      'a quote inside a field is not doubled ("" is how CSV writes a quote in a quoted field)',
      'an unterminated quote: the field runs to the end of the file',
      'the file uses another quote character or none (\' or no quoting at all)'
    ],
    commands: [
      "sed -n '{line}p' {file} | cat -A",
      "awk -F'\"' 'NF % 2 == 0 { print FILENAME \":\" NR }' {file} | head"
    ],
    option: 'csv-read --quote CHAR sets the quote character'
  },
  {
    id: 'csv-row-width',
    title: 'A CSV row has the wrong number of fields',
    severity: 2,
    codes: ['CSV_RECORD_INCONSISTENT_FIELDS_LENGTH', 'CSV_RECORD_DONT_MATCH_COLUMNS_LENGTH', 'CSV_RECORD_INCONSISTENT_COLUMNS'],
    messages: [/has \d+ fields, the header has \d+/],
    extract: [/has (?<fields>\d+) fields, the header has (?<columns>\d+)/],
    what: '{file} line {line} has {fields} fields where the header has {columns}.',
    causes: [
      'an unquoted delimiter inside a value (a comma in a name or an amount)',
      'the file uses another delimiter (; or a tab) than the one given',
      'a truncated or hand-edited line'
    ],
    commands: [
      "sed -n '{line}p' {file}",
      "awk -F, '{ print NF }' {file} | sort | uniq -c"
    ],
    option: 'csv-read --delimiter (-d) sets the delimiter; --errors FILE keeps the bad rows'
  },
  {
    id: 'csv-bad-encoding',
    title: 'A CSV line is not valid UTF-8',
    severity: 2,
    codes: ['CSV_INVALID_ENCODING'],
    messages: [/not valid UTF-8/],
    what: '{file} line {line} holds bytes that are not UTF-8.',
    causes: [
      'the file is Latin-1 / Windows-1252 (exported from Excel or an old system)',
      'a file of mixed encodings'
    ],
    commands: [
      'file -i {file}',
      "grep -naxv '.*' {file} | head",
      'iconv -f WINDOWS-1252 -t UTF-8 {file} > {file}.utf8.csv'
    ],
    option: 'csv-read --encoding latin1'
  },
  {
    id: 'csv-missing-id',
    title: 'CSV rows have no id',
    severity: 3,
    codes: ['CSV_MISSING_ID', 'CSV_MISSING_ID_COLUMN'],
    messages: [/has no column '[^']+'.*--id-column|has an empty '/],
    what: 'Rows of {file} have no value in the id column.',
    causes: [
      'the id column has another name in this file',
      'rows with an empty id'
    ],
    commands: [
      'head -1 {file}'
    ],
    option: 'csv-read --id-column NAME'
  },
  {
    id: 'ndjson-not-json',
    title: 'An input line is not a JSON object',
    severity: 2,
    codes: ['NDJSON_INVALID_JSON', 'NDJSON_NOT_OBJECT'],
    messages: [/is not JSON|is JSON but not an object/],
    what: 'Line {line} of {file} is not one JSON object, so it cannot be a record.',
    causes: [
      'something other than NDJSON on the pipe (pretty-printed JSON across lines, a log line, a header)',
      'a JSON array or value instead of an object per line',
      'a truncated line (the producer was killed mid-write)'
    ],
    commands: [
      "sed -n '{line}p' {file} | cut -c1-200",
      "jq -c . {file} > /dev/null"
    ],
    option: "jq -c '.[]' turns a JSON array into NDJSON; --errors FILE keeps the bad lines"
  },
  {
    id: 'ndjson-invalid-utf8',
    title: 'An input line is not UTF-8',
    severity: 2,
    codes: ['NDJSON_INVALID_UTF8'],
    messages: [/is not UTF-8: byte \d+ begins/],
    extract: [/byte (?<byte>\d+) begins \[(?<hex>[0-9a-f ]+)\], which/],
    what: 'Line {line} of {file} holds bytes that are no UTF-8 character (from byte {byte}: {hex}): it was not written, as reading it would have changed them. The dead-letter entry holds the line as Latin-1, one character per byte.',
    causes: [
      'the producer wrote another encoding (Latin-1, Windows-1252) into JSON text',
      'a line cut inside a character (a file truncated, or cut with head -c)',
      'bytes of a binary value written into a JSON string without encoding them (base64 is how espipe readers carry them)'
    ],
    commands: [
      "sed -n '{line}p' {file} | od -c | head",
      "grep -naxv '.*' {file} | head"
    ],
    option: "--errors FILE keeps each such line; jq -j '.record' FILE | iconv -f UTF-8 -t LATIN1 gives its bytes back"
  },
  {
    id: 'line-too-long',
    title: 'An input line is longer than --max-line-bytes',
    severity: 2,
    codes: ['RECORD_TOO_LONG'],
    messages: [/longer than --max-line-bytes/],
    what: 'Line {line} of {file} is {bytes} bytes, more than --max-line-bytes allows: it was skipped, and the lines after it were read.',
    causes: [
      'the input has no line ends where records end: one JSON document or array over the whole file, or a binary or compressed file',
      'a CSV quote opened and never closed, so the record runs on over the following lines',
      'one record really is that large (a document with a file embedded in it)'
    ],
    commands: [
      'head -c 300 {file}; echo',
      'file {file}'
    ],
    option: "--max-line-bytes SIZE (e.g. 512MiB) takes longer lines; jq -c '.[]' turns a JSON array into NDJSON"
  },

  {
    id: 'record-content-not-object',
    title: 'The content of records is not an object',
    severity: 2,
    codes: ['RECORD_CONTENT_NOT_OBJECT'],
    messages: [/content at '[^']+' is (an array|a string|a number|a boolean|null), not an object|is not an object, so (columns|it)/],
    extract: [/content at '(?<path>[^']+)' is (?<kind>an array|a string|a number|a boolean|null), not an object/, /content at '(?<path>[^']+)'/],
    defaults: { kind: 'something other than an object', path: '_source' },
    what: "The content at '{path}' of records reaching {tool} is {kind}, where fields are taken from an object (line {line} first).",
    causes: [
      'the documents themselves are lists or plain values: an Elasticsearch _source can be any JSON',
      '--content-field points at a field that holds a list or a value, not the document'
    ],
    commands: [
      "sed -n '{line}p' {file} | jq '.{path} | type'"
    ],
    option: "mysql-write without --columns/--map stores any JSON content, arrays too, in its JSON column; jsonl-write --shape raw or envelope writes it as it is; --content-field PATH picks another field"
  },
  {
    id: 'record-bad-op',
    title: 'A record says an operation writers do not know',
    severity: 2,
    codes: ['RECORD_BAD_OP'],
    messages: [/its _op is .*, not an operation \(index, create, update, upsert, delete\)/],
    extract: [/its _op is (?<value>.*), not an operation/],
    defaults: { value: 'something else' },
    what: 'Records reaching {tool} carry "_op": {value}, which is none of the operations a writer applies (index, create, update, upsert, delete) (line {line} first).',
    causes: [
      'the records carry a field named _op of their own, which espipe reserves for what a writer does with a record',
      'the operation is spelled otherwise ("Delete", "insert", "remove") by the program that wrote the records'
    ],
    commands: [
      "sed -n '{line}p' {file} | jq -c '._op'",
      "jq -c '._op |= ({\"remove\":\"delete\",\"insert\":\"create\"}[.] // .)' {file}"
    ],
    option: 'a record without "_op" is written as --op (es-write) or --mode (mysql-write) say: jq -c \'del(._op)\' drops the member'
  },
  {
    id: 'record-shape',
    title: 'A record has no id or no content where the writer looks',
    severity: 2,
    groupBy: ['code'],
    codes: ['RECORD_MISSING_ID', 'RECORD_NOT_OBJECT', 'RECORD_MISSING_CONTENT'],
    messages: [/record has no (id|content) at|record is not a JSON object/],
    extract: [/at '(?<path>[^']+)'/],
    defaults: { path: '_id' },
    what: "Records reaching {tool} have nothing at '{path}' (line {line} first).",
    causes: [
      'the records are plain JSON Lines, not the {"_id", "_source"} shape es-read and csv-read write',
      'the id or the content is under another field name'
    ],
    commands: [
      "sed -n '{line}p' {file} | jq ."
    ],
    option: "--id-field PATH and --content-field PATH (. is the whole record) say where to look"
  },

  // ---- Files and pipes
  {
    id: 'file-not-found',
    title: 'No such file or directory',
    severity: 5,
    codes: ['ENOENT'],
    messages: [/ENOENT|no such file/i],
    extract: [/cannot (?<op>read|write) (?<file>\S+?):?(?=\s|$)/],
    defaults: { op: 'open' },
    what: 'Could not {op} {file}: it (or its directory) does not exist.',
    causes: [
      'a typo in the path, or a path relative to another working directory',
      'the output directory does not exist (writers create the file, not the directory)'
    ],
    commands: [
      'ls -ld {file} "$(dirname {file})"'
    ]
  },
  {
    id: 'gzip-input',
    title: 'A gzipped input cannot be read',
    severity: 5,
    codes: ['EGZIP', 'Z_BUF_ERROR', 'Z_DATA_ERROR'],
    messages: [/gzip stream|but it is not gzip/],
    extract: [/cannot read (?<file>\S+?):(?=\s|$)/],
    what: '{file} could not be read as gzip: it is cut short, damaged, or named .gz without being gzip. Records read before the fault were taken; the run stopped there.',
    causes: [
      'the file was copied or downloaded only in part, or is still being written',
      'the file was damaged on the disk or on its way',
      'a text file named .gz'
    ],
    commands: [
      'gzip -t {file}',
      'file {file}'
    ],
    option: 'a text file: rename it without .gz; a cut file: write it again, or read what it holds with zcat {file} 2>/dev/null'
  },
  {
    id: 'permission-denied',
    title: 'Permission denied',
    severity: 5,
    codes: ['EACCES', 'EPERM', 'EROFS'],
    messages: [/EACCES|permission denied|read-only file system/i],
    extract: [/cannot (?<op>read|write) (?<file>\S+?):?(?=\s|$)/],
    defaults: { op: 'open' },
    what: 'Not allowed to {op} {file}.',
    causes: [
      'the file or its directory belongs to another user',
      'a read-only file system or mount'
    ],
    commands: [
      'ls -ld {file} "$(dirname {file})"',
      'id'
    ]
  },
  {
    id: 'disk-full',
    title: 'The disk is full',
    severity: 5,
    codes: ['ENOSPC', 'EDQUOT'],
    messages: [/ENOSPC|no space left on device|quota exceeded/i],
    what: 'Writing {file} failed: no space left on the device (or the quota is used up).',
    causes: [
      'the output is larger than the free space',
      'temporary files or logs filled the disk'
    ],
    commands: [
      'df -h "$(dirname {file})"',
      'du -sh "$(dirname {file})"/* | sort -h | tail'
    ],
    option: 'jsonl-write --gzip (or -o FILE.gz) writes far fewer bytes'
  },
  {
    id: 'broken-pipe',
    title: 'The next command in the pipe went away',
    severity: 4,
    codes: ['EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED'],
    messages: [/EPIPE|broken pipe/i],
    what: '{tool} wrote to a pipe whose reader had already exited.',
    causes: [
      'the command after it in the pipe failed first: its own error is the real cause (look for it above)',
      'the reader was killed or stopped early on purpose (head)'
    ],
    commands: [
      'set -o pipefail; echo "${PIPESTATUS[@]}"'
    ]
  },
  {
    id: 'max-errors',
    title: 'The run stopped after too many failed records',
    severity: 1,
    codes: ['EMAXERRORS'],
    messages: [/stopped: more than \d+ records failed/],
    what: '{tool} gave up after more record errors than --max-errors allows; the record errors above say why.',
    causes: ['the record errors listed above'],
    commands: [],
    option: '--max-errors N (raise it, or fix the cause); --errors FILE keeps the failed records'
  }
]

/** What a finding gets when no rule knows its code or message. */
export const UNKNOWN_RULE: Rule = {
  id: 'unknown',
  title: 'An error the catalogue does not know',
  severity: 3,
  what: '{tool} failed with {code}: {message}',
  causes: ['the message above is all that is known; --ai asks Claude about it'],
  commands: []
}
