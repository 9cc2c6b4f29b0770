import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { explainText } from '../../lib/explain/explain.js'
import { run } from '../helpers/explain-run.js'
import { TOOLS } from '../../lib/cli.js'

// Real failures of csv-read and jsonl-write, fed to explain-errors as the user would:
// the stderr text, the --log-format json events, and the --errors dead-letter file.

interface JsonReport {
  problems: Array<{ rule: string, kind: string, count: number, what: string, context: Record<string, unknown>, commands: string[], causes: string[], option?: string, examples: Array<{ line?: number, file?: string, record?: string }> }>
  errors: number
  runs: Array<{ tool: string, message: string }>
}

const dir = t.testdir({
  'quote.csv': 'id,name\n1,"bad"x\n2,b\n',
  'width.csv': 'id,name\n1,a,extra\n2,b\n3\n',
  'latin1.csv': Buffer.concat([Buffer.from('id,name\n1,caf'), Buffer.from([0xe9]), Buffer.from('\n2,b\n')]),
  'lines.ndjson': '{"_id":"1","_source":{}}\nnot json\n[1]\n'
})
const at = (f: string): string => join(dir, f)


// The producers run concurrently (child processes); their stderr is explained in-process
// with the library, and through the binary in the tests further down.
for (const format of ['text', 'json']) {
  t.test(`real csv-read and jsonl-write failures, ${format} stderr`, async (t) => {
    const log = ['--log-format', format]
    const [quote, width, latin1, missing, lines, unwritable, full, noId, maxErrors] = await Promise.all([
      run('csv-read', [...log, at('quote.csv')]),
      run('csv-read', [...log, at('width.csv')]),
      run('csv-read', [...log, at('latin1.csv')]),
      run('csv-read', [...log, at('nope.csv')]),
      run('jsonl-write', [...log, '-o', at(`out-${format}.jsonl`), at('lines.ndjson')]),
      run('jsonl-write', [...log, '-o', '/sys/kernel/espipe-test.jsonl'], { input: '{"_id":"1"}\n' }),
      run('jsonl-write', [...log, '--append', '-o', '/dev/full'], { input: '{"_id":"1"}\n' }),
      run('csv-read', [...log, '--id-column', 'code', at('width.csv')]),
      run('csv-read', [...log, '--max-errors', '0', at('width.csv')])
    ])
    for (const r of [quote, width, latin1, missing, lines, unwritable, full, noId, maxErrors]) t.equal(r.code, 1, 'the producer failed')

    const q = await explainText(quote.stderr, TOOLS)
    t.equal(q.problems.length, 1)
    t.hasStrict(q.problems[0], { rule: 'csv-broken-quote', kind: 'fatal', what: `${at('quote.csv')} line 2: a quoted field is not closed properly, so the CSV parser cannot go on.` })
    t.ok(q.problems[0].commands.includes(`sed -n '2p' ${at('quote.csv')} | cat -A`), 'shows the broken line')
    t.match(q.problems[0].option, /--quote/)
    t.match(q.runs[0], { tool: 'csv-read', message: /^0 read/ })

    const w = await explainText(width.stderr, TOOLS)
    t.equal(w.problems.length, 1, 'two bad rows are one problem')
    t.hasStrict(w.problems[0], { rule: 'csv-row-width', count: 2, what: `${at('width.csv')} line 2 has 3 fields where the header has 2.` })
    t.strictSame(w.problems[0].examples.map((x) => x.line), [2, 4])
    t.match(w.problems[0].option, /--delimiter/)

    const e = (await explainText(latin1.stderr, TOOLS)).problems[0]
    t.equal(e.rule, 'csv-bad-encoding')
    t.match(e.option, '--encoding latin1')
    t.ok(e.commands.includes(`file -i ${at('latin1.csv')}`))

    const m = (await explainText(missing.stderr, TOOLS)).problems[0]
    t.equal(m.rule, 'file-not-found')
    t.equal(m.what, `Could not read ${at('nope.csv')}: it (or its directory) does not exist.`)

    const l = await explainText(lines.stderr, TOOLS)
    t.strictSame(l.problems.map((p) => p.rule), ['ndjson-not-json', 'ndjson-not-json'], 'invalid JSON and not-an-object are two problems')
    t.strictSame(l.problems.map((p) => p.examples[0].line), [2, 3])
    t.match(l.problems[0].what, `Line 2 of ${at('lines.ndjson')}`)

    const u = (await explainText(unwritable.stderr, TOOLS)).problems[0]
    t.equal(u.rule, 'permission-denied')
    t.equal(u.what, 'Not allowed to write /sys/kernel/espipe-test.jsonl.')

    const n = (await explainText(noId.stderr, TOOLS)).problems[0]
    t.equal(n.rule, 'csv-missing-id')
    t.match(n.option, '--id-column')

    const x = await explainText(maxErrors.stderr, TOOLS)
    t.strictSame(x.problems.map((p) => p.rule), ['max-errors', 'csv-row-width'], 'the stop, then its cause')
    t.match(x.problems[0].option, '--max-errors')

    const f = (await explainText(full.stderr, TOOLS)).problems[0]
    t.equal(f.rule, 'disk-full')
    t.ok(f.commands.includes('df -h "$(dirname /dev/full)"'))
  })
}

