// Runs before the tests (npm's pretest). As root with apt-get (a fresh Debian machine), it
// installs what the tests need beside Node and starts MariaDB, one line each saying so.
// Elsewhere it says in a few lines what this machine lacks and how to get it, instead of
// letting hundreds of assertions fail on ENOENT or ECONNREFUSED.
import { spawnSync } from 'node:child_process'
import mysql from 'mysql2/promise'
import { BASE_URL } from './helpers/mysql.js'
import { NEEDS, advice, lacking, setupSteps, thisMachine } from './helpers/preflight.js'
import { ROOT } from './helpers/run.js'
import { maskUrl } from '../lib/core/mask.js'

async function mysqlProblem (): Promise<string | undefined> {
  try {
    const conn = await mysql.createConnection({ uri: BASE_URL, connectTimeout: 5000 })
    await conn.end()
    return undefined
  } catch (err) {
    return `no MySQL/MariaDB answers at ${maskUrl(BASE_URL)} (${(err as Error).message}); start one with 'bash .ci/services' (installs and starts MariaDB), or point MYSQL_URL at yours`
  }
}

let lacks = lacking(NEEDS)
let mysqlDown = await mysqlProblem()
const steps = setupSteps(lacks, mysqlDown === undefined, thisMachine())
for (const step of steps) {
  process.stderr.write(step.say + '\n')
  for (const [command, ...args] of step.run) {
    // Its output is shown only when it fails; a large buffer, so that apt-get is never cut off.
    const r = spawnSync(command, args, { cwd: ROOT, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    if (r.status !== 0) {
      process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).map((l) => `  ${l}\n`).join(''))
      process.stderr.write(`preflight: ${[command, ...args].join(' ')} failed (${r.error?.message ?? `status ${String(r.status)}`})\n`)
      break
    }
  }
}
if (steps.length > 0) {
  lacks = lacking(NEEDS)
  mysqlDown = await mysqlProblem()
}

// The AWS SigV4 tests verify each signature with botocore, an implementation independent of
// the SDK espipe signs with. As root with pip at hand it is installed here; otherwise named.
const botocore = (): boolean => spawnSync('python3', ['-c', 'import botocore'], { stdio: 'ignore' }).status === 0
const lines = advice(lacks, mysqlDown)
if (!botocore()) {
  const root = process.getuid?.() === 0
  if (root && spawnSync('python3', ['-m', 'pip', '--version'], { stdio: 'ignore' }).status === 0) {
    process.stderr.write('preflight: installing botocore (python3 -m pip install botocore) for the SigV4 tests\n')
    for (const extra of [[], ['--break-system-packages']]) {
      if (spawnSync('python3', ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', ...extra, 'botocore'], { stdio: 'ignore' }).status === 0) break
    }
  }
  if (!botocore()) lines.push('npm test cannot run on this machine yet: python3 with botocore is not installed: the AWS SigV4 tests check each signature with it (pip install botocore, or apt-get install python3-botocore)')
}
if (lines.length > 0) {
  process.stderr.write(lines.join('\n') + '\n')
  process.exit(1)
}
