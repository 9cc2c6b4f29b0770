import t from 'tap'
import { explainText } from '../../lib/explain/explain.js'
import { FindingReader, findingFromMessage } from '../../lib/explain/read.js'
import { matchRule } from '../../lib/explain/match.js'
import { RULES } from '../../lib/explain/rules.js'
import { TOOLS } from '../../lib/cli.js'

// Failures that cannot be produced on this machine (a server out of connections, a packet
// limit, a real certificate), given as the servers and drivers word them, plus the parts of
// the reader that the real-failure tests do not reach.

t.test('the catalogue covers every failure the issue lists', async (t) => {
  const ids = new Set(RULES.map((r) => r.id))
  for (const id of [
    'connection-refused', 'dns-failure', 'timeout', 'tls-error', 'tls-untrusted-certificate', 'tls-certificate-expired', 'tls-hostname-mismatch',
    'es-unauthorized', 'es-forbidden', 'es-index-not-found', 'es-rejected', 'es-circuit-breaker', 'es-search-context-missing', 'es-shard-failure', 'es-not-elasticsearch',
    'mysql-access-denied', 'mysql-unknown-database', 'mysql-missing-table', 'mysql-unknown-column', 'mysql-data-too-long', 'mysql-incorrect-value', 'mysql-invalid-json',
    'mysql-packet-too-large', 'mysql-deadlock', 'mysql-lock-wait-timeout', 'mysql-too-many-connections', 'mysql-gone-away', 'mysql-duplicate-key',
    'csv-broken-quote', 'csv-row-width', 'csv-bad-encoding', 'ndjson-not-json',
    'file-not-found', 'permission-denied', 'disk-full', 'broken-pipe', 'wrong-service', 'record-content-not-object'
  ]) t.ok(ids.has(id), id)
  t.equal(ids.size, RULES.length, 'rule ids are unique')
  for (const r of RULES) t.ok(r.causes.length > 0 && r.what !== '', `${r.id} says what happened and why`)
})

