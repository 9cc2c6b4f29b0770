/**
 * What a checkpoint costs: es-read | mysql-write and es-read | es-write, each with and without
 * `--checkpoint` on both ends, the same documents from the same test server. Runs alternate
 * (plain, checkpointed, plain, …) so that both see the same machine; the ratio is of medians.
 * Usage: node --import tsx bench/checkpoint.ts [docs=300000] [runs=3]
 */
import { rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BIN, fmt, machine, mariadbClient, medianOf, row, runPipeline, startEsServerProcess } from './measure.js'
import type { Measurement } from './measure.js'

const docs = Number(process.argv[2] ?? 300000)
const runs = Number(process.argv[3] ?? 3)
const DB = 'espipe_bench_checkpoint'
const CKPT = join(tmpdir(), `espipe-bench-checkpoint-${process.pid}.json`)
const my = mariadbClient()
my.sql(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB} CHARACTER SET utf8mb4`)
// The server holds the source and the copy (600,000 documents at the default size).
const server = await startEsServerProcess(docs, 'src', { nodeArgs: ['--max-old-space-size=8192'] })

/** One request on a connection of its own: a pooled one may have been closed by the server's keep-alive timeout during a long run. */
async function call (method: string, path: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    request(`${server.url}${path}`, { method, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => resolve(body)).on('error', reject)
    }).on('error', reject).end()
  })
}

const read = `node ${BIN}/es-read.js --quiet --url ${server.url} --index src`
const ckpt = `--checkpoint ${CKPT}`
interface Case { name: string, stages: (withCheckpoint: boolean) => string[], fresh: () => Promise<void>, count: () => Promise<number> }
const cases: Case[] = [
  {
    name: 'es-read \\| mysql-write',
    stages: (c) => [c ? `${read} ${ckpt}` : read, `node ${BIN}/mysql-write.js -q --url ${my.url(DB)} -t t --create${c ? ` ${ckpt}` : ''}`],
    fresh: async () => { my.sql('DROP TABLE IF EXISTS t', DB) },
    count: async () => Number(my.sql('SELECT COUNT(*) FROM t', DB))
  },
  {
    name: 'es-read \\| es-write',
    stages: (c) => [c ? `${read} ${ckpt}` : read, `node ${BIN}/es-write.js -q --url ${server.url} --index copy${c ? ` ${ckpt}` : ''}`],
    fresh: async () => { await call('DELETE', '/copy') },
    count: async () => {
      await call('POST', '/copy/_refresh')
      return (JSON.parse(await call('GET', '/copy/_count')) as { count: number }).count
    }
  }
]

console.log(`${fmt(docs)} documents, median of ${runs} alternated runs, ${machine()}\n`)
console.log(row(['pipeline', 'plain docs/s', '--checkpoint docs/s', 'ratio', 'seconds plain (runs)', 'seconds --checkpoint (runs)']))
console.log(row(['---', '---:', '---:', '---:', '---', '---']))
try {
  for (const c of cases) {
    const plain: Measurement[] = []
    const checked: Measurement[] = []
    for (let i = 0; i < runs; i++) {
      for (const withCheckpoint of i % 2 === 0 ? [false, true] : [true, false]) {
        await c.fresh()
        rmSync(CKPT, { force: true })
        const m = runPipeline(c.stages(withCheckpoint))
        const n = await c.count()
        if (n !== docs) throw new Error(`${c.name}${withCheckpoint ? ' --checkpoint' : ''}: ${n} records, not ${docs}`)
        ;(withCheckpoint ? checked : plain).push(m)
      }
    }
    const a = medianOf(plain)
    const b = medianOf(checked)
    console.log(row([c.name, fmt(docs / a.seconds), fmt(docs / b.seconds), `${(a.seconds / b.seconds * 100).toFixed(1)}%`, `${a.seconds.toFixed(2)} (${a.all.join(', ')})`, `${b.seconds.toFixed(2)} (${b.all.join(', ')})`]))
  }
} finally {
  server.stop()
  rmSync(CKPT, { force: true })
  my.sql(`DROP DATABASE IF EXISTS ${DB}`)
}
