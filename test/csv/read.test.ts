import t from 'tap'
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { csvRead, createContext, LosslessNumber } from '../../lib/index.js'
import { castValue, uniqueColumns } from '../../lib/csv/read.js'
import { lines, runTool, scratchDir } from '../helpers/run.js'
import { countsOf, summaryOf } from '../helpers/summary.js'

const records = (stdout: string): Array<{ _id: string, _source: Record<string, unknown> }> => lines(stdout).map((l) => JSON.parse(l))

t.test('rows become {_id, _source} records, and the content column holding JSON becomes _source', async (t) => {
  const dir = scratchDir(t)
  const f = join(dir, 'people.csv')
  writeFileSync(f, 'id,name,content\n1,Ann,\n2,Bob,"{""age"": 41, ""tags"": [""x""]}"\n3,Cy,not json\n')
  const r = await runTool('csv-read', [f])
  t.equal(r.code, 0, r.stderr)
  t.strictSame(records(r.stdout), [
    { _id: '1', _source: { id: '1', name: 'Ann', content: '' } },
    { _id: '2', _source: { age: 41, tags: ['x'] } },
    { _id: '3', _source: { id: '3', name: 'Cy', content: 'not json' } }
  ])
  t.match(r.stderr, /^csv-read: 3 read, 3 emitted, 0 failed in [\d.]+ s/m)
})

t.test('the original tool\'s options still work', async (t) => {
  const dir = scratchDir(t)
  const f = join(dir, 'sample.csv')
  writeFileSync(f, 'record_id,json_data\nr1,"{""a"":1}"\nr2,"{""a"":2}"\nr3,"{""a"":3}"\n')
  const r = await runTool('csv-read', ['--csv_file', f, '--csv_id_column', 'record_id', '--csv_content_column', 'json_data', '--limit', '2'])
  t.equal(r.code, 0, r.stderr)
  t.strictSame(records(r.stdout), [{ _id: 'r1', _source: { a: 1 } }, { _id: 'r2', _source: { a: 2 } }])
})

t.test('stdin, delimiter, quote, --no-header with --columns, --skip, --cast', async (t) => {
  const r = await runTool('csv-read', ['-', '--no-header', '--columns', 'id,n,flag,zip,empty', '-d', ';', '--quote', "'", '--skip', '1', '--cast'], {
    input: "a;1;true;007;\nb;'2.5';false;010;\n"
  })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, '{"_id":"b","_source":{"id":"b","n":2.5,"flag":false,"zip":"010","empty":null}}\n', 'a leading zero keeps the cell text: 010 is no number')
  t.strictSame(castValue('1e3'), new LosslessNumber('1e3'), 'a number that would print differently keeps its text')
  t.equal(castValue('2.5'), 2.5)
  t.equal(castValue('-12'), -12)
  t.equal(castValue('12abc'), '12abc')
})

t.test('--columns with a header line renames the columns', async (t) => {
  const r = await runTool('csv-read', ['--columns', 'key,value', '--id-column', 'key'], { input: 'a,b\nk1,v1\n' })
  t.equal(r.code, 0, r.stderr)
  t.strictSame(records(r.stdout), [{ _id: 'k1', _source: { key: 'k1', value: 'v1' } }])
})

t.test('several files are read one after another, each with its own header', async (t) => {
  const dir = scratchDir(t)
  writeFileSync(join(dir, 'a.csv'), 'id,x\n1,a\n')
  writeFileSync(join(dir, 'b.csv'), 'x,id\nb,2\n')
  const r = await runTool('csv-read', [join(dir, 'a.csv'), join(dir, 'b.csv')])
  t.equal(r.code, 0, r.stderr)
  t.strictSame(records(r.stdout).map((x) => x._id), ['1', '2'])
})

