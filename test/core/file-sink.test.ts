import t from 'tap'
import { chmodSync, linkSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { gunzipSync, gzipSync } from 'node:zlib'
import { fileSink, toNdjson } from '../../lib/index.js'
import { WriteLedger } from '../../lib/core/ledger.js'
import { ROOT, binPath, lines, runShell, runTool, scratchDir } from '../helpers/run.js'
import { waitFor } from '../helpers/wait.js'
import { countsOf } from '../helpers/summary.js'

const rec = (id: string): string => `{"_id":"${id}","_source":{}}\n`

t.test('--append to a file that is one of the inputs is refused, as cat refuses it: by name, symlink, hard link or stdin', async (t) => {
  const dir = scratchDir(t)
  const f = join(dir, 'f.jsonl')
  writeFileSync(f, rec('1'))
  symlinkSync(f, join(dir, 'link.jsonl'))
  linkSync(f, join(dir, 'hard.jsonl'))
  for (const [args, input] of [[[f], undefined], [[join(dir, 'link.jsonl')], undefined], [[join(dir, 'hard.jsonl')], undefined], [['-'], 'stdin']] as const) {
    const r = input === undefined
      ? await runTool('jsonl-write', ['--append', '-o', f, ...args])
      : await runShell(`jsonl-write --append -o ${f} < ${f}`)
    t.equal(r.code, 2, `${args.join(' ')}: usage error`)
    t.match(r.stderr, /jsonl-write: .*f\.jsonl is also an input \(.*\): appending to it would read back what is written \(see 'jsonl-write --help'\)/)
    t.equal(readFileSync(f, 'utf8'), rec('1'), 'the file is untouched')
  }
  const viaLink = await runTool('jsonl-write', ['--append', '-o', join(dir, 'link.jsonl'), f])
  t.equal(viaLink.code, 2, 'the output named through a symlink too')
  const replace = await runTool('jsonl-write', ['--shape', 'flat', '-o', f, f])
  t.equal(replace.code, 0, 'without --append the file is replaced whole at the end, as sort -o f f does')
  t.equal(readFileSync(f, 'utf8'), '{"id":"1"}\n')
})

t.test('--append ends an unfinished last line first; in a .gz it adds a gzip member after the same check', async (t) => {
  const dir = scratchDir(t)
  const plain = join(dir, 'p.jsonl')
  writeFileSync(plain, '{"_id":"0"}')
  const r = await runTool('jsonl-write', ['--append', '-o', plain], { input: rec('1') })
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(plain, 'utf8'), '{"_id":"0"}\n' + rec('1'))
  const again = await runTool('jsonl-write', ['--append', '-o', plain], { input: rec('2') })
  t.equal(again.code, 0)
  t.equal(readFileSync(plain, 'utf8'), '{"_id":"0"}\n' + rec('1') + rec('2'), 'no blank line when the file ended well')

  const gz = join(dir, 'g.jsonl.gz')
  writeFileSync(gz, gzipSync('{"_id":"0"}'))
  const z = await runTool('jsonl-write', ['--append', '-o', gz], { input: rec('1') })
  t.equal(z.code, 0, z.stderr)
  t.equal(gunzipSync(readFileSync(gz)).toString(), '{"_id":"0"}\n' + rec('1'))
  const zcat = await runShell(`zcat ${gz}`)
  t.equal(zcat.stdout, '{"_id":"0"}\n' + rec('1'), 'zcat reads both members')

  const wrong = await runTool('jsonl-write', ['--append', '--no-gzip', '-o', gz], { input: rec('3') })
  t.equal(wrong.code, 2)
  t.match(wrong.stderr, /g\.jsonl\.gz is gzip-compressed: appending plain text would corrupt it \(add --gzip\)/)
  const wrong2 = await runTool('jsonl-write', ['--append', '--gzip', '-o', plain], { input: rec('3') })
  t.equal(wrong2.code, 2)
  t.match(wrong2.stderr, /p\.jsonl is not gzip-compressed: appending gzip would corrupt it/)
  t.equal(gunzipSync(readFileSync(gz)).toString(), '{"_id":"0"}\n' + rec('1'), 'refused appends left the files alone')
})

t.test('-o keeps the mode of the file it replaces and writes through a symlink to its target', async (t) => {
  const dir = scratchDir(t)
  const target = join(dir, 'real.jsonl')
  writeFileSync(target, 'old\n')
  chmodSync(target, 0o640)
  const link = join(dir, 'link.jsonl')
  symlinkSync('real.jsonl', link)
  const r = await runTool('jsonl-write', ['-o', link], { input: rec('1') })
  t.equal(r.code, 0, r.stderr)
  t.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link')
  t.equal(readFileSync(target, 'utf8'), rec('1'), 'its target has the new content')
  t.equal(statSync(target).mode & 0o777, 0o640, 'and its mode')
  t.strictSame(readdirSync(dir).sort(), ['link.jsonl', 'real.jsonl'], 'no temporary file left')

  const dangling = join(dir, 'dangling.jsonl')
  symlinkSync('made.jsonl', dangling)
  const d = await runTool('jsonl-write', ['-o', dangling], { input: rec('2') })
  t.equal(d.code, 0, d.stderr)
  t.equal(readFileSync(join(dir, 'made.jsonl'), 'utf8'), rec('2'), 'a dangling link makes its target, as > does')
  t.ok(lstatSync(dangling).isSymbolicLink())
})

