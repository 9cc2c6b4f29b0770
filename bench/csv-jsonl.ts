/**
 * csv-read | jsonl-write on N generated rows, next to `cat` and `jq -c .` over the same data.
 * Usage: node --import tsx bench/csv-jsonl.ts [rows=1000000] [runs=3]
 */
import { createWriteStream, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { once } from 'node:events'
import { BIN, ROOT, fmt, machine, median, row, runPipeline } from './measure.js'

const rows = Number(process.argv[2] ?? 1_000_000)
const runs = Number(process.argv[3] ?? 3)
const out = join(ROOT, 'bench', 'out')
mkdirSync(out, { recursive: true })
const csv = join(out, `people-${rows}.csv`)
const ndjson = join(out, `people-${rows}.ndjson`)

async function generate (): Promise<void> {
  const c = createWriteStream(csv)
  const n = createWriteStream(ndjson)
  c.write('id,name,email,age,city,note\n')
  const cities = ['Lisbon', 'Oslo', 'Kraków', 'Nairobi', 'Lima']
  for (let i = 0; i < rows; i++) {
    const r = { id: String(i), name: `User ${i}`, email: `user${i}@example.com`, age: String(18 + (i % 60)), city: cities[i % 5], note: `note, "quoted" ${i % 97}` }
    const ok1 = c.write(`${r.id},${r.name},${r.email},${r.age},${r.city},"${r.note.replace(/"/g, '""')}"\n`)
    const ok2 = n.write(JSON.stringify({ _id: r.id, _source: r }) + '\n')
    if (!ok1) await once(c, 'drain')
    if (!ok2) await once(n, 'drain')
  }
  c.end(); n.end()
  await Promise.all([once(c, 'finish'), once(n, 'finish')])
}

await generate()
const cases: Array<[string, string[]]> = [
  ['cat (CSV bytes)', [`cat ${csv}`, 'cat > /dev/null']],
  ['jq -c . (same rows as NDJSON)', [`jq -c . ${ndjson}`, 'cat > /dev/null']],
  ['csv-read \\| jsonl-write', [`node ${BIN}/csv-read.js -q ${csv}`, `node ${BIN}/jsonl-write.js -q`]],
  ['csv-read alone', [`node ${BIN}/csv-read.js -q ${csv}`, 'cat > /dev/null']],
  ['jsonl-write alone (NDJSON in)', [`node ${BIN}/jsonl-write.js -q ${ndjson}`, 'cat > /dev/null']]
]
console.log(`${fmt(rows)} rows, median of ${runs}, ${machine()}\n`)
console.log(row(['case', 'rows/s', 'seconds (runs)', 'peak RSS MB per stage']))
console.log(row(['---', '---:', '---', '---']))
for (const [name, stages] of cases) {
  const m = median(runs, () => runPipeline(stages))
  console.log(row([name, fmt(rows / m.seconds), `${m.seconds.toFixed(2)} (${m.all.join(', ')})`, m.rssMb.map((r) => r.toFixed(0)).join(' / ')]))
}