t.test('dead-letter files of csv-read and jsonl-write', async (t) => {
  await Promise.all([
    run('csv-read', ['--errors', at('dl-width.ndjson'), at('width.csv')]),
    run('csv-read', ['--errors', at('dl-latin1.ndjson'), at('latin1.csv')]),
    run('jsonl-write', ['--errors', at('dl-lines.ndjson'), '-o', at('dl-out.jsonl'), at('lines.ndjson')])
  ])
  const r = await run('explain-errors', ['--format', 'json', at('dl-width.ndjson'), at('dl-latin1.ndjson'), at('dl-lines.ndjson')])
  t.equal(r.code, 0)
  const report = JSON.parse(r.stdout) as JsonReport
  t.equal(report.errors, 5)
  t.strictSame(report.problems.map((p) => [p.rule, p.count]).sort(), [['csv-bad-encoding', 1], ['csv-row-width', 2], ['ndjson-not-json', 1], ['ndjson-not-json', 1]])
  const width = report.problems.find((p) => p.rule === 'csv-row-width')
  t.strictSame(width?.examples.map((x) => x.record), ['1,a,extra', '3'], 'examples carry the failed records')
})

t.test('10,000 identical record errors are one explanation with a count and three examples', async (t) => {
  const rows = ['id,name']
  for (let i = 0; i < 10000; i++) rows.push(`${i},a,extra`)
  rows.push('x,ok')
  writeFileSync(at('many.csv'), rows.join('\n') + '\n')
  const [csv, dl] = await Promise.all([run('csv-read', [at('many.csv')]), run('csv-read', ['--errors', at('many-dl.ndjson'), at('many.csv')])])
  t.equal(csv.code, 1)
  t.equal(dl.code, 1)
  for (const input of [csv.stderr, readFileSync(at('many-dl.ndjson'), 'utf8')]) {
    const r = await run('explain-errors', [], { input })
    t.equal(r.code, 0)
    t.match(r.stdout, /^1 problem in 10000 errors\n/)
    t.match(r.stdout, /A CSV row has the wrong number of fields \[(csv-read, )?10000 records, CSV_RECORD_INCONSISTENT_FIELDS_LENGTH\]/)
    t.equal(r.stdout.match(/^ {5}- /gm)?.length, 3, 'three examples')
  }
})

t.test('distinct problems are listed most severe first', async (t) => {
  const [width, missing] = await Promise.all([run('csv-read', [at('width.csv')]), run('csv-read', [at('nope.csv')])])
  const r = await explainText(width.stderr + missing.stderr, TOOLS)
  t.strictSame(r.problems.map((p) => p.rule), ['file-not-found', 'csv-row-width'], 'the fatal error comes first although it came last')
})

