import t from 'tap'
import { createWriteStream, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { binPath, collect, scratchDir } from '../helpers/run.js'

// Flat memory: 2,000,000 records a side (~190 MB each) under --memory 64mb. The peak RSS is the
// kernel's own (getrusage's maxrss, the VmHWM of /proc/PID/status), read in the child as it
// exits through a preloaded hook. The bound is --memory plus Node's baseline, the baseline
// being the peak of the same binary with the same options on a one-record input: what rec-diff
// costs before it holds any record (Node, V8's heap, the code).

const N = 2_000_000
const MEMORY_MB = 64
const dir = scratchDir(t)
const hook = join(dir, 'peak-rss.cjs')
writeFileSync(hook, "process.on('exit', () => require('fs').writeFileSync(process.env.PEAK_RSS_FILE, String(process.resourceUsage().maxRSS)))\n")

async function write (path: string, line: (i: number) => string | undefined, count: number): Promise<void> {
  const out = createWriteStream(path)
  let batch: string[] = []
  for (let i = 0; i < count; i++) {
    const l = line(i)
    if (l !== undefined) batch.push(l)
    if (batch.length === 10_000 || i === count - 1) {
      if (!out.write(batch.join('\n') + '\n')) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
      batch = []
    }
  }
  await new Promise<void>((resolve) => out.end(() => resolve()))
}

const doc = (i: number, v = i % 1000): string => `{"_index":"m","_id":"r${String(i).padStart(8, '0')}","_source":{"n":${i},"v":${v},"s":"text of record ${i}","ok":true}}`

/** Peak RSS in MB of one run of rec-diff, and what it printed. */
async function peak (args: string[]): Promise<{ mb: number, code: number | null, stderr: string, seconds: number }> {
  const file = join(dir, `peak-${Math.random()}`)
  const started = Date.now()
  // Without tap's coverage collection, which tap puts into every child's NODE_OPTIONS (and bash
  // here takes out): it slows the child several times and holds coverage data in its heap, and
  // the peak measured is to be the binary's own.
  const script = `NODE_OPTIONS="--require ${hook}" exec "${process.execPath}" "${binPath('rec-diff')}" ${args.map((a) => `'${a}'`).join(' ')}`
  const r = await collect(spawn('bash', ['-c', script], { env: { ...process.env, PEAK_RSS_FILE: file } }))
  return { mb: Number(readFileSync(file, 'utf8')) / 1024, code: r.code, stderr: r.stderr, seconds: (Date.now() - started) / 1000 }
}

t.test(`${N.toLocaleString('en-US')} records a side under --memory ${MEMORY_MB}mb stay within --memory plus Node's baseline`, async (t) => {
  const source = join(dir, 'source.ndjson')
  const target = join(dir, 'target.ndjson')
  const generated = Date.now()
  await write(source, (i) => doc(i), N)
  // Every 200,000th record: one missing, one changed, one extra.
  await write(target, (i) => i % 200_000 === 7 ? undefined : i % 200_000 === 8 ? doc(i, -1) : i % 200_000 === 9 ? `${doc(i)}\n${doc(N + i)}` : doc(i), N)
  t.comment(`inputs generated in ${((Date.now() - generated) / 1000).toFixed(1)} s`)
  const tiny = join(dir, 'tiny.ndjson')
  writeFileSync(tiny, doc(0) + '\n')
  const tmp = join(dir, 'tmp')
  mkdirSync(tmp)
  const options = ['-q', '--memory', `${MEMORY_MB}mb`, '--tmpdir', tmp]

  const base = await peak([...options, tiny, tiny])
  t.equal(base.code, 0)
  const big = await peak([...options, source, target])
  t.comment(`peak RSS: ${big.mb.toFixed(0)} MB for ${(2 * N).toLocaleString('en-US')} records in ${big.seconds.toFixed(1)} s; baseline ${base.mb.toFixed(0)} MB`)
  t.equal(big.code, 1, big.stderr)
  t.match(big.stderr, `rec-diff: ${(N + 10).toLocaleString('en-US')} compared: ${(N - 20).toLocaleString('en-US')} same, 10 missing, 10 changed, 10 extra; ${(2 * N).toLocaleString('en-US')} records read`)
  t.ok(base.mb > 20 && base.mb < 150, `the baseline is a Node process's (${base.mb.toFixed(0)} MB)`)
  t.ok(big.mb <= MEMORY_MB + base.mb, `peak RSS ${big.mb.toFixed(0)} MB ≤ ${MEMORY_MB} + ${base.mb.toFixed(0)} MB`)
  t.strictSame(readdirSync(tmp), [], 'the temporary files are gone')
})
