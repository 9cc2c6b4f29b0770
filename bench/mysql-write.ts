/**
 * mysql-write against LOAD DATA LOCAL INFILE (the mariadb client) on the same rows: 1M records
 * of ~400 bytes into (id VARCHAR(512) PRIMARY KEY, content JSON), once with ids in sequential
 * order and once with the same rows shuffled (as Elasticsearch's generated ids arrive), plus
 * csv-read | mysql-write on the CSV form. The server keeps its default settings.
 * Usage: node --import tsx bench/mysql-write.ts [rows=1000000] [runs=3] [cases=all|name,name]
 * MYSQL_URL picks the server (default mysql://root@127.0.0.1:3306); the database
 * espipe_bench is created and dropped.
 */
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { BIN, ROOT, fmt, machine, mariadbClient, median, row, runPipeline } from './measure.js'

const rows = Number(process.argv[2] ?? 1_000_000)
const runs = Number(process.argv[3] ?? 3)
const only = process.argv[4] === undefined || process.argv[4] === 'all' ? undefined : process.argv[4].split(',')
const DB = 'espipe_bench'
const out = join(ROOT, 'bench', 'out')
mkdirSync(out, { recursive: true })
const file = (name: string): string => join(out, `mysql-${rows}-${name}`)

const my = mariadbClient()
const { sql } = my
const client = my.args
const url = my.url(DB)

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return s / 2 ** 32
  }
}

async function generate (): Promise<void> {
  if (existsSync(file('shuffled.tsv'))) return
  const r = rng(42)
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet']
  const doc = (i: number): Record<string, unknown> => ({
    '@timestamp': new Date(1_700_000_000_000 + i * 1000).toISOString(),
    level: ['info', 'warn', 'error'][i % 3],
    service: `svc-${i % 17}`,
    message: Array.from({ length: 24 }, (_v, k) => words[(i * 7 + k * 3) % 10]).join(' '),
    user: { id: i % 10007, name: `user${i % 10007}`, email: `user${i % 10007}@example.com` },
    http: { status: [200, 201, 404, 500][i % 4], bytes: (i * 37) % 100000, path: `/api/v1/items/${i % 5000}` },
    tags: ['a', 'b', 'c'].slice(0, 1 + (i % 3))
  })
  const ids = Array.from({ length: rows }, (_v, i) => `doc-${String(i).padStart(10, '0')}`)
  const order = Array.from({ length: rows }, (_v, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    const t = order[i]; order[i] = order[j]; order[j] = t
  }
  const outs = Object.fromEntries(['seq.ndjson', 'seq.tsv', 'shuffled.ndjson', 'shuffled.tsv', 'seq.csv'].map((n) => [n, createWriteStream(file(n))]))
  const write = async (name: string, text: string): Promise<void> => { if (!outs[name].write(text)) await once(outs[name], 'drain') }
  await write('seq.csv', 'id,timestamp,level,service,message,user_id,status\n')
  for (const [kind, seq] of [['seq', false], ['shuffled', true]] as const) {
    for (let k = 0; k < rows; k++) {
      const i = seq ? order[k] : k
      const d = doc(i)
      const content = JSON.stringify(d)
      await write(`${kind}.ndjson`, JSON.stringify({ _index: 'bench', _id: ids[i], _source: d }) + '\n')
      await write(`${kind}.tsv`, `${ids[i]}\t${content}\n`)
      if (!seq) await write('seq.csv', `${ids[i]},${d['@timestamp'] as string},${d.level as string},${d.service as string},${d.message as string},${(d.user as { id: number }).id},${(d.http as { status: number }).status}\n`)
    }
  }
  for (const s of Object.values(outs)) s.end()
  await Promise.all(Object.values(outs).map(async (s) => await once(s, 'finish')))
}

const TABLE = 'CREATE TABLE t (id VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY, content JSON) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'
function freshTable (): void {
  sql(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}`)
  sql(TABLE, DB)
}
const loadData = (tsv: string): string[] => [`${client.join(' ')} --local-infile=1 ${DB} -e "LOAD DATA LOCAL INFILE '${tsv}' INTO TABLE t CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '' LINES TERMINATED BY '\\n' (id, content)"`]
const mw = (extra: string): string => `node ${BIN}/mysql-write.js -q --url ${url} -t t ${extra}`

await generate()
const cases: Array<[string, string, string[]]> = [
  ['load-seq', 'LOAD DATA LOCAL INFILE, sequential ids', loadData(file('seq.tsv'))],
  ['mw-seq', 'mysql-write, sequential ids', [mw(file('seq.ndjson'))]],
  // Fewer connections: less contention in the server for the same index pages (its CPU counts on a small machine).
  ['mw-seq-c2', 'mysql-write -c 2, sequential ids', [mw('-c 2 ' + file('seq.ndjson'))]],
  ['mw-seq-c1', 'mysql-write -c 1, sequential ids', [mw('-c 1 ' + file('seq.ndjson'))]],
  ['load-shuf', 'LOAD DATA LOCAL INFILE, shuffled ids', loadData(file('shuffled.tsv'))],
  ['mw-shuf', 'mysql-write, shuffled ids (default: --sort-ids auto)', [mw(file('shuffled.ndjson'))]],
  ['mw-shuf-nosort', 'mysql-write --sort-ids never, shuffled ids', [mw('--sort-ids never ' + file('shuffled.ndjson'))]],
  ['csv-seq', 'csv-read \\| mysql-write, CSV form, sequential ids', [`node ${BIN}/csv-read.js -q ${file('seq.csv')}`, mw('')]]
]
console.log(`${fmt(rows)} records (~${fmt(statSync(file('seq.ndjson')).size / rows)} B each as NDJSON), median of ${runs}, ${machine()}, ${sql('SELECT VERSION()')}, innodb_buffer_pool_size ${fmt(Number(sql('SELECT @@innodb_buffer_pool_size')) / 2 ** 20)} MB\n`)
console.log(row(['case', 'rows/s', 'seconds (runs)', 'peak RSS MB per stage']))
console.log(row(['---', '---:', '---', '---']))
for (const [key, name, stages] of cases) {
  if (only !== undefined && !only.includes(key)) continue
  const m = median(runs, () => runPipeline(stages, { env: my.env }), freshTable)
  const n = Number(sql('SELECT COUNT(*) FROM t', DB))
  if (n !== rows) throw new Error(`${name}: ${n} rows in the table, expected ${rows}`)
  console.log(row([name, fmt(rows / m.seconds), `${m.seconds.toFixed(2)} (${m.all.join(', ')})`, m.rssMb.map((r) => r.toFixed(0)).join(' / ')]))
}
sql(`DROP DATABASE IF EXISTS ${DB}`)
