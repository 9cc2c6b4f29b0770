// The checkpoint file as a user meets it (lib/core/checkpoint.ts): one that is damaged or not
// espipe's, the lock a killed stage left behind, and one a running stage holds. csv-read runs as
// a real child process (no server needed); what it printed, its exit status and the files it
// left are checked.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { binPath, collect, runTool, scratchDir } from '../helpers/run.js'
import { waitFor } from '../helpers/wait.js'

const dir = scratchDir(t)
const csv = join(dir, 'in.csv')
writeFileSync(csv, 'id,name\n1,a\n2,b\n3,"c, d"\n')
const RECORDS = '{"_id":"1","_source":{"id":"1","name":"a"}}\n{"_id":"2","_source":{"id":"2","name":"b"}}\n{"_id":"3","_source":{"id":"3","name":"c, d"}}\n'

/** The lines without the position a checkpointed read into a pipe puts last in each (`_pos`). */
const bare = (out: string): string => out.replace(/,"_pos":"[^"]*"\}$/gm, '}')

/** A process id that names no running process: a stage killed with -9 leaves its lock so. */
function deadPid (): number {
  for (let pid = 4_000_000; pid > 3_000_000; pid -= 7919) {
    try {
      process.kill(pid, 0)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return pid
    }
  }
  throw new Error('no free process id found')
}

t.test('a damaged checkpoint, or a file that is not one: one line naming it and what to do, exit 1, nothing read', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['cut short (a full disk)', '{"version":2,"reader":{"tool":"csv-r', /is unreadable \(Unterminated string in JSON at position \d+\); delete it to start over/],
    ['another program\'s JSON', '{"name":"settings","version":"3"}\n', /is unreadable \(not a checkpoint of espipe\); delete it to start over/],
    ['a JSON array', '[1,2,3]\n', /is unreadable \(not a checkpoint of espipe\); delete it to start over/],
    ['null', 'null\n', /is unreadable \(not a checkpoint of espipe\); delete it to start over/]
  ]
  let k = 0
  for (const [name, text, said] of cases) {
    const file = join(dir, `damaged-${++k}.ckpt`)
    writeFileSync(file, text)
    const r = await runTool('csv-read', ['--checkpoint', file, csv])
    t.equal(r.code, 1, `${name}: exit 1`)
    t.equal(r.stdout, '', `${name}: nothing read`)
    const first = r.stderr.split('\n')[0]
    t.equal(first.startsWith(`csv-read: error [ECHECKPOINT] checkpoint ${file} `), true, `${name}: the file named: ${first}`)
    t.match(first, said, name)
    t.equal(readFileSync(file, 'utf8'), text, `${name}: the file left as it was`)
  }
})

t.test('a lock left by a stage killed while saving is taken over; a lock held by a running stage is waited for', async (t) => {
  const stale = join(dir, 'stale.ckpt')
  const pid = deadPid()
  writeFileSync(`${stale}.lock`, String(pid))
  const r = await runTool('csv-read', ['-q', '--checkpoint', stale, csv])
  t.equal(r.code, 0, r.stderr)
  t.equal(bare(r.stdout), RECORDS, `the lock of process ${pid}, which is gone, did not stop the read`)
  t.equal(existsSync(`${stale}.lock`), false, 'no lock left behind')
  t.hasStrict(JSON.parse(readFileSync(stale, 'utf8')), { version: 2, reader: { tool: 'csv-read', complete: true } }, 'the checkpoint saved')

  // This test process holds the lock, as a second stage saving its part would.
  const held = join(dir, 'held.ckpt')
  writeFileSync(`${held}.lock`, String(process.pid))
  const child = spawn(process.execPath, [binPath('csv-read'), '-q', '--checkpoint', held, csv], { stdio: 'pipe' })
  const done = collect(child, null)
  // While it waits, its own lock file, ready to be put in place, is there.
  await waitFor(() => existsSync(`${held}.lock-${child.pid ?? 0}`), { what: 'csv-read waiting for the lock', child })
  t.equal(existsSync(held), false, 'nothing saved while the lock is held')
  unlinkSync(`${held}.lock`)
  const after = await done
  t.equal(after.code, 0, after.stderr)
  t.equal(bare(after.stdout), RECORDS, 'every record once the lock was released')
  t.strictSame(readdirSync(dir).filter((f) => f.startsWith('held.ckpt.')), [], 'no lock or temporary file left behind')
})

t.test('a lock held for longer than a save can take: one line naming the process and the lock file, exit 1', async (t) => {
  const file = join(dir, 'stuck.ckpt')
  writeFileSync(`${file}.lock`, String(process.pid))
  const r = await runTool('csv-read', ['--checkpoint', file, csv])
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  t.match(r.stderr.split('\n')[0], new RegExp(`^csv-read: error \\[ECHECKPOINT_LOCKED\\] checkpoint ${file} stayed locked by process ${process.pid} for 10 s \\(${file}\\.lock\\); if no espipe stage is running, delete the lock file`))
  t.equal(readFileSync(`${file}.lock`, 'utf8'), String(process.pid), 'the lock of the running process left in place')
})
