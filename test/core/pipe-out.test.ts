// Standard output that is a pipe is written from the thread pool (lib/core/pipe-out.ts). Real
// binaries, real shell pipes: every byte arrives in order behind a reader that is late, also
// when another process sharing the pipe switches it to non-blocking mid-run.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { binPath, runShell, scratchDir } from '../helpers/run.js'

const ROWS = 100_000

function csvFile (dir: string): string {
  const file = join(dir, 'rows.csv')
  let text = 'id,name,note\n'
  for (let i = 0; i < ROWS; i++) text += `${i},name ${i},"a, ""quoted"" note ${i % 97}"\n`
  writeFileSync(file, text)
  return file
}

t.test('a reader that starts late gets every line, in order, and the run exits 0', async (t) => {
  const file = csvFile(scratchDir(t))
  const r = await runShell(`node ${binPath('csv-read')} -q ${file} | (sleep 1; cat)`)
  t.equal(r.code, 0, r.stderr)
  const lines = r.stdout.split('\n').filter((l) => l !== '')
  t.equal(lines.length, ROWS)
  t.strictSame(lines.map((l) => (JSON.parse(l) as { _id: string })._id), Array.from({ length: ROWS }, (_v, i) => String(i)), 'every id, in order')
  t.equal(r.stderr, '')
})

t.test('another process makes the shared pipe non-blocking while it is full: the writer waits, nothing is lost', async (t) => {
  const file = csvFile(scratchDir(t))
  // The second writer is a Node process touching its stdout (which makes the pipe non-blocking
  // for every process sharing it) and staying alive while csv-read is blocked on the full pipe.
  const flip = `node -e "process.stdout._handle; setTimeout(() => {}, 2500)"`
  // A slow reader keeps the pipe full through that window.
  const slow = `node -e "process.stdin.on('data', (d) => { process.stdin.pause(); process.stdout.write(d, () => setTimeout(() => process.stdin.resume(), 20)) })"`
  const r = await runShell(`set -o pipefail; { node ${binPath('csv-read')} -q ${file} & sleep 0.5; ${flip}; wait $!; } | ${slow}`)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '', 'no EAGAIN')
  const lines = r.stdout.split('\n').filter((l) => l !== '')
  t.equal(lines.length, ROWS)
  t.equal(new Set(lines.map((l) => (JSON.parse(l) as { _id: string })._id)).size, ROWS, 'every id once')
})