const documented: Array<[string, string, string, string]> = [
  // [code, message, rule, something the explanation must say]
  ['ER_NET_PACKET_TOO_LARGE', 'Got a packet bigger than \'max_allowed_packet\' bytes', 'mysql-packet-too-large', 'SET GLOBAL max_allowed_packet=268435456'],
  ['ER_CON_COUNT_ERROR', 'Too many connections', 'mysql-too-many-connections', "SHOW VARIABLES LIKE 'max_connections'"],
  ['ER_TABLEACCESS_DENIED_ERROR', "INSERT command denied to user 'loader'@'10.0.0.5' for table `shop`.`orders`", 'mysql-no-privilege', "GRANT SELECT, INSERT, UPDATE, CREATE ON DATABASE.* TO 'loader'@'10.0.0.5'"],
  ['PROTOCOL_CONNECTION_LOST', 'Connection lost: The server closed the connection.', 'mysql-gone-away', 'max_allowed_packet'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', 'tls-untrusted-certificate', 'openssl s_client -connect es.internal:9200'],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate', 'tls-untrusted-certificate', 'curl --cacert http_ca.crt -u USER https://es.internal:9200/'],
  ['CERT_HAS_EXPIRED', 'https://es.internal:9200: the server\'s TLS certificate has expired (certificate has expired); renew it on the server (or set this machine\'s clock right), or --insecure to skip the check', 'tls-certificate-expired', 'The TLS certificate of es.internal:9200 is outside its validity dates.'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: Host: es.internal. is not in the cert's altnames: DNS:es-1.prod", 'tls-hostname-mismatch', 'The TLS certificate of es.internal:9200 does not name es.internal.'],
  ['ECONNRESET', 'read ECONNRESET', 'connection-reset', 'nc -vz es.internal 9200'],
  ['EPIPE', 'write EPIPE', 'broken-pipe', 'PIPESTATUS'],
  ['EAI_AGAIN', 'getaddrinfo EAI_AGAIN es.internal', 'dns-failure', 'getent hosts es.internal'],
  ['ENOTHTTP', 'https://es.internal:9200 does not speak HTTP: it is a MySQL server (MariaDB 10.11.6)', 'wrong-service', 'openssl s_client -connect es.internal:9200'],
  ['ES_WRONG_SCHEME', 'http://es.internal:9200 speaks TLS (certificate for es.internal): use https://', 'wrong-service', 'curl -sv https://es.internal:9200/'],
  ['ES_SINCE_FIELD', '--since-field updated: a keyword field in logs; it must be a date, date_nanos or numeric field', 'es-since-field', '/logs/_mapping/field/updated'],
  ['ECHECKPOINT_TIES', "/var/sync/c.ties does not hold the 3 records that share the checkpoint's last value 1704067200000 (it holds 0): without them the read cannot tell which of them were written; delete the checkpoint and /var/sync/c.ties to start over", 'checkpoint-ties', 'ls -l /var/sync/c.ties'],
  ['ES_CHECKPOINT_NEEDS_ID', "line 7 has no id at 'doc.key': with --checkpoint, every record needs one (Elasticsearch would give a repeated record a second id after a rerun); name it with --id-field", 'es-checkpoint-needs-id', "Line 7 reached es-write with no id at 'doc.key'."]
]

for (const [code, message, rule, says] of documented) {
  t.test(`${code}: ${rule}`, async (t) => {
    const line = `es-read: error [${code}] ${message} (url=https://reader:pw@es.internal:9200, index=logs)\n`
    const tool = rule.startsWith('mysql') ? line.replace('es-read', 'mysql-write') : line
    const r = await explainText(tool, TOOLS)
    t.equal(r.problems[0].rule, rule)
    t.ok([r.problems[0].what, ...r.problems[0].commands].some((s) => s.includes(says)), `says ${says}`)
    t.notOk(r.problems[0].commands.some((c) => c.includes(':pw@')), 'no password in a suggested command')
  })
}

t.test('a raw message with no context gets placeholders, not guesses', async (t) => {
  const f = findingFromMessage("ERROR 1049 (42000): Unknown database 'shop'", TOOLS)
  t.equal(matchRule(f, TOOLS).id, 'mysql-unknown-database')
  const r = await explainText("ERROR 1049 (42000): Unknown database 'shop'", TOOLS)
  t.equal(r.problems[0].what, "MySQL at HOST:3306 has no database 'shop'.")
  t.strictSame(r.problems[0].commands, ["mariadb -h HOST -P 3306 -u USER -p -e 'show databases'", "mariadb -h HOST -P 3306 -u USER -p -e 'CREATE DATABASE `shop` CHARACTER SET utf8mb4'"])
})

t.test('TLS is a word in a message, not letters in a path', async (t) => {
  t.equal(matchRule(findingFromMessage('TLS handshake failed', TOOLS), TOOLS).id, 'tls-error')
  t.not(matchRule(findingFromMessage('/srv/wt/tlsfinal/no-such.log', TOOLS), TOOLS).id, 'tls-error')
})

t.test('the reader: CRLF, summaries, continuation lines, lines that are not ours', async (t) => {
  const reader = new FindingReader(TOOLS, 'run.log')
  const lines = [
    'csv-read: record error [CSV_MISSING_ID] line 3 has an empty \'id\' (file=a.csv, line=3)\r',
    'some other program: hello',
    'es-read: error [ResponseError] index_not_found_exception',
    '\tRoot causes:',
    '\t\tindex_not_found_exception: no such index [x] (index=x)',
    'csv-read: 10 read, 9 emitted, 1 failed in 0.1 s (100/s) — failed records in bad.ndjson',
    '{"time":"t","tool":"es-read","level":"info","event":"start","message":"reading"}',
    '{"record":{"a":1},"line":4,"error":{"code":"ER_DUP_ENTRY","message":"Duplicate entry \'1\' for key \'PRIMARY\'"}}'
  ]
  const found = lines.flatMap((l) => reader.push(l))
  found.push(...reader.end())
  t.strictSame(found.map((f) => [f.source, f.kind, f.code, f.at?.line]), [
    ['text', 'record', 'CSV_MISSING_ID', 1],
    ['text', 'fatal', 'ResponseError', 3],
    ['dead-letter', 'record', 'ER_DUP_ENTRY', 8]
  ])
  t.strictSame(found[0].context, { file: 'a.csv', line: 3 })
  t.equal(found[1].message, 'index_not_found_exception\n\tRoot causes:\n\t\tindex_not_found_exception: no such index [x]')
  t.strictSame(found[1].context, { index: 'x' })
  t.strictSame(found[2], { kind: 'record', source: 'dead-letter', code: 'ER_DUP_ENTRY', message: "Duplicate entry '1' for key 'PRIMARY'", context: { line: 4 }, record: '{"a":1}', at: { file: 'run.log', line: 8 } })
  t.strictSame(reader.summaries, [{ tool: 'csv-read', message: '10 read, 9 emitted, 1 failed in 0.1 s (100/s) — failed records in bad.ndjson' }])
  t.strictSame(reader.rawLines.map((l) => l.text), ['some other program: hello'])
})

t.test('different columns are different problems; different values of one key are one', async (t) => {
  const line = (msg: string, id: number): string => `mysql-write: record error [ER_DUP_ENTRY] ${msg} (table=t, id=${id}, line=${id})\n`
  const long = (col: string, id: number): string => `mysql-write: record error [ER_DATA_TOO_LONG] Data too long for column '${col}' at row 1 (table=t, id=${id}, line=${id})\n`
  const r = await explainText(line("Duplicate entry 'a' for key 'email'", 1) + line("Duplicate entry 'b' for key 'email'", 2) + long('name', 3) + long('city', 4) + long('name', 5), TOOLS)
  t.strictSame(r.problems.map((p) => [p.rule, p.count, p.examples.map((x) => x.id)]), [
    ['mysql-duplicate-key', 2, ['1', '2']],
    ['mysql-data-too-long', 2, ['3', '5']],
    ['mysql-data-too-long', 1, ['4']]
  ])
})

t.test("es-read's security_exception: the status tells 401 from 403", async (t) => {
  const at = '(host=https://es.internal:9200, index=logs, status=STATUS)'
  const denied = `es-read: error [security_exception] authorization failed: the user may not search on https://es.internal:9200 index logs (403 security_exception: action [indices:data/read/search] is unauthorized for user [reader] with effective roles [viewer] on indices [logs]) ${at.replace('STATUS', '403')}\n`
  const unauth = `es-read: error [security_exception] authentication failed at https://es.internal:9200 (401 security_exception: unable to authenticate user [reader] for REST request [/logs/_pit]) ${at.replace('STATUS', '401')}\n`
  const r = await explainText(denied + unauth, TOOLS)
  t.strictSame(r.problems.map((p) => p.rule).sort(), ['es-forbidden', 'es-unauthorized'])
  const forbidden = r.problems.find((p) => p.rule === 'es-forbidden')
  t.equal(forbidden?.what, "Elasticsearch at https://es.internal:9200 authenticated user 'reader' but refused action indices:data/read/search on index logs.")
  t.ok(forbidden?.commands.includes('curl -u reader https://es.internal:9200/_security/_authenticate?pretty'))
})

t.test('exactness refusals are explained: an inexact value and an id column that merges ids', async (t) => {
  const value = await explainText("mysql-write: record error [RECORD_INEXACT_VALUE] 1.5 can't be stored exactly in INT(11) column qty: it is not a whole number (database=shop, table=orders, _id=7, line=7)\n", TOOLS)
  t.equal(value.problems[0].rule, 'mysql-inexact-value')
  t.match(value.problems[0].what, /INT\(11\) column 'qty' of table 'orders'/)
  const fix = 'ALTER TABLE `shop`.`orders` MODIFY `id` VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL'
  const r = await explainText(`mysql-write: error [EUNSAFE_ID_COLUMN] table shop.orders: id column id would merge distinct ids (VARCHAR(255) COLLATE utf8mb4_bin is PAD SPACE, so 'a' and 'a ' are one id); make it exact with ${fix}, or pass --allow-id-merge to write anyway (host=db, port=3306, database=shop, table=orders)\n`, TOOLS)
  t.equal(r.problems[0].rule, 'mysql-unsafe-id-column')
  t.ok(r.problems[0].commands.some((c) => c.endsWith(`-e '${fix}'`)), 'the fix, quoted for the shell')
})