t.test('a record counts as written once its bytes are in the file; a failed output is fatal and counts none', async (t) => {
  const full = await runTool('jsonl-write', ['-o', '/dev/full'], { input: rec('1') + rec('2') })
  t.equal(full.code, 1)
  t.match(full.stderr, /error \[ENOSPC\] cannot write \/dev\/full/)
  t.match(full.stderr, /jsonl-write: 2 read, 0 written, 0 skipped, 0 failed/)
  const fullAppend = await runTool('jsonl-write', ['--append', '--shape', 'flat', '-o', '/dev/full'], { input: rec('1') })
  t.equal(countsOf(fullAppend.stderr, 'jsonl-write'), '1 read, 0 written, 0 skipped, 0 failed')
})

t.test('as a library: the ledger confirms records when the sink has them', async (t) => {
  const dir = scratchDir(t)
  let written = 0
  const ledger = new WriteLedger((n) => { written += n })
  const out = join(dir, 'l.jsonl')
  const sink = fileSink(out, { ledger })
  await pipeline(Readable.from(['{"a":1}', '{"a":2}', '{"a":3}']), toNdjson(undefined, ledger), sink)
  t.equal(written, 3)
  t.strictSame(lines(readFileSync(out, 'utf8')), ['{"a":1}', '{"a":2}', '{"a":3}'])

  const partial = new WriteLedger((n) => { written += n })
  written = 0
  partial.handed(10, 2)
  partial.handed(5, 1)
  partial.confirm(9)
  t.equal(written, 0, 'not before the last byte of a record')
  partial.confirm(1)
  t.equal(written, 2)
  partial.confirmAll()
  t.equal(written, 3)
})

t.test('a run that fails while -o FILE is still being opened leaves no temporary file when it exits', async (t) => {
  // stream.pipeline settles on the first failure without waiting for a sink still being
  // constructed; a binary exits right after. Each process, 20 times over: never a .tmp left.
  const dir = scratchDir(t)
  const script = [
    `import { fileSink } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/lib/index.js')).href)}`,
    "import { pipeline } from 'node:stream/promises'",
    "import { Readable, Transform } from 'node:stream'",
    "const fail = new Transform({ transform (c, e, cb) { cb(new Error('boom')) } })",
    'await pipeline(Readable.from([\'x\']), fail, fileSink(process.argv[1])).catch(() => process.exit(1))'
  ].join('\n')
  for (let i = 0; i < 20; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, join(dir, 'out.csv')], { encoding: 'utf8' })
    t.equal(r.status, 1, r.stderr)
  }
  t.strictSame(readdirSync(dir), [], 'no temporary file, no output file')
})

t.test('a temporary file a kill -9 left for -o FILE is removed by the next run for FILE; a live run\'s is not touched', async (t) => {
  const dir = scratchDir(t)
  const out = join(dir, 'out.jsonl')
  // jsonl-write waiting on an open stdin holds its temporary file; kill -9 it there.
  const killed = spawn(process.execPath, [binPath('jsonl-write'), '-o', out], { stdio: ['pipe', 'ignore', 'ignore'] })
  killed.stdin.write(rec('1'))
  const left = `.out.jsonl.${killed.pid}.tmp`
  await waitFor(() => readdirSync(dir).includes(left), { what: 'the temporary file of the first run' })
  const live = spawn(process.execPath, [binPath('jsonl-write'), '-o', out], { stdio: ['pipe', 'ignore', 'ignore'] })
  t.teardown(() => { live.kill('SIGKILL') })
  const liveTemp = `.out.jsonl.${live.pid}.tmp`
  await waitFor(() => readdirSync(dir).includes(liveTemp), { what: 'the temporary file of the live run' })
  killed.kill('SIGKILL')
  await new Promise((resolve) => killed.once('exit', resolve))
  t.ok(readdirSync(dir).includes(left), 'kill -9 left its temporary file')

  const r = await runTool('jsonl-write', ['-o', out], { input: rec('2') })
  t.equal(r.code, 0, r.stderr)
  t.strictSame(readdirSync(dir).sort(), [liveTemp, 'out.jsonl'].sort(), 'the dead run\'s temp is gone, the live run\'s stays')
  t.equal(readFileSync(out, 'utf8'), rec('2'))
})
