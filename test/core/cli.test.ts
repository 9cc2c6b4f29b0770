import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { binPath, collect, lines, runShell, runTool, scratchDir } from '../helpers/run.js'
import { summaryOf } from '../helpers/summary.js'
import { waitForOutput } from '../helpers/wait.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

for (const tool of ['csv-read', 'jsonl-write']) {
  t.test(`${tool}: --help teaches, --version answers, both exit 0`, async (t) => {
    const help = await runTool(tool, ['--help'])
    t.equal(help.code, 0)
    t.match(help.stdout, new RegExp(`Usage\\n\\s+\\$ ${tool}`))
    t.match(help.stdout, /Options\n/)
    t.match(help.stdout, /Examples\n/)
    const version = await runTool(tool, ['--version'])
    t.equal(version.code, 0)
    t.equal(version.stdout.trim(), pkg.version)
  })

  t.test(`${tool}: an unknown option is a one-line usage error with exit 2`, async (t) => {
    const r = await runTool(tool, ['--frobnicate', 'x'])
    t.equal(r.code, 2)
    t.equal(r.stdout, '')
    t.equal(r.stderr, `${tool}: unknown option --frobnicate (see '${tool} --help')\n`)
  })
}

t.test('--log-format json makes every stderr line an event', async (t) => {
  const r = await runTool('jsonl-write', ['--log-format', 'json', '--shape', 'flat'], { input: '{"_id":"1","_source":{}}\noops\n' })
  t.equal(r.code, 1)
  const events = lines(r.stderr).map((l) => JSON.parse(l))
  t.strictSame(events.map((e) => [e.tool, e.level, e.event]), [['jsonl-write', 'error', 'record-error'], ['jsonl-write', 'info', 'summary']])
  t.equal(events[0].code, 'NDJSON_INVALID_JSON')
  t.strictSame(events[0].context, { line: 2 })
  t.match(events[0].time, /^\d{4}-\d\d-\d\dT/)
  t.strictSame(events[1].counts, { read: 2, written: 1, skipped: 0, failed: 1, seconds: events[1].counts.seconds })
  const bad = await runTool('jsonl-write', ['--log-format', 'yaml'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /invalid value for --log-format: 'yaml' \(choose text, json\)/)
})

t.test('--quiet silences all but errors; --progress draws progress on a non-TTY stderr', async (t) => {
  const quiet = await runTool('jsonl-write', ['-q'], { input: '{"_id":"1"}\n' })
  t.equal(quiet.code, 0)
  t.equal(quiet.stderr, '')
  const quietBad = await runTool('jsonl-write', ['--quiet'], { input: 'nope\n' })
  t.match(quietBad.stderr, /record error/)
  t.notMatch(quietBad.stderr, /read,/)
  // Input stays open until a progress line has been drawn, so no timing is assumed.
  const child = spawn(process.execPath, [binPath('jsonl-write'), '--progress'], { stdio: 'pipe' })
  const done = collect(child, null)
  child.stdin.write('{"_id":"1"}\n')
  const stderr = await waitForOutput(child.stderr, (text) => text.includes('\n'), { what: 'a progress line' })
  child.stdin.end('{"_id":"2"}\n')
  const r = await done
  t.equal(r.code, 0)
  t.match(stderr, /^jsonl-write: 1 read, 1 written, 0 skipped, 0 failed in [\d.]+ s/, 'a progress line while the run goes on')
  t.match(r.stderr, /jsonl-write: 2 read, 2 written, 0 skipped, 0 failed in [\d.]+ s/)
})

t.test('a closed stdout ends the run quietly with status 0 and stops reading', async (t) => {
  const dir = scratchDir(t)
  const f = join(dir, 'big.csv')
  writeFileSync(f, 'id,x\n' + Array.from({ length: 300000 }, (_, i) => `${i},${'y'.repeat(50)}`).join('\n') + '\n')
  const r = await runShell(`csv-read ${f} | head -1; echo "status=\${PIPESTATUS[0]}" >&2`)
  t.equal(r.stdout, '{"_id":"0","_source":{"id":"0","x":"' + 'y'.repeat(50) + '"}}\n')
  t.match(r.stderr, /status=0/)
  t.notMatch(r.stderr, /EPIPE|Error|at /, 'no stack trace')
  const m = /csv-read: (\d+) read/.exec(r.stderr)
  t.ok(m !== null && Number(m[1]) < 300000, `stopped early (read ${m?.[1]})`)
})

for (const [sig, status] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  t.test(`${sig}: flush what was received, summary, exit ${status}`, async (t) => {
    const dir = scratchDir(t)
    const out = join(dir, 'out.jsonl')
    const child = spawn(process.execPath, [binPath('jsonl-write'), '--progress', '-o', out], { stdio: 'pipe' })
    const done = collect(child, null)
    child.stdin.write('{"_id":"1"}\n{"_id":"2"}\n')
    // The first progress line shows both lines were taken in (and the handlers are installed).
    await waitForOutput(child.stderr, (text) => /^jsonl-write: 2 read, /m.test(text), { what: 'a progress line counting both lines' })
    child.kill(sig)
    const r = await done
    t.equal(r.code, status)
    t.equal(readFileSync(out, 'utf8'), '{"_id":"1"}\n{"_id":"2"}\n', 'every line received is in the file, whole')
    t.strictSame(summaryOf(r.stderr, 'jsonl-write'), { counts: '2 read, 2 written, 0 skipped, 0 failed', extra: ` — interrupted by ${sig}` })
  })
}

t.test('environment variables are a fallback, and flags win', async (t) => {
  // Connection variables are exercised by es-read and mysql-write; here the mechanism itself.
  const { Options } = await import('../../lib/core/cli.js')
  const specs = { url: { type: 'string' as const, env: 'TEST_URL' }, on: { type: 'boolean' as const, env: 'TEST_ON' } }
  const fromEnv = new Options({}, [], specs, { TEST_URL: 'http://env', TEST_ON: 'yes' })
  t.equal(fromEnv.string('url'), 'http://env')
  t.equal(fromEnv.bool('on'), true)
  const fromFlag = new Options({ url: 'http://flag', on: false }, [], specs, { TEST_URL: 'http://env', TEST_ON: '1' })
  t.equal(fromFlag.string('url'), 'http://flag')
  t.equal(fromFlag.bool('on'), false)
  t.throws(() => new Options({ url: '' }, [], specs, {}).string('url'), { code: 'EUSAGE', message: 'option --url needs a value' })
  t.throws(() => new Options({}, [], specs, {}).string('url', { required: true }), { message: 'missing required option --url' })
  t.throws(() => new Options({ n: '-1' }, [], { n: { type: 'string' } }, {}).int('n', { min: 0 }), { message: 'invalid value for --n: -1 (must be at least 0)' })
})

t.test('--metrics-port serves Prometheus metrics while the run lasts', async (t) => {
  const child = spawn(process.execPath, [binPath('jsonl-write'), '--metrics-port', '127.0.0.1:0'], { stdio: 'pipe' })
  const done = collect(child, null)
  child.stdin.write('{"_id":"1"}\n{"_id":"2"}\nnot json\n')
  const announced = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/
  const port = Number(announced.exec(await waitForOutput(child.stderr, (text) => announced.test(text), { what: 'the metrics address' }))?.[1])
  // Scrape until the three lines have been counted: the run is still going (stdin is open).
  let body = ''
  // A record counts as written once stdout has taken its bytes, just after it is read.
  const counted = (b: string): boolean => b.includes('espipe_records{outcome="failed",tool="jsonl-write"} 1') && b.includes('espipe_records{outcome="written",tool="jsonl-write"} 2')
  for (let i = 0; i < 50 && !counted(body); i++) {
    body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.match(body, /espipe_records\{outcome="read",tool="jsonl-write"\} 3/)
  t.match(body, /espipe_records\{outcome="written",tool="jsonl-write"\} 2/)
  t.match(body, /espipe_records\{outcome="failed",tool="jsonl-write"\} 1/)
  t.match(body, /espipe_process_resident_memory_bytes\{tool="jsonl-write"\} \d+/)
  child.stdin.end()
  const r = await done
  t.equal(r.code, 1)
  const bad = await runTool('jsonl-write', ['--metrics-port', 'nine'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /invalid value for --metrics-port: 'nine' \(PORT or HOST:PORT\)/)
})
