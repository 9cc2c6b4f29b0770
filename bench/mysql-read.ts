/**
 * mysql-read against the mariadb client (`mariadb --quick -B -e 'SELECT …'`, the fastest way a
 * user gets a table's rows out as text) on the same table, in the same run: 1M rows of ~400 bytes
 * (an integer key and eight typed columns), read to /dev/null; and the (id, content JSON) layout
 * mysql-write makes, read with --content-column. Then peak RSS at ROWS and at BIG rows (flat
 * memory: the same peak), and mysql-read | es-write into the project's ES test server when
 * es-write is built.
 * Usage: node --import tsx bench/mysql-read.ts [rows=1000000] [runs=3] [big=5000000]
 * MYSQL_URL picks the server (default mysql://root@127.0.0.1:3306). The tables are generated
 * with SQL (INSERT … SELECT from a sequence) in the database espipe_bench_read, and kept for the
 * next run (generating 5M rows takes minutes); DROP DATABASE espipe_bench_read to free the space.
 */
import { existsSync } from 'node:fs'
import type { Measurement } from './measure.js'
import { BIN, fmt, machine, mariadbClient, medianOf, row, runPipeline, startEsServerProcess } from './measure.js'

const rows = Number(process.argv[2] ?? 1_000_000)
const runs = Number(process.argv[3] ?? 3)
const big = Number(process.argv[4] ?? 5_000_000)
const DB = 'espipe_bench_read'
const my = mariadbClient()
const { sql } = my
const url = my.url(DB)

/** A sequence 1..n as a derived table: MariaDB's sequence engine, or digits cross-joined (MySQL). */
function sequence (n: number): string {
  if (sql("SELECT COUNT(*) FROM information_schema.ENGINES WHERE ENGINE = 'SEQUENCE' AND SUPPORT IN ('YES', 'DEFAULT')") === '1') return `(SELECT seq FROM seq_1_to_${n}) AS s`
  const d = '(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)'
  const digits = Math.ceil(Math.log10(n + 1))
  const terms = Array.from({ length: digits }, (_v, i) => `d${i}.d * ${10 ** i}`).join(' + ')
  const from = Array.from({ length: digits }, (_v, i) => `${d} AS d${i}`).join(' CROSS JOIN ')
  return `(SELECT ${terms} + 1 AS seq FROM ${from} HAVING seq <= ${n}) AS s`
}

/** The typed table: ~400 bytes a row as the client prints it. */
function typed (name: string, n: number): void {
  if (sql(`SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME = '${name}'`) === '1' && sql(`SELECT COUNT(*) FROM ${name}`, DB) === String(n)) return
  process.stderr.write(`bench: generating ${fmt(n)} rows in ${DB}.${name}\n`)
  sql(`DROP TABLE IF EXISTS ${name}`, DB)
  sql(`CREATE TABLE ${name} (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, email VARCHAR(128), amount DECIMAL(12,2), qty INT, active TINYINT(1), created DATETIME(3), updated TIMESTAMP(6) NULL, note TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`, DB)
  sql(`INSERT INTO ${name} SELECT seq, CONCAT('user-', seq), CONCAT('user', seq, '@example.com'), seq * 1.25, seq % 1000, seq % 2, '2024-01-01 00:00:00' + INTERVAL seq SECOND, '2024-06-01 00:00:00' + INTERVAL seq SECOND, REPEAT(SUBSTR(MD5(seq), 1, 10), 28) FROM ${sequence(n)}`, DB)
}

/** mysql-write's default layout, as its --create makes it: an exact id key, content JSON of ~400 bytes. */
function docs (name: string, n: number): void {
  const collation = sql("SELECT COLLATION_NAME FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin') ORDER BY COLLATION_NAME DESC LIMIT 1")
  const key = collation === '' ? 'VARBINARY(512)' : `VARCHAR(512) CHARACTER SET utf8mb4 COLLATE ${collation}`
  const keyNow = sql(`SELECT CONCAT(UPPER(COLUMN_TYPE), IFNULL(CONCAT(' CHARACTER SET ', CHARACTER_SET_NAME, ' COLLATE ', COLLATION_NAME), '')) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${DB}' AND TABLE_NAME = '${name}' AND COLUMN_NAME = 'id'`)
  if (keyNow === key && sql(`SELECT COUNT(*) FROM ${name}`, DB) === String(n)) return
  process.stderr.write(`bench: generating ${fmt(n)} documents in ${DB}.${name}\n`)
  sql(`DROP TABLE IF EXISTS ${name}`, DB)
  sql(`CREATE TABLE ${name} (id ${key} NOT NULL PRIMARY KEY, content JSON) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`, DB)
  sql(`INSERT INTO ${name} SELECT CONCAT('doc-', LPAD(seq, 10, '0')), JSON_OBJECT('@timestamp', DATE_FORMAT('2024-01-01' + INTERVAL seq SECOND, '%Y-%m-%dT%H:%i:%sZ'), 'level', ELT(1 + seq % 3, 'info', 'warn', 'error'), 'service', CONCAT('svc-', seq % 17), 'message', REPEAT(CONCAT(SUBSTR(MD5(seq), 1, 8), ' '), 20), 'user', JSON_OBJECT('id', seq % 10007, 'name', CONCAT('user', seq % 10007), 'email', CONCAT('user', seq % 10007, '@example.com')), 'http', JSON_OBJECT('status', ELT(1 + seq % 4, 200, 201, 404, 500), 'bytes', seq * 37 % 100000), 'tags', JSON_ARRAY('a', 'b')) FROM ${sequence(n)}`, DB)
}

