// What test/preflight.ts decides, apart from doing it: what the tests need beside Node, what
// this machine lacks, and what preflight may do about it here (install with apt-get as root,
// start MariaDB) or else tell the user to do.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Need {
  command: string
  why: string
  /** The Debian package that has it. */
  debian: string
  /** A check beyond the command being there: what is wrong, or undefined. */
  works?: (env: NodeJS.ProcessEnv) => string | undefined
}

/**
 * `man -w` as the install test runs it: on a MANPATH of its own. (A minimized image can have a
 * `man` that finds nothing.)
 */
function manFindsPages (env: NodeJS.ProcessEnv): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'espipe-preflight-'))
  try {
    mkdirSync(join(dir, 'man1'))
    writeFileSync(join(dir, 'man1', 'espipe-preflight.1'), '.TH ESPIPE-PREFLIGHT 1\n.SH NAME\nespipe-preflight \\- a page\n')
    const r = spawnSync('man', ['-w', 'espipe-preflight'], { env: { ...env, MANPATH: dir }, encoding: 'utf8' })
    return r.status === 0 ? undefined : `man -w finds no page on a MANPATH of its own (${(r.stderr ?? '').trim().split('\n')[0] || `status ${String(r.status)}`})`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const NEEDS: readonly Need[] = [
  { command: 'jq', why: 'the shell-pipe tests put jq between two stages', debian: 'jq' },
  { command: 'groff', why: 'the man page tests render every page with groff -ww', debian: 'groff-base' },
  { command: 'man', why: 'the install test finds each page with man -w', debian: 'man-db', works: manFindsPages },
  { command: 'xargs', why: 'the scaling-out test runs slices with xargs -P', debian: 'findutils' },
  { command: 'parallel', why: 'the slices-as-jobs test drives slices with GNU parallel (examples/slices-parallel.sh)', debian: 'parallel' },
  { command: 'bash', why: 'the shell-pipe tests run under bash -o pipefail', debian: 'bash' },
  { command: 'openssl', why: 'the TLS tests make their certificates with openssl req', debian: 'openssl' },
  { command: 'mariadb', why: 'the exactness test reads a table back with the mariadb client', debian: 'mariadb-client' }
]

/** Whether the shell finds `command` on the PATH of `env`. */
export function hasCommand (command: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', command], { env, stdio: 'ignore' }).status === 0
}

export interface Lack { need: Need, problem: string }

/** The needs this machine does not meet, each with what is wrong. */
export function lacking (needs: readonly Need[] = NEEDS, env: NodeJS.ProcessEnv = process.env): Lack[] {
  return needs.flatMap((need) => {
    if (!hasCommand(need.command, env)) return [{ need, problem: `${need.command} is not installed: ${need.why}` }]
    const wrong = need.works?.(env)
    return wrong === undefined ? [] : [{ need, problem: `${need.command} does not work here: ${wrong}; ${need.why}` }]
  })
}

/**
 * What preflight may do here: install as root with apt-get, start the local MariaDB when
 * MYSQL_URL names none (and install its server with the rest when it is not there).
 */
export interface Machine { root: boolean, apt: boolean, localMysql: boolean, mariadbServer: boolean }

export function thisMachine (env: NodeJS.ProcessEnv = process.env): Machine {
  return { root: process.getuid?.() === 0, apt: hasCommand('apt-get', env), localMysql: env.MYSQL_URL === undefined, mariadbServer: existsSync('/usr/sbin/mariadbd') }
}

/** One thing preflight does, said in one line, run as one or more commands. */
export interface Step { say: string, run: string[][] }

/** The steps that set this machine up for the tests; none where preflight may not install. */
export function setupSteps (lacks: readonly Lack[], mysqlAnswers: boolean, machine: Machine): Step[] {
  if (!machine.root || !machine.apt) return []
  const steps: Step[] = []
  const startMysql = !mysqlAnswers && machine.localMysql
  // The server with the rest, so that .ci/services has nothing left to install.
  const server = startMysql && !machine.mariadbServer ? [{ command: 'MariaDB', debian: 'mariadb-server' }] : []
  const wanted = [...lacks.map((l) => l.need), ...server]
  const packages = [...new Set(wanted.map((n) => n.debian))]
  if (packages.length > 0) {
    steps.push({
      say: `preflight: installing ${packages.join(' ')} with apt-get (for ${wanted.map((n) => n.command).join(', ')})`,
      run: [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', ...packages]]
    })
  }
  if (startMysql) {
    steps.push({ say: 'preflight: no MariaDB answers on 127.0.0.1:3306; starting it with bash .ci/services', run: [['bash', '.ci/services']] })
  }
  return steps
}

/** What is still missing, said as today: each problem, then the Debian command that installs the packages. */
export function advice (lacks: readonly Lack[], mysqlProblem: string | undefined): string[] {
  const problems = [...lacks.map((l) => l.problem), ...(mysqlProblem === undefined ? [] : [mysqlProblem])]
  if (problems.length === 0) return []
  const packages = [...new Set(lacks.map((l) => l.need.debian))]
  return [
    'npm test cannot run on this machine yet:',
    ...problems.map((p) => `  - ${p}`),
    ...(packages.length > 0 ? [`On Debian/Ubuntu: sudo apt-get install -y ${packages.join(' ')} (run as root, npm test installs them itself)`] : [])
  ]
}
