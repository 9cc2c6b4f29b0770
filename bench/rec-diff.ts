/**
 * rec-diff against the shell way of comparing two copies: `jq -c '[._id,._source]' | sort` on
 * each side, then `comm -3`. Two inputs of N records each (~340 B, the test server's documents)
 * with 0.1% differences (a third missing, a third changed, a third extra), TARGET in another
 * order than SOURCE; generated once into bench/out/. The two ways alternate in each round;
 * the median run of each is reported, with peak RSS and CPU time by GNU time.
 * Usage: node --import tsx bench/rec-diff.ts [records=5000000] [runs=3] [--memory SIZE]
 */
import { spawnSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateDocs } from '../test/servers/es/seed.js'
import type { Measurement } from './measure.js'
import { BIN, ROOT, fmt, machine, medianOf, row } from './measure.js'

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  if (i < 0) return undefined
  const v = args[i + 1]
  args.splice(i, 2)
  return v
}
const memory = flag('--memory')
const positional = args.filter((a) => !a.startsWith('--'))
const N = Number(positional[0] ?? 5_000_000)
const RUNS = Number(positional[1] ?? 3)
/** One record in this many differs: 0.1%, in three kinds. */
const EVERY = 3000

const OUT = join(ROOT, 'bench', 'out')
const source = join(OUT, `rec-diff-${N}-source.ndjson`)
const target = join(OUT, `rec-diff-${N}-target.ndjson`)
const expected = { missing: Math.floor((N + EVERY - 2) / EVERY), changed: Math.floor((N + EVERY - 3) / EVERY), extra: Math.floor((N + EVERY - 4) / EVERY) }

async function writeLines (path: string, fill: (write: (line: string) => Promise<void>) => Promise<void>): Promise<void> {
  const tmp = `${path}.tmp`
  const out = createWriteStream(tmp)
  let batch: string[] = []
  const flush = async (): Promise<void> => {
    if (!out.write(batch.join(''))) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    batch = []
  }
  await fill(async (line) => {
    batch.push(line + '\n')
    if (batch.length >= 10_000) await flush()
  })
  await flush()
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => { if (err != null) reject(err); else resolve() }))
  renameSync(tmp, path)
}

const record = (d: { _id: string, _source: Record<string, unknown> }): string => JSON.stringify({ _index: 'logs', _id: d._id, _source: d._source })

/** SOURCE in id order; TARGET by blocks of 1000 in a shuffled block order, with the differences. */
async function generate (): Promise<void> {
  if (existsSync(source) && existsSync(target)) return
  mkdirSync(OUT, { recursive: true })
  process.stderr.write(`generating ${fmt(N)} records per side into bench/out/ …\n`)
  await writeLines(source, async (write) => {
    for (let s = 0; s < N; s += 10_000) for (const d of generateDocs(Math.min(10_000, N - s), s)) await write(record(d))
  })
  const blocks = Array.from({ length: Math.ceil(N / 1000) }, (_v, i) => i)
  let seed = 42
  for (let i = blocks.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    const j = seed % (i + 1)
    const tmp = blocks[i]; blocks[i] = blocks[j]; blocks[j] = tmp
  }
  await writeLines(target, async (write) => {
    for (const b of blocks) {
      for (const d of generateDocs(Math.min(1000, N - b * 1000), b * 1000)) {
        const k = d._source.seq as number
        if (k % EVERY === 1) continue
        if (k % EVERY === 2) d._source.bytes = (d._source.bytes as number) + 1
        await write(record(d))
        if (k % EVERY === 3) await write(record({ _id: `extra-${k}`, _source: d._source }))
      }
    }
  })
}

interface Run extends Measurement { lines: number, stderr: string }