sql(`CREATE DATABASE IF NOT EXISTS ${DB} CHARACTER SET utf8mb4`)
typed('t', rows)
docs('d', rows)
const client = (stmt: string): string => `${my.args.join(' ')} --quick -B -e "${stmt}" ${DB}`
const reader = (args: string): string => `node ${BIN}/mysql-read.js -q --url ${url} ${args}`
const bytesPerRow = Number(sql(`SELECT ROUND(AVG(LENGTH(CONCAT_WS('\t', id, name, email, amount, qty, active, created, updated, note)))) FROM (SELECT * FROM t LIMIT 10000) AS x`, DB))

console.log(`${fmt(rows)} rows, ~${bytesPerRow} B each as the client prints them, to /dev/null, median of ${runs}; ${machine()}, ${sql('SELECT VERSION()')}\n`)
console.log(row(['case', 'rows/s', 'seconds (runs)', 'vs mariadb', 'peak RSS MB']))
console.log(row(['---', '---:', '---', '---:', '---:']))
const pairs: Array<[string, string, string]> = [
  ['typed columns (BIGINT key, VARCHAR, DECIMAL, INT, DATETIME, TIMESTAMP, TEXT)', client('SELECT * FROM t'), reader('-t t')],
  ['(id, content JSON), --content-column', client('SELECT id, content FROM d'), reader('-t d --content-column content')]
]
for (const [name, peer, ours] of pairs) {
  // Alternate the two in each round, so a change in the machine's load hits both alike.
  const a: Measurement[] = []
  const b: Measurement[] = []
  for (let i = 0; i < runs; i++) {
    a.push(runPipeline([peer], { env: my.env }))
    b.push(runPipeline([ours]))
  }
  const ma = medianOf(a)
  const mb = medianOf(b)
  console.log(row([`mariadb --quick -B: ${name}`, fmt(rows / ma.seconds), `${ma.seconds.toFixed(2)} (${ma.all.join(', ')})`, '1.00', ma.rssMb[0].toFixed(0)]))
  console.log(row([`mysql-read: ${name}`, fmt(rows / mb.seconds), `${mb.seconds.toFixed(2)} (${mb.all.join(', ')})`, (ma.seconds / mb.seconds).toFixed(2), mb.rssMb[0].toFixed(0)]))
}

if (big > 0) {
  typed('t_big', big)
  console.log(`\nFlat memory: peak RSS of mysql-read -t … > /dev/null by table size (one run each)\n`)
  console.log(row(['rows', 'seconds', 'rows/s', 'peak RSS MB']))
  console.log(row(['---:', '---:', '---:', '---:']))
  for (const [table, n] of [['t', rows], ['t_big', big]] as const) {
    const m = runPipeline([reader(`-t ${table}`)])
    console.log(row([fmt(n), m.seconds.toFixed(1), fmt(n / m.seconds), m.rssMb[0].toFixed(0)]))
  }
}

if (existsSync(`${BIN}/es-write.js`)) {
  const server = await startEsServerProcess(0, 'bench')
  try {
    const m = runPipeline([reader('-t d --content-column content'), `node ${BIN}/es-write.js -q --url ${server.url} --index bench`])
    console.log(`\nEnd to end: mysql-read -t d --content-column content | es-write into the ES test server: ${fmt(rows / m.seconds)} docs/s (${m.seconds.toFixed(1)} s), peak RSS ${m.rssMb.map((r) => r.toFixed(0)).join(' / ')} MB`)
  } finally {
    server.stop()
  }
} else {
  console.log('\nEnd to end mysql-read | es-write: not measured, es-write is not built on this branch.')
}