t.test('the bad-input corpus', async (t) => {
  const dir = scratchDir(t)
  const file = (name: string, content: string | Buffer): string => { const p = join(dir, name); writeFileSync(p, content); return p }

  t.test('empty file: no records, exit 0', async (t) => {
    const r = await runTool('csv-read', [file('empty.csv', '')])
    t.equal(r.code, 0)
    t.equal(r.stdout, '')
    t.equal(countsOf(r.stderr, 'csv-read'), '0 read, 0 emitted, 0 failed')
  })

  t.test('header only: no records, exit 0', async (t) => {
    const r = await runTool('csv-read', [file('header.csv', 'id,name\n')])
    t.equal(r.code, 0)
    t.equal(r.stdout, '')
  })

  t.test('a UTF-8 BOM and CRLF line ends are handled', async (t) => {
    const r = await runTool('csv-read', [file('bom.csv', '\uFEFFid,name\r\n1,Zoë\r\n2,"multi\r\nline"\r\n')])
    t.equal(r.code, 0, r.stderr)
    t.strictSame(records(r.stdout), [{ _id: '1', _source: { id: '1', name: 'Zoë' } }, { _id: '2', _source: { id: '2', name: 'multi\r\nline' } }])
  })

  t.test('quoted newlines keep the row whole and later line numbers right', async (t) => {
    const r = await runTool('csv-read', [file('nl.csv', 'id,text\n1,"a\nb\nc"\n2\n')])
    t.equal(r.code, 1)
    t.strictSame(records(r.stdout), [{ _id: '1', _source: { id: '1', text: 'a\nb\nc' } }])
    t.match(r.stderr, /record error \[CSV_RECORD_INCONSISTENT_FIELDS_LENGTH\] .*nl\.csv line 5 has 1 fields, the header has 2/)
  })

  t.test('an unterminated quote is fatal and names the file and line', async (t) => {
    const f = file('quote.csv', 'id,name\n1,ok\n2,"broken\n3,after\n')
    const r = await runTool('csv-read', [f])
    t.equal(r.code, 1)
    t.strictSame(records(r.stdout).map((x) => x._id), ['1'])
    t.match(r.stderr, new RegExp(`error \\[CSV_QUOTE_NOT_CLOSED\\] ${f.replace(/[.]/g, '\\.')} line 3: Quote Not Closed: the quote opened on this line is never closed`))
    t.equal(countsOf(r.stderr, 'csv-read'), '1 read, 1 emitted, 0 failed')
  })

  t.test('a quote closed in the middle of a field is fatal', async (t) => {
    const r = await runTool('csv-read', [file('closing.csv', 'id,name\n1,"ab"c\n')])
    t.equal(r.code, 1)
    t.match(r.stderr, /error \[CSV_INVALID_CLOSING_QUOTE\] .*line 2/)
  })

  t.test('ragged rows are record errors, dead-lettered with line numbers, the rest flows', async (t) => {
    const errors = join(dir, 'errors.ndjson')
    const r = await runTool('csv-read', ['--errors', errors, file('ragged.csv', 'id,a,b\n1,x,y\n2,x\n3,x,y,z\n4,x,y\n')])
    t.equal(r.code, 1)
    t.strictSame(records(r.stdout).map((x) => x._id), ['1', '4'])
    const dead = lines(readFileSync(errors, 'utf8')).map((l) => JSON.parse(l))
    t.strictSame(dead.map((d) => [d.record, d.line, d.error.code]), [
      ['2,x', 3, 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH'],
      ['3,x,y,z', 4, 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH']
    ])
    t.strictSame(summaryOf(r.stderr, 'csv-read'), { counts: '4 read, 2 emitted, 2 failed', extra: ` — failed records in ${errors}` })
    t.notMatch(r.stderr, /record error/, 'with --errors, rows go to the file, not stderr')
  })

  t.test('invalid UTF-8 is a record error that suggests --encoding latin1', async (t) => {
    const f = file('latin1.csv', Buffer.concat([Buffer.from('id,name\n1,'), Buffer.from([0x5a, 0xf6, 0x65]), Buffer.from('\n2,ok\n')]))
    const r = await runTool('csv-read', [f])
    t.equal(r.code, 1)
    t.strictSame(records(r.stdout).map((x) => x._id), ['2'])
    t.match(r.stderr, /record error \[CSV_INVALID_ENCODING\] .*latin1\.csv line 2 is not valid UTF-8: byte 4 begins \[f6\] \(if the file is Latin-1, use --encoding latin1; the record is shown as Latin-1, one character per byte\)/)
    const latin = await runTool('csv-read', ['--encoding', 'latin1', f])
    t.equal(latin.code, 0)
    t.equal(records(latin.stdout)[0]._source.name, 'Zöe')
  })

  t.test('UTF-16LE with a BOM', async (t) => {
    const f = file('u16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name\n1,Zoë\n', 'utf16le')]))
    const r = await runTool('csv-read', ['--encoding', 'utf16le', f])
    t.equal(r.code, 0, r.stderr)
    t.strictSame(records(r.stdout), [{ _id: '1', _source: { id: '1', name: 'Zoë' } }])
  })

  t.test('a 10 MB field passes through whole', async (t) => {
    const big = 'x'.repeat(10 * 1024 * 1024)
    const r = await runTool('csv-read', [file('big.csv', `id,blob\n1,"${big}"\n2,small\n`)])
    t.equal(r.code, 0, r.stderr)
    const recs = records(r.stdout)
    t.equal(recs.length, 2)
    t.equal((recs[0]._source.blob as string).length, big.length)
  })

  t.test('a missing id column is fatal and says how to name it', async (t) => {
    const r = await runTool('csv-read', [file('noid.csv', 'key,name\n1,a\n')])
    t.equal(r.code, 1)
    t.equal(r.stdout, '')
    t.match(r.stderr, /error \[CSV_MISSING_ID_COLUMN\] .*noid\.csv line 1 has no column 'id' \(columns: key, name\); name the id column with --id-column/)
  })

  t.test('an empty id is a record error', async (t) => {
    const r = await runTool('csv-read', [file('emptyid.csv', 'id,name\n,a\n2,b\n')])
    t.equal(r.code, 1)
    t.strictSame(records(r.stdout).map((x) => x._id), ['2'])
    t.match(r.stderr, /record error \[CSV_MISSING_ID\] .*emptyid\.csv line 2 has an empty 'id'/)
  })

  t.test('a missing file exits 1 naming the path, before reading anything', async (t) => {
    const ok = file('ok.csv', 'id\n1\n')
    const r = await runTool('csv-read', [ok, join(dir, 'nope.csv')])
    t.equal(r.code, 1)
    t.equal(r.stdout, '')
    t.match(r.stderr, /error \[ENOENT\] cannot read .*nope\.csv: no such file/)
  })

  t.test('an unreadable input (a directory) exits 1 naming the path', async (t) => {
    const d = join(dir, 'adir.csv')
    mkdirSync(d)
    const r = await runTool('csv-read', [d])
    t.equal(r.code, 1)
    t.match(r.stderr, /error \[EISDIR\] cannot read .*adir\.csv: it is a directory/)
  })
})

