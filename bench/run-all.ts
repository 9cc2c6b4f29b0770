/**
 * npm run bench: every benchmark at a size that fits 2 cores in about 20 minutes, each next to
 * its yardstick measured in the same run, written to bench/RESULTS.md (and stdout).
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './measure.js'

// The configurations the goals are stated in (issue 12, 15) and README's table quotes, at sizes
// that fit 2 cores in about 20 minutes. --pin rows give the test server a core of its own.
const benches: Array<[string, string, string[]]> = [
  ['csv-read | jsonl-write vs cat and jq -c .', 'csv-jsonl.ts', ['500000', '3']],
  ['csv-write vs elasticdump\'s csv output and jq @csv', 'csv-write.ts', ['500000', '3']],
  ['es-read vs elasticdump, 20 ms per page', 'es-read-bench.ts', ['--docs', '200000', '--runs', '3', '--latency', '20', '--sinks', 'null']],
  ['es-read vs elasticdump, 20 ms per page, server on a core of its own', 'es-read-bench.ts', ['--docs', '200000', '--runs', '3', '--latency', '20', '--sinks', 'null', '--pin']],
  ['es-write vs elasticdump (file → index, index → index)', 'es-write-bench.ts', ['--docs', '100000', '--runs', '3']],
  ['es-write vs elasticdump, server on a core of its own', 'es-write-bench.ts', ['--docs', '100000', '--runs', '3', '--pin']],
  ['mysql-write vs LOAD DATA LOCAL INFILE, 300k sequential ids', 'mysql-write.ts', ['300000', '3', 'load-seq,mw-seq']],
  ['mysql-write vs LOAD DATA LOCAL INFILE, 1M sequential ids', 'mysql-write.ts', ['1000000', '3', 'load-seq,mw-seq']],
  ['mysql-read vs the mariadb client', 'mysql-read.ts', ['1000000', '3', '0']],
  ['End to end: es-read | mysql-write vs one INSERT per row', 'e2e.ts', ['30000', '3']],
  ['rec-diff vs jq | sort, comm -3: verify a copy of 1M records a side, 0.1% differing', 'rec-diff.ts', ['1000000', '3']],
  ['Memory under a slow stage', 'memory.ts', ['1000000', '100000', '2000000']]
]
const started = Date.now()
const parts = [
  '# Benchmark results',
  '',
  `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
  'Reproduce: `npm run build && npm run bench` (each section also says its own command).',
  ''
]
for (const [title, script, args] of benches) {
  const cmd = `node --import tsx bench/${script} ${args.join(' ')}`
  process.stderr.write(`bench: ${cmd}\n`)
  const t0 = Date.now()
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', script), ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 })
  parts.push(`## ${title}`, '', `\`${cmd}\` (${((Date.now() - t0) / 1000).toFixed(0)} s)`, '')
  parts.push(r.status === 0 ? r.stdout.trim() : `FAILED (status ${r.status})\n\n${r.stdout.trim()}`, '')
}
parts.push(`All benchmarks: ${((Date.now() - started) / 60000).toFixed(1)} minutes.`)
writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), parts.join('\n') + '\n')
process.stdout.write(parts.join('\n') + '\n')
