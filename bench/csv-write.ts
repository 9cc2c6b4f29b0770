/**
 * csv-write against the tools a user would otherwise pick to turn an export into CSV:
 * elasticdump's csv output (it reads the same NDJSON file: --input=FILE --output=csv://OUT)
 * and jq's @csv, on N generated Elasticsearch hits (~400 bytes: timestamp, numbers, a float,
 * keywords, nested host and user objects, a tags array). Every tool writes a file; the rows
 * in each file are counted and checked after each run.
 * Usage: node --import tsx bench/csv-write.ts [records=1000000] [runs=3]
 */
import { parse } from 'csv-parse'
import { createReadStream, createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { generateDocs } from '../test/servers/es/seed.js'
import { BIN, ROOT, fmt, machine, median, row, runPipeline } from './measure.js'

const records = Number(process.argv[2] ?? 1_000_000)
const runs = Number(process.argv[3] ?? 3)
const dir = join(ROOT, 'bench', 'out')
mkdirSync(dir, { recursive: true })
const input = join(dir, `csv-write-${records}.ndjson`)
const output = join(dir, `csv-write-${records}.csv`)

async function generate (): Promise<void> {
  if (existsSync(input)) return
  const out = createWriteStream(input)
  for (let start = 0; start < records; start += 10_000) {
    const lines = generateDocs(Math.min(10_000, records - start), start).map((d) => JSON.stringify({ _index: 'logs', _id: d._id, _source: d._source }))
    if (!out.write(lines.join('\n') + '\n')) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
}

/** Rows in the file, as a CSV parser reads them. */
async function csvRows (file: string): Promise<number> {
  let n = 0
  await pipeline(createReadStream(file), parse({ relax_column_count: true }), async function * (rows) { for await (const _row of rows) n++ })
  return n
}

const columns = ['@timestamp', 'seq', 'bytes', 'latency_ms', 'level', 'service', 'host.name', 'host.ip', 'user.id', 'user.country', 'message', 'tags']
const jqProgram = `[._id, ${columns.map((c) => c === 'tags' ? '(._source.tags | tojson)' : `._source${c.split('.').map((k) => `["${k}"]`).join('')}`).join(', ')}] | @csv`

await generate()
// [name, stages, whether the file starts with a header line]
const cases: Array<[string, string[], boolean]> = [
  ['csv-write (columns from the first 1000 records)', [`node ${BIN}/csv-write.js -q -o ${output} ${input}`], true],
  ['csv-write --columns (12 named)', [`node ${BIN}/csv-write.js -q --columns ${columns.join(',')} -o ${output} ${input}`], true],
  [`jq -r '[…] \\| @csv' (12 named, tags as JSON; no header)`, [`jq -r '${jqProgram}' ${input} > ${output}`], false],
  // Its fastest setting: with the default --limit 100 it took twice as long (200k records).
  ['elasticdump --output=csv://… --limit 10000', [`${ROOT}/node_modules/.bin/elasticdump --quiet --overwrite --limit 10000 --input=${input} --output=csv://${output}`], true]
]
console.log(`${fmt(records)} records (~${fmt(statSync(input).size / records)} B each as NDJSON) to a CSV file, median of ${runs}, ${machine()}\n`)
console.log(row(['case', 'rows/s', 'seconds (runs)', 'peak RSS MB', 'data rows in the file']))
console.log(row(['---', '---:', '---', '---:', '---:']))
const seconds: number[] = []
for (const [name, stages, header] of cases) {
  const m = median(runs, () => runPipeline(stages), () => rmSync(output, { force: true }))
  const n = await csvRows(output) - (header ? 1 : 0)
  seconds.push(m.seconds)
  console.log(row([name, fmt(records / m.seconds), `${m.seconds.toFixed(2)} (${m.all.join(', ')})`, m.rssMb.map((r) => r.toFixed(0)).join(' / '), fmt(n)]))
}
rmSync(output, { force: true })
const ratio = (peer: number, own: number): string => `${(seconds[peer] / seconds[own]).toFixed(2)}×`
console.log(`\ncsv-write's rows/s: ${ratio(2, 0)} jq's and ${ratio(3, 0)} elasticdump's (${ratio(2, 1)} and ${ratio(3, 1)} with --columns).`)
