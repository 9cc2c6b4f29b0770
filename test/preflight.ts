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
const lines = advice(lacks, mysqlDown)
if (lines.length > 0) {
  process.stderr.write(lines.join('\n') + '\n')
  process.exit(1)
}
