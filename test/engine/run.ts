// npm run test:engine: runs the engine suite's tap files once against the project's test server
// (in the dialects the suite compares with), then once against each real engine: OpenSearch 2.19,
// Elasticsearch 7.17, OpenSearch 3.3, started one after another (never two at once: two cores),
// each stopped before the next starts. Prints each engine's start time and totals, and last a
// tap totals line summing every pass. A node that does not start is a failure, never a skip.
//   node --import tsx test/engine/run.ts [--engine NAME]... [tap files]
// NAME: servers, opensearch-2.19, elasticsearch-7.17, opensearch-3.3 (default: all of them).

import { spawn, spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers/run.js'
import { ENGINE_NAMES, engineTitle, isEngineName, startEngine } from './node.js'
import type { EngineName } from './node.js'

type PassName = 'servers' | EngineName

interface Totals { total: number, pass: number, fail: number }
interface Outcome extends Totals { name: string, seconds: number, start?: string }

const args = process.argv.slice(2)
const passes: PassName[] = []
const files: string[] = []
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string
  if (a === '--engine') {
    const name = args[++i] ?? ''
    if (name !== 'servers' && !isEngineName(name)) {
      console.error(`test:engine: unknown engine '${name}' (servers, ${ENGINE_NAMES.join(', ')})`)
      process.exit(2)
    }
    passes.push(name)
  } else {
    files.push(a)
  }
}
if (passes.length === 0) passes.push('servers', ...ENGINE_NAMES)
// Named explicitly: .taprc excludes test/engine/ so that npm test needs no engine.
if (files.length === 0) files.push(...readdirSync(join(ROOT, 'test', 'engine')).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test', 'engine', f)))

const lacking = ['java', 'mvn'].filter((cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0)
if (lacking.length > 0 && passes.some((p) => p !== 'servers')) {
  console.error(`test:engine: ${lacking.join(' and ')} not found: the engine suite runs each engine in a JVM (Java 17, and 21+ for OpenSearch 3.3) from jars Maven resolves (engine/pom.xml). On Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless maven; .ci/run installs all of it`)
  console.log('# { total: 1, pass: 0, fail: 1 }')
  process.exit(1)
}

let child: ReturnType<typeof spawn> | undefined
let interrupted = false
const stop = (): void => {
  interrupted = true
  child?.kill('SIGTERM')
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

/** Runs the tap files with `env`, passing tap's output through; its closing totals. */
async function runTap (env: Record<string, string>): Promise<Totals> {
  // One file at a time: they share the node, and one file's contexts must not show in another's checks.
  const tap = spawn(join(ROOT, 'node_modules', '.bin', 'tap'), ['--disable-coverage', '--timeout', '1200', '--jobs', '1', ...files], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env }
  })
  child = tap
  let last = ''
  let pending = ''
  tap.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk)
    pending += chunk.toString('utf8')
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const l of lines) if (/^# \{ total: \d+/.test(l)) last = l
  })
  const code = await new Promise<number>((resolve) => tap.on('exit', (c, s) => resolve(c ?? (s !== null ? 1 : 0))))
  child = undefined
  if (/^# \{ total: \d+/.test(pending)) last = pending
  const num = (key: string): number => Number(new RegExp(`${key}: (\\d+)`).exec(last)?.[1] ?? 0)
  const totals = { total: num('total'), pass: num('pass'), fail: num('fail') }
  // A run that ended without its totals, or failed with none counted, is one failure.
  if (last === '' || (code !== 0 && totals.fail === 0)) return { total: totals.total + 1, pass: totals.pass, fail: totals.fail + 1 }
  return totals
}

const outcomes: Outcome[] = []
const suiteStarted = performance.now()
for (const pass of passes) {
  if (interrupted) break
  const began = performance.now()
  if (pass === 'servers') {
    console.error('test:engine: the test server (Elasticsearch 8.19 and OpenSearch 2.19 dialects)')
    const totals = await runTap({ ENGINE_TEST_SERVERS: '1', ENGINE_URL: '' })
    outcomes.push({ name: 'test server', ...totals, seconds: (performance.now() - began) / 1000 })
    continue
  }
  let node
  try {
    node = await startEngine(pass)
  } catch (err) {
    console.error(`test:engine: ${engineTitle(pass)} did not start: ${(err as Error).message}`)
    outcomes.push({ name: engineTitle(pass), total: 1, pass: 0, fail: 1, seconds: (performance.now() - began) / 1000, start: 'did not start' })
    continue
  }
  const start = `up in ${node.startSeconds.toFixed(1)} s on Java ${node.java}`
  console.error(`test:engine: ${engineTitle(pass)} (${node.version}) at ${node.url}, ${start}`)
  try {
    const totals = await runTap({ ENGINE_URL: node.url, ENGINE_TEST_SERVERS: '' })
    outcomes.push({ name: `${engineTitle(pass)} (${node.version})`, ...totals, seconds: (performance.now() - began) / 1000, start })
  } finally {
    await node.stop()
  }
}

const minutes = (s: number): string => `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
console.error(`test:engine: ${minutes((performance.now() - suiteStarted) / 1000)} in all`)
for (const o of outcomes) console.error(`test:engine:   ${o.name}: ${o.pass} passed, ${o.fail} failed, ${minutes(o.seconds)}${o.start !== undefined ? ` (${o.start})` : ''}`)
const sum = outcomes.reduce((a, o) => ({ total: a.total + o.total, pass: a.pass + o.pass, fail: a.fail + o.fail }), { total: 0, pass: 0, fail: 0 })
if (interrupted) sum.fail += 1
console.log(`# { total: ${sum.total + (interrupted ? 1 : 0)}, pass: ${sum.pass}, fail: ${sum.fail} }`)
process.exit(sum.fail > 0 ? 1 : 0)