t.test('formats: text, markdown and json say the same', async (t) => {
  const csv = await run('csv-read', [at('quote.csv')])
  const text = await run('explain-errors', [], { input: csv.stderr })
  const md = await run('explain-errors', ['--format', 'markdown'], { input: csv.stderr })
  t.equal(text.code, 0)
  t.equal(md.code, 0)
  t.match(text.stdout, /1\. A CSV field has a broken quote \[csv-read, fatal, CSV_INVALID_CLOSING_QUOTE\]/)
  t.match(text.stdout, `     $ sed -n '2p' ${at('quote.csv')} | cat -A\n`)
  t.match(md.stdout, /^# What failed\n/)
  t.match(md.stdout, '### 1. A CSV field has a broken quote')
  t.match(md.stdout, "```sh\nsed -n '2p'")
  const bad = await run('explain-errors', ['--format', 'html'], { input: csv.stderr })
  t.equal(bad.code, 2)
  t.match(bad.stderr, "invalid value for --format: 'html'")
})

t.test('a raw message, and inputs with no error', async (t) => {
  const r = await run('explain-errors', ['connect ECONNREFUSED 127.0.0.1:3306'])
  t.equal(r.code, 0)
  t.match(r.stdout, 'Nothing accepted a connection at 127.0.0.1:3306.')
  t.match(r.stdout, "$ mariadb -h 127.0.0.1 -P 3306 -u USER -p -e 'select version()'")
  const unquoted = await run('explain-errors', ['getaddrinfo', 'ENOTFOUND', 'db.example.invalid'])
  t.match(unquoted.stdout, "The host name 'db.example.invalid' could not be resolved")
  const none = await run('explain-errors', [], { input: 'csv-read: 3 read, 3 emitted, 0 failed in 0.0 s (100/s)\nhello\n' })
  t.equal(none.code, 1)
  t.match(none.stderr, 'explain-errors: error [ENOERRORS] no error found in the input')
  t.equal(none.stdout, '')
  const missing = await run('explain-errors', [at('no-such.log')])
  t.equal(missing.code, 1)
  t.match(missing.stderr, `cannot read ${at('no-such.log')}: no such file`)
})

t.test('--simple-errors explains the run\'s own failure on stderr at exit', async (t) => {
  const [csv, dl, clean] = await Promise.all([
    run('csv-read', ['--simple-errors', at('width.csv')]),
    run('csv-read', ['--simple_errors', '--errors', at('hook-dl.ndjson'), at('width.csv')]),
    run('jsonl-write', ['--simple-errors'], { input: '{"_id":"1"}\n' })
  ])
  t.equal(csv.code, 1)
  t.match(csv.stderr, /csv-read: 3 read, 1 emitted, 2 failed[^\n]*\n\n1 problem in 2 errors\n/)
  t.match(csv.stderr, 'A CSV row has the wrong number of fields [csv-read, 2 records')
  t.match(dl.stderr, /(?<![\d,])2 records/, 'errors that went to the dead-letter file are explained too')
  t.equal(clean.code, 0)
  t.notMatch(clean.stderr, 'problem', 'nothing to explain after a good run')
})

t.test('--log-format json with --simple-errors: every stderr line is still a JSON event', async (t) => {
  const r = await run('csv-read', ['--simple-errors', '--log-format', 'json', at('width.csv')])
  t.equal(r.code, 1)
  const events = r.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { event: string, message: string, report?: { problems: Array<{ title: string }> } })
  t.strictSame(events.map((e) => e.event), ['record-error', 'record-error', 'summary', 'explanation'])
  const explanation = events[3]
  t.equal(explanation.message, '1 problem in 2 errors')
  t.equal(explanation.report?.problems[0].title, 'A CSV row has the wrong number of fields')
  // A usage error is an event too when the line asked for JSON.
  const usage = await run('csv-read', ['--log-format', 'json', '--frobnicate'])
  t.equal(usage.code, 2)
  t.hasStrict(JSON.parse(usage.stderr), { tool: 'csv-read', level: 'error', event: 'error', code: 'EUSAGE', message: "unknown option --frobnicate (see 'csv-read --help')" })
})

t.test('every option in --help is in the man page', async (t) => {
  const help = await run('explain-errors', ['--help'])
  t.equal(help.code, 0)
  const man = readFileSync(new URL('../../man/explain-errors.1', import.meta.url), 'utf8').replace(/\\-/g, '-')
  const options = new Set(help.stdout.match(/--[a-z][a-z-]+/g))
  t.ok(options.size >= 12)
  for (const o of options) t.match(man, new RegExp(`${o}\\b`), o)
})
