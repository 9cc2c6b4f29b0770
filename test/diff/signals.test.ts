import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, watch, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { binPath, collect, scratchDir } from '../helpers/run.js'

// Temporary files are removed on every exit. The run is caught while its temporary files exist
// for sure: SOURCE is larger than --memory (so records went to files), and TARGET is a pipe the
// test keeps open, so rec-diff is still reading it when the signal comes.

const dir = scratchDir(t)
const source = join(dir, 'source.ndjson')
writeFileSync(source, Array.from({ length: 20000 }, (_v, i) => `{"_id":"s${i}","_source":{"pad":"${'x'.repeat(100)}","i":${i}}}`).join('\n') + '\n')

/** Resolves once `dir` holds rec-diff's temporary directory with a file in it (bounded: rejects after 60 s). */
async function tempFilesIn (dir: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const look = (): boolean => {
      const sub = readdirSync(dir).find((n) => n.startsWith('rec-diff-'))
      if (sub === undefined || readdirSync(join(dir, sub)).length === 0) return false
      watcher.close()
      clearTimeout(timer)
      clearInterval(again)
      resolve(sub)
      return true
    }
    const watcher = watch(dir, { recursive: false }, () => { look() })
    // The files appear in a directory below the one watched: look again as they are made.
    const again = setInterval(look, 50)
    const timer = setTimeout(() => { watcher.close(); clearInterval(again); reject(new Error(`no temporary files in ${dir} after 60 s`)) }, 60_000)
    look()
  })
}

for (const [signal, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  t.test(`${signal} mid-run: status ${status}, the summary, and no temporary file left`, async (t) => {
    const tmp = join(dir, signal)
    mkdirSync(tmp)
    const child = spawn(process.execPath, [binPath('rec-diff'), '--memory', '1mb', '--tmpdir', tmp, source, '-'], { stdio: ['pipe', 'pipe', 'pipe'] })
    child.stdin.write('{"_id":"s1","_source":{"i":1}}\n')
    const done = collect(child, null)
    const sub = await tempFilesIn(tmp)
    t.ok(readdirSync(join(tmp, sub)).length > 0, 'the run had temporary files when the signal came')
    child.kill(signal)
    const r = await done
    t.equal(r.code, status)
    t.match(r.stderr, new RegExp(`rec-diff: \\d+ compared: .* — interrupted by ${signal}`))
    t.strictSame(readdirSync(tmp), [], 'the temporary directory is gone')
    child.stdin.destroy()
  })
}

t.test('a second SIGTERM ends the run at once, and the files go all the same', async (t) => {
  const tmp = join(dir, 'twice')
  mkdirSync(tmp)
  const child = spawn(process.execPath, [binPath('rec-diff'), '--memory', '1mb', '--tmpdir', tmp, source, '-'], { stdio: ['pipe', 'pipe', 'pipe'] })
  const done = collect(child, null)
  await tempFilesIn(tmp)
  child.kill('SIGTERM')
  child.kill('SIGTERM')
  const r = await done
  t.equal(r.code, 143)
  t.strictSame(readdirSync(tmp), [])
  child.stdin.destroy()
})
