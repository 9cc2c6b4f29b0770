// Runs before the tests (npm's pretest): says in a few lines what this machine lacks for them,
// and how to get it, instead of letting hundreds of assertions fail on ENOENT or ECONNREFUSED.
import { spawnSync } from 'node:child_process'
import mysql from 'mysql2/promise'
import { BASE_URL } from './helpers/mysql.js'
import { maskUrl } from '../lib/core/mask.js'

const TOOLS: Array<[command: string, why: string, debian: string]> = [
  ['jq', 'the shell-pipe tests put jq between two stages', 'jq'],
  ['groff', 'the man page tests render every page with groff -ww', 'groff'],
  ['man', 'the install test finds each page with man -w', 'man-db'],
  ['xargs', 'the scaling-out test runs slices with xargs -P', 'findutils'],
  ['bash', 'the shell-pipe tests run under bash -o pipefail', 'bash']
]

const missing = TOOLS.filter(([cmd]) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0)
const problems = missing.map(([cmd, why]) => `${cmd} is not installed: ${why}`)
const packages = missing.map(([, , pkg]) => pkg)

// The AWS SigV4 tests verify each signature with botocore, an implementation independent of
// the SDK espipe signs with. As root with pip at hand it is installed here; otherwise named.
const botocore = (): boolean => spawnSync('python3', ['-c', 'import botocore'], { stdio: 'ignore' }).status === 0
if (!botocore()) {
  const root = process.getuid?.() === 0
  if (root && spawnSync('python3', ['-m', 'pip', '--version'], { stdio: 'ignore' }).status === 0) {
    process.stderr.write('preflight: installing botocore (python3 -m pip install botocore) for the SigV4 tests\n')
    for (const extra of [[], ['--break-system-packages']]) {
      if (spawnSync('python3', ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', ...extra, 'botocore'], { stdio: 'ignore' }).status === 0) break
    }
  }
  if (!botocore()) problems.push('python3 with botocore is not installed: the AWS SigV4 tests check each signature with it (pip install botocore, or apt-get install python3-botocore)')
}

try {
  const conn = await mysql.createConnection({ uri: BASE_URL, connectTimeout: 5000 })
  await conn.end()
} catch (err) {
  problems.push(`no MySQL/MariaDB answers at ${maskUrl(BASE_URL)} (${(err as Error).message}); start one with 'bash .ci/services' (installs and starts MariaDB), or point MYSQL_URL at yours`)
}

if (problems.length > 0) {
  process.stderr.write(`npm test cannot run on this machine yet:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`)
  if (packages.length > 0) process.stderr.write(`On Debian/Ubuntu: sudo apt-get install -y ${packages.join(' ')}\n`)
  process.exit(1)
}
