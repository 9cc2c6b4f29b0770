/**
 * Memory under a slow stage: each stage's peak RSS with SMALL and LARGE documents counts, behind
 * a slow consumer (es-read | 20 MB/s reader) and a throttled MySQL (es-read | mysql-write through
 * a proxy that forwards RATE bytes/s per connection). Flat memory: the same peak at both sizes.
 * Usage: node --import tsx bench/memory.ts [large=1000000] [small=100000] [rate=2000000]
 */
import { spawn } from 'node:child_process'
import { BIN, ROOT, fmt, machine, mariadbClient, row, runPipeline, startEsServerProcess } from './measure.js'

const large = Number(process.argv[2] ?? 1_000_000)
const small = Number(process.argv[3] ?? 100_000)
const rate = Number(process.argv[4] ?? 2_000_000)
const DB = 'espipe_bench_memory'
const my = mariadbClient()
const base = new URL(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test')

const proxy = spawn(process.execPath, ['--import', 'tsx', `${ROOT}/bench/throttle-proxy.ts`, base.hostname, base.port === '' ? '3306' : base.port, String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] })
const proxyPort = await new Promise<number>((resolve) => proxy.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))))
const throttled = my.url(DB).replace(/:\d+\//, `:${proxyPort}/`)

console.log(`peak RSS per stage, one run per size, ${machine()}; throttled MySQL: ${(rate / 1e6).toFixed(1)} MB/s per connection\n`)
console.log(row(['pipeline', 'documents', 'seconds', 'peak RSS MB per stage']))
console.log(row(['---', '---:', '---:', '---']))
try {
  for (const docs of [small, large]) {
    const server = await startEsServerProcess(docs, 'mem')
    try {
      const read = `node ${BIN}/es-read.js --quiet --url ${server.url} --index mem`
      const slow = runPipeline([read, `node ${ROOT}/bench/es-read-slow-consumer.mjs 20000000`])
      console.log(row(['es-read \\| slow consumer (20 MB/s)', fmt(docs), slow.seconds.toFixed(1), slow.rssMb.map((r) => r.toFixed(0)).join(' / ')]))
      my.sql(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB} CHARACTER SET utf8mb4`)
      const load = runPipeline([read, `node ${BIN}/mysql-write.js -q --url ${throttled} -t t --create`])
      const n = Number(my.sql('SELECT COUNT(*) FROM t', DB))
      if (n !== docs) throw new Error(`throttled load: ${n} rows, not ${docs}`)
      console.log(row(['es-read \\| mysql-write (throttled MySQL)', fmt(docs), load.seconds.toFixed(1), load.rssMb.map((r) => r.toFixed(0)).join(' / ')]))
    } finally {
      server.stop()
    }
  }
} finally {
  proxy.kill('SIGTERM')
  my.sql(`DROP DATABASE IF EXISTS ${DB}`)
}