/** One shell command under GNU time: wall clock, peak RSS of the largest process, CPU of all; `status` is the one it must end with. */
function timed (command: string, status: number, env: NodeJS.ProcessEnv = {}): Run {
  const dir = mkdtempSync(join(tmpdir(), 'espipe-bench-'))
  try {
    // In single quotes: the command's $d and $(…) are its own bash's, not this outer one's.
    const script = `/usr/bin/time -f '%M %U %S' -o ${dir}/time bash -o pipefail -c '${command.replace(/'/g, "'\\''")}' > ${dir}/out`
    const started = process.hrtime.bigint()
    const r = spawnSync('bash', ['-c', script], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 26 })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    if (r.status !== status) throw new Error(`ended with ${r.status ?? r.signal}, not ${status}: ${command}\n${r.stderr.slice(-2000)}`)
    const [kb, user, sys] = (readFileSync(`${dir}/time`, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number)
    const out = readFileSync(`${dir}/out`, 'utf8')
    return { seconds, rssMb: [kb / 1024], cpuSeconds: [user + sys], lines: out.split('\n').filter((l) => l !== '').length, stderr: r.stderr }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await generate()
const size = statSync(source).size + statSync(target).size
const jq = (f: string): string => `jq -c '[._id,._source]' ${f} | sort`
// As `comm -3 <(…) <(…)`, but through named pipes with a `wait`, so that GNU time counts the
// jq and sort processes too (bash does not wait for a process substitution).
const shellWay = `d=$(mktemp -d) && mkfifo $d/a $d/b && { ${jq(source)} > $d/a & ${jq(target)} > $d/b & comm -3 $d/a $d/b; s=$?; wait; rm -r $d; exit $s; }`
// rec-diff ends with diff's 1 (the inputs differ); comm with 0.
const cases: Array<[string, string, number]> = [
  [`rec-diff${memory === undefined ? '' : ` --memory ${memory}`}`, `node ${BIN}/rec-diff.js${memory === undefined ? '' : ` --memory ${memory}`} ${source} ${target}`, 1],
  ['jq \\| sort, comm -3 (LC_ALL=C)', shellWay, 0]
]
const results = cases.map(() => [] as Run[])
for (let round = 0; round < RUNS; round++) {
  for (const [i, [name, command, status]] of cases.entries()) {
    process.stderr.write(`round ${round + 1}/${RUNS}: ${name}\n`)
    const r = timed(command, status, { LC_ALL: 'C' })
    results[i].push(r)
    process.stderr.write(`  ${r.seconds.toFixed(1)} s, ${r.rssMb[0].toFixed(0)} MB, ${r.cpuSeconds[0].toFixed(1)} s CPU, ${r.lines} lines${r.stderr.includes('compared') ? `\n  ${r.stderr.trim().split('\n').pop() ?? ''}` : ''}\n`)
  }
}

const want = expected.missing + expected.changed + expected.extra
const [ours, shell] = results.map((rs) => ({ ...medianOf(rs), lines: rs[0].lines, stderr: rs[0].stderr }))
const summary = /rec-diff: ([\d,]+) compared: ([\d,]+) same, ([\d,]+) missing, ([\d,]+) changed, ([\d,]+) extra/.exec(ours.stderr)
const counts = summary === null ? undefined : summary.slice(2).map((s) => Number(s.replace(/,/g, '')))
const right = counts !== undefined && counts[1] === expected.missing && counts[2] === expected.changed && counts[3] === expected.extra && ours.lines === want
console.log(`${fmt(N)} records per side (${(size / 2 / 2 ** 30).toFixed(2)} GiB each), ${(100 / EVERY * 3).toFixed(1)}% differences (${fmt(expected.missing)} missing, ${fmt(expected.changed)} changed, ${fmt(expected.extra)} extra), TARGET in another order; median of ${RUNS}, alternated; ${machine()}\n`)
console.log(row(['case', 'seconds (runs)', 'records/s (both sides)', 'CPU s', 'records/s per core (per CPU second)', 'peak RSS MB', 'output lines']))
console.log(row(['---', '---', '---:', '---:', '---:', '---:', '---:']))
for (const [i, r] of [ours, shell].entries()) {
  console.log(row([cases[i][0], `${r.seconds.toFixed(1)} (${r.all.join(', ')})`, fmt(2 * N / r.seconds), r.cpuSeconds[0].toFixed(1), fmt(2 * N / r.cpuSeconds[0]), r.rssMb[0].toFixed(0), fmt(r.lines)]))
}
console.log(`\nrec-diff ${(shell.seconds / ours.seconds).toFixed(1)}× faster than the shell way (wall clock; ${(shell.cpuSeconds[0] / ours.cpuSeconds[0]).toFixed(1)}× less CPU); its operations ${right ? 'match' : 'DO NOT match'} the differences made (${fmt(want)} lines; counted ${counts === undefined ? '?' : `${fmt(counts[1])} missing, ${fmt(counts[2])} changed, ${fmt(counts[3])} extra`}); the shell way's ${fmt(shell.lines)} lines are ${fmt(expected.missing + 2 * expected.changed + expected.extra)} expected (a changed record is two lines). Peak RSS: rec-diff's one process; the shell way's largest process (sort).`)
if (!right || shell.lines !== expected.missing + 2 * expected.changed + expected.extra) process.exitCode = 1
