// npm run test:engine: starts one OpenSearch node for the whole engine suite, runs the suite's
// tap files against it (ENGINE_URL), stops the node. Fails (exit 1) when the node does not start.
//   node --import tsx test/engine/run.ts [tap files or options]

import { spawn, spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../helpers/run.js'
import { startEngine } from './node.js'

const lacking = ['java', 'mvn'].filter((cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0)
if (lacking.length > 0) {
  console.error(`test:engine: ${lacking.join(' and ')} not found: the engine suite runs OpenSearch in a JVM (Java 17) from jars Maven resolves (engine/pom.xml). On Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless maven`)
  console.log('# { total: 1, pass: 0, fail: 1 }')
  process.exit(1)
}

let node
try {
  node = await startEngine()
} catch (err) {
  console.error(`test:engine: ${(err as Error).message}`)
  console.log('# { total: 1, pass: 0, fail: 1 }')
  process.exit(1)
}
console.error(`test:engine: OpenSearch ${node.version} at ${node.url}, up in ${node.startSeconds.toFixed(1)} s`)
// Named explicitly: .taprc excludes test/engine/ so that npm test needs no engine. One file at a
// time: they share the node, and one file's contexts must not show in another's checks.
const args = process.argv.slice(2)
const files = readdirSync(join(ROOT, 'test', 'engine')).filter((f) => f.endsWith('.test.ts')).map((f) => join('test', 'engine', f))
const tap = spawn(join(ROOT, 'node_modules', '.bin', 'tap'), ['--disable-coverage', '--timeout', '1200', '--jobs', '1', ...(args.length > 0 ? args : files)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, ENGINE_URL: node.url, ENGINE_VERSION: node.version }
})
const stopNode = node.stop
const stop = (): void => { tap.kill('SIGTERM') }
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
const code = await new Promise<number>((resolve) => tap.on('exit', (c, s) => resolve(c ?? (s !== null ? 1 : 0))))
await stopNode()
process.exit(code)
