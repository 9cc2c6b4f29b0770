/**
 * End to end: es-read | mysql-write next to es-read | one INSERT per row (the original tool's
 * approach), the same documents from the same test server into the same empty table.
 * Usage: node --import tsx bench/e2e.ts [docs=30000] [runs=3]
 */
import { BIN, ROOT, fmt, machine, mariadbClient, median, row, runPipeline, startEsServerProcess } from './measure.js'

const docs = Number(process.argv[2] ?? 30000)
const runs = Number(process.argv[3] ?? 3)
const DB = 'espipe_bench_e2e'
const my = mariadbClient()
my.sql(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB} CHARACTER SET utf8mb4`)
const fresh = (): void => { my.sql('DROP TABLE IF EXISTS t; CREATE TABLE t (id VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY, content JSON) DEFAULT CHARSET=utf8mb4', DB) }
const server = await startEsServerProcess(docs, 'e2e')
const read = `node ${BIN}/es-read.js --quiet --url ${server.url} --index e2e`
const cases: Array<[string, string[]]> = [
  ['es-read \\| mysql-write', [read, `node ${BIN}/mysql-write.js -q --url ${my.url(DB)} -t t`]],
  ['es-read \\| one INSERT per row (original tool)', [read, `node --import tsx ${ROOT}/bench/naive-insert.ts ${my.url(DB)} t`]]
]
console.log(`${fmt(docs)} documents, median of ${runs}, ${machine()}\n`)
console.log(row(['pipeline', 'docs/s', 'seconds (runs)', 'peak RSS MB per stage']))
console.log(row(['---', '---:', '---', '---']))
try {
  for (const [name, stages] of cases) {
    const m = median(runs, () => runPipeline(stages), fresh)
    const n = Number(my.sql('SELECT COUNT(*) FROM t', DB))
    if (n !== docs) throw new Error(`${name}: ${n} rows, not ${docs}`)
    console.log(row([name, fmt(docs / m.seconds), `${m.seconds.toFixed(2)} (${m.all.join(', ')})`, m.rssMb.map((r) => r.toFixed(0)).join(' / ')]))
  }
} finally {
  server.stop()
  my.sql(`DROP DATABASE IF EXISTS ${DB}`)
}