t.test('usage errors exit 2 with one line', async (t) => {
  const r = await runTool('csv-read', ['--no-header'])
  t.equal(r.code, 2)
  t.equal(r.stderr, "csv-read: --no-header needs --columns to name the columns (see 'csv-read --help')\n")
  const enc = await runTool('csv-read', ['--encoding', 'ebcdic'])
  t.equal(enc.code, 2)
  t.match(enc.stderr, /invalid value for --encoding: 'ebcdic' \(choose utf8, utf-8, latin1, utf16le\)/)
})

t.test('as a library: csvRead() is a readable stream of records with backpressure', async (t) => {
  const dir = scratchDir(t)
  const f = join(dir, 'n.csv')
  writeFileSync(f, 'id,n\n' + Array.from({ length: 5000 }, (_, i) => `${i},${i * 2}`).join('\n') + '\n')
  const ctx = createContext({ tool: 'test', counters: ['read', 'emitted'], quiet: true })
  const got: string[] = []
  await pipeline(csvRead({ files: [f], context: ctx, cast: true }), new Writable({
    objectMode: true,
    highWaterMark: 1,
    write (rec: { _id: string, _source: { n: number } }, _e, done) {
      if (rec._source.n !== Number(rec._id) * 2) return done(new Error('bad row ' + rec._id))
      got.push(rec._id)
      setImmediate(done)
    }
  }))
  t.equal(got.length, 5000)
  t.equal(ctx.stats.get('emitted'), 5000)
})

