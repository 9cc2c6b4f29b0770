import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Machine } from './helpers/preflight.js'
import { NEEDS, advice, lacking, setupSteps } from './helpers/preflight.js'
import { ROOT, collect, scratchDir } from './helpers/run.js'

// npm test's preflight on a machine that lacks something: found with the real `command -v` on
// a PATH where it is missing, installed (as root with apt-get) or named (elsewhere).

/** Where the shell finds each command the tests need, here. */
function realPath (command: string): string {
  const r = spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${command} is not on this machine's PATH (preflight should have said so)`)
  return r.stdout.trim()
}

/** The python3 interpreter's own file (not a launcher that looks for it on the PATH). */
function pythonExecutable (): string {
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error('python3 is not on this machine\'s PATH (preflight should have said so)')
  return r.stdout.trim()
}

/** A PATH directory with the tests' commands except `hidden`, each a link to the real one. */
function pathWithout (dir: string, hidden: readonly string[]): string {
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  for (const { command } of NEEDS) if (!hidden.includes(command)) symlinkSync(realPath(command), join(bin, command))
  // The preflight also asks python3 for botocore: the interpreter itself (a pyenv shim would need its own PATH).
  if (!hidden.includes('python3')) symlinkSync(pythonExecutable(), join(bin, 'python3'))
  return bin
}

t.test('a command missing from the PATH is found missing, by the shell\'s command -v', async (t) => {
  const bin = pathWithout(scratchDir(t), ['jq', 'openssl'])
  const lacks = lacking(NEEDS, { ...process.env, PATH: bin })
  t.strictSame(lacks.map((l) => l.problem), [
    'jq is not installed: the shell-pipe tests put jq between two stages',
    'openssl is not installed: the TLS tests make their certificates with openssl req'
  ])
  t.strictSame(lacking(NEEDS, { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` }), [], 'with the rest of the PATH, nothing')
})

t.test('a man that finds no page is a man that does not work', async (t) => {
  const bin = pathWithout(scratchDir(t), ['man'])
  // What a minimized image has in man's place.
  writeFileSync(join(bin, 'man'), '#!/bin/sh\necho "This system has been minimized by removing packages and content" >&2\nexit 1\n')
  chmodSync(join(bin, 'man'), 0o755)
  t.strictSame(lacking(NEEDS, { ...process.env, PATH: bin }).map((l) => [l.need.debian, l.problem]), [
    ['man-db', 'man does not work here: man -w finds no page on a MANPATH of its own (This system has been minimized by removing packages and content); the install test finds each page with man -w']
  ])
})

t.test('as root with apt-get, the missing packages are installed and MariaDB started; elsewhere nothing is done', async (t) => {
  const bin = pathWithout(scratchDir(t), ['jq', 'man'])
  const lacks = lacking(NEEDS, { ...process.env, PATH: bin })
  t.equal(lacks.length, 2)
  const debian: Machine = { root: true, apt: true, localMysql: true, mariadbServer: true }
  t.strictSame(setupSteps(lacks, true, debian), [{
    say: 'preflight: installing jq man-db with apt-get (for jq, man)',
    run: [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', 'jq', 'man-db']]
  }])
  t.strictSame(setupSteps([], false, debian), [{
    say: 'preflight: no MariaDB answers on 127.0.0.1:3306; starting it with bash .ci/services',
    run: [['bash', '.ci/services']]
  }])
  t.strictSame(setupSteps(lacks, false, { ...debian, mariadbServer: false }), [{
    say: 'preflight: installing jq man-db mariadb-server with apt-get (for jq, man, MariaDB)',
    run: [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', 'jq', 'man-db', 'mariadb-server']]
  }, {
    say: 'preflight: no MariaDB answers on 127.0.0.1:3306; starting it with bash .ci/services',
    run: [['bash', '.ci/services']]
  }], 'no MariaDB server here: installed with the rest, then started')
  t.strictSame(setupSteps([], false, { ...debian, localMysql: false }), [], 'MYSQL_URL names another server: not ours to start')
  t.strictSame(setupSteps(lacks, false, { ...debian, root: false }), [], 'not root: nothing')
  t.strictSame(setupSteps(lacks, false, { ...debian, apt: false }), [], 'no apt-get: nothing')
  t.strictSame(setupSteps([], true, debian), [], 'nothing missing: nothing')
  t.strictSame(advice(lacks, 'no MySQL/MariaDB answers at mysql://root@127.0.0.1:3306/test (connect ECONNREFUSED 127.0.0.1:3306); …'), [
    'npm test cannot run on this machine yet:',
    '  - jq is not installed: the shell-pipe tests put jq between two stages',
    '  - man is not installed: the install test finds each page with man -w',
    '  - no MySQL/MariaDB answers at mysql://root@127.0.0.1:3306/test (connect ECONNREFUSED 127.0.0.1:3306); …',
    'On Debian/Ubuntu: sudo apt-get install -y jq man-db (run as root, npm test installs them itself)'
  ])
  t.strictSame(advice([], undefined), [], 'all there: nothing to say')
})

t.test('npm test\'s preflight on a PATH without jq: installs it as root with apt-get, else names it', async (t) => {
  const dir = scratchDir(t)
  const bin = pathWithout(dir, ['jq'])
  // apt-get's stand-in: notes how it was called, and "installs" jq by linking the real one.
  const log = join(dir, 'apt.log')
  writeFileSync(join(bin, 'apt-get'), `#!/bin/sh\necho "DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> '${log}'\nif [ "$1" = install ]; then for p in "$@"; do [ "$p" = jq ] && /bin/ln -s '${realPath('jq')}' '${bin}/jq'; done; fi\nexit 0\n`)
  chmodSync(join(bin, 'apt-get'), 0o755)
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin }
  delete env.MYSQL_URL
  const r = await collect(spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'preflight.ts')], { cwd: ROOT, env, stdio: 'pipe' }))
  if (process.getuid?.() === 0) {
    t.equal(r.code, 0, r.stderr)
    t.strictSame(r.stderr, 'preflight: installing jq with apt-get (for jq)\n', 'one line says what it does')
    t.strictSame(readFileSync(log, 'utf8'), 'DEBIAN_FRONTEND=noninteractive update -qq\nDEBIAN_FRONTEND=noninteractive install -y -qq jq\n')
    t.ok(existsSync(join(bin, 'jq')), 'jq is there now')
  } else {
    t.equal(r.code, 1)
    t.strictSame(r.stderr, 'npm test cannot run on this machine yet:\n  - jq is not installed: the shell-pipe tests put jq between two stages\nOn Debian/Ubuntu: sudo apt-get install -y jq (run as root, npm test installs them itself)\n')
    t.notOk(existsSync(log), 'apt-get was not run')
  }
})
