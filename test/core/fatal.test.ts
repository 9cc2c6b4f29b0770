// Every fatal path of a binary ends the same way (issue 11): one line naming what failed, the
// summary, exit 1. Here the runner itself, driven by small programs that fail in the ways a
// driver can: a promise that can never settle, an exception nobody catches, a rejection
// nobody handles, a message that spans lines.
import t from 'tap'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT, collect, lines, scratchDir } from '../helpers/run.js'

const dir = scratchDir(t)
const cli = pathToFileURL(join(ROOT, 'lib', 'core', 'cli.ts')).href

async function stage (name: string, body: string): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const file = join(dir, `${name}.mts`)
  writeFileSync(file, `import { Readable, Writable } from 'node:stream'
import { runCli } from ${JSON.stringify(cli)}
await runCli({ tool: 'fake-read', description: 'fail', help: [], flags: {}, counters: ['read'], build: async () => {
${body}
} }, { importMeta: import.meta })
`)
  return await collect(spawn(process.execPath, ['--import', 'tsx', file], { stdio: 'pipe', cwd: ROOT }))
}

t.test('a promise that can never settle: one line and exit 1, not status 13 and silence', async (t) => {
  const r = await stage('stall', `  const source = new Readable({ read () {} })
  return [source, new Writable({ write (_c, _e, cb) { cb() } })]`)
  t.equal(r.code, 1)
  const out = lines(r.stderr)
  t.equal(out.length, 2, r.stderr)
  t.match(out[0], /^fake-read: error \[ESTALLED\] the run stopped with work still pending/)
  t.match(out[1], /^fake-read: 0 read, 0 failed in/)
})

t.test('an exception nobody catches: one line with its message, exit 1, no stack', async (t) => {
  const r = await stage('throws', `  setTimeout(() => { throw new Error('socket said no\\n  at the second line') }, 10)
  return [new Readable({ read () {} }), new Writable({ write (_c, _e, cb) { cb() } })]`)
  t.equal(r.code, 1)
  const out = lines(r.stderr)
  t.equal(out.length, 2, r.stderr)
  t.equal(out[0], 'fake-read: error [EUNKNOWN] socket said no at the second line')
})

t.test('a rejection nobody handles: one line, exit 1', async (t) => {
  const r = await stage('rejects', `  void Promise.reject(Object.assign(new Error('pool closed'), { code: 'POOL_CLOSED' }))
  return [new Readable({ read () {} }), new Writable({ write (_c, _e, cb) { cb() } })]`)
  t.equal(r.code, 1)
  const out = lines(r.stderr)
  t.equal(out.length, 2, r.stderr)
  t.equal(out[0], 'fake-read: error [POOL_CLOSED] pool closed')
})

t.test('standard output on a full disk: one line that says it was standard output', async (t) => {
  const { runShell } = await import('../helpers/run.js')
  const r = await runShell('echo \'{"_id":"1"}\' | jsonl-write > /dev/full')
  t.equal(r.code, 1)
  t.equal(lines(r.stderr)[0], 'jsonl-write: error [ENOSPC] cannot write to standard output: ENOSPC: no space left on device, write')
})