t.test('records and serialized NDJSON bytes, with and without --cast, also with duplicate column names', async (t) => {
  const dir = scratchDir(t)
  const collect = async (opts: Parameters<typeof csvRead>[0]): Promise<unknown[]> => {
    const out: unknown[] = []
    await pipeline(csvRead({ ...opts, context: createContext({ tool: 'test', counters: ['read', 'emitted'], quiet: true }) }), new Writable({ objectMode: true, write (c, _e, done) { out.push(c); done() } }))
    return out
  }
  // [file, its text, { text | cast: [records, their lines] }]: the lines written out by hand,
  // not by our serializer. --cast keeps 007 a string (a leading zero is no number's text) and
  // 1e3 as written; U+2028 needs no escape in JSON.
  const cases: Array<[string, string, Record<'text' | 'cast', [unknown[], string]>]> = [
    ['plain.csv', 'id,name,note,n\n1,"Zoë ""Z""","line\nbreak\\ \t",007\n2,\u2028x,"{""not"":""content""}",1e3\n', {
      text: [
        [{ _id: '1', _source: { id: '1', name: 'Zoë "Z"', note: 'line\nbreak\\ \t', n: '007' } }, { _id: '2', _source: { id: '2', name: '\u2028x', note: '{"not":"content"}', n: '1e3' } }],
        '{"_id":"1","_source":{"id":"1","name":"Zoë \\"Z\\"","note":"line\\nbreak\\\\ \\t","n":"007"}}\n{"_id":"2","_source":{"id":"2","name":"\u2028x","note":"{\\"not\\":\\"content\\"}","n":"1e3"}}\n'
      ],
      cast: [
        [{ _id: '1', _source: { id: 1, name: 'Zoë "Z"', note: 'line\nbreak\\ \t', n: '007' } }, { _id: '2', _source: { id: 2, name: '\u2028x', note: '{"not":"content"}', n: new LosslessNumber('1e3') } }],
        '{"_id":"1","_source":{"id":1,"name":"Zoë \\"Z\\"","note":"line\\nbreak\\\\ \\t","n":"007"}}\n{"_id":"2","_source":{"id":2,"name":"\u2028x","note":"{\\"not\\":\\"content\\"}","n":1e3}}\n'
      ]
    }],
    ['dupes.csv', 'id,a,a\n1,x,y\n', {
      text: [[{ _id: '1', _source: { id: '1', a: 'x', a_2: 'y' } }], '{"_id":"1","_source":{"id":"1","a":"x","a_2":"y"}}\n'],
      cast: [[{ _id: '1', _source: { id: 1, a: 'x', a_2: 'y' } }], '{"_id":"1","_source":{"id":1,"a":"x","a_2":"y"}}\n']
    }],
    ['content.csv', 'id,content\n1,"{ ""a"" : [1, 2] }"\n', {
      text: [[{ _id: '1', _source: { a: [1, 2] } }], '{"_id":"1","_source":{"a":[1,2]}}\n'],
      cast: [[{ _id: '1', _source: { a: [1, 2] } }], '{"_id":"1","_source":{"a":[1,2]}}\n']
    }]
  ]
  for (const [name, text, want] of cases) {
    const f = join(dir, name)
    writeFileSync(f, text)
    for (const cast of [false, true]) {
      const [records, ndjson] = want[cast ? 'cast' : 'text']
      const what = `${name}${cast ? ' --cast' : ''}`
      t.strictSame(await collect({ files: [f], cast }), records, `${what}: records`)
      const bytes = await collect({ files: [f], cast, serialize: true })
      t.equal(Buffer.concat(bytes as Buffer[]).toString(), ndjson, `${what}: serialized`)
    }
  }
})

t.test('a repeated or empty header name is renamed, never loses a cell, and is named on stderr', async (t) => {
  const dir = scratchDir(t)
  const f = join(dir, 'dupes.csv')
  writeFileSync(f, 'id,name,name,,name_2,name,\n1,a,b,c,d,e,f\n')
  const r = await runTool('csv-read', [f])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, '{"_id":"1","_source":{"id":"1","name":"a","name_3":"b","column_4":"c","name_2":"d","name_4":"e","column_7":"f"}}\n', 'name_2 is taken, so the repeats are name_3 and name_4')
  t.match(r.stderr, /csv-read: warning: .*dupes\.csv line 1: column names repeated or empty, so renamed: column 3 'name' is name_3, column 4 \(empty\) is column_4, column 6 'name' is name_4, column 7 \(empty\) is column_7\n/)
  const cols = await runTool('csv-read', ['--no-header', '--columns', 'id,x,x'], { input: '1,a,b\n' })
  t.equal(cols.stdout, '{"_id":"1","_source":{"id":"1","x":"a","x_2":"b"}}\n', '--columns follow the same rule')
  t.strictSame(uniqueColumns(['', '', 'column_1']).columns, ['column_1_2', 'column_2', 'column_1'])
})

t.test('line numbers are physical lines: CRLF, LF, lone CR and quoted newlines; every error names file and line', async (t) => {
  const dir = scratchDir(t)
  const errors = join(dir, 'lines.errors')
  const cases: Array<[string, string, Array<[number, string]>]> = [
    ['crlf.csv', 'id,name\r\n1,a\r\n2,"multi\r\nline"\r\n3\r\n\r\n4,b,c\r\n,e\r\n', [[5, '3'], [7, '4,b,c'], [8, ',e']]],
    ['lf.csv', 'id,name\n1,"x\n\ny"\n2\n', [[5, '2']]],
    ['cr.csv', 'id,name\r1,a\r2\r3,"q\rq"\r4\r', [[3, '2'], [6, '4']]]
  ]
  for (const [name, text, want] of cases) {
    const f = join(dir, name)
    writeFileSync(f, text)
    const r = await runTool('csv-read', ['--errors', errors, f])
    t.equal(r.code, 1, name)
    const dead = lines(readFileSync(errors, 'utf8')).map((l) => JSON.parse(l) as { record: string, line: number, error: { message: string }, context: { file: string, line: number } })
    t.strictSame(dead.map((d) => [d.line, d.record]), want, `${name}: lines`)
    for (const d of dead) {
      t.equal(d.context.file, f)
      t.equal(d.context.line, d.line)
      t.ok(d.error.message.startsWith(`${f} line ${d.line} `), d.error.message)
    }
  }
  const opened = join(dir, 'open.csv')
  writeFileSync(opened, 'id,a,b\r\n1,"x\r\ny","ok"\r\n2,"fine",\r\n3,"a\r\nb","never\r\nclosed\r\n4,x,y\r\n')
  const q = await runTool('csv-read', ['--log-format', 'json', opened])
  t.equal(q.code, 1)
  const fatal = lines(q.stderr).map((l) => JSON.parse(l) as { event: string, code?: string, message: string, context?: { file?: string, line?: number } }).find((e) => e.event === 'error')
  t.equal(fatal?.code, 'CSV_QUOTE_NOT_CLOSED')
  t.strictSame(fatal?.context, { file: opened, line: 6 }, 'the line the unclosed quote opened on, not where the file ended')
  t.equal(fatal?.message, `${opened} line 6: Quote Not Closed: the quote opened on this line is never closed`)
  const stdin = await runTool('csv-read', [], { input: 'id\n1\n"2\n' })
  t.match(stdin.stderr, /error \[CSV_QUOTE_NOT_CLOSED\] stdin line 3: /)
})
