import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import { testDatabase } from '../helpers/mysql.js'
import { lines, runShell, runTool, scratchDir } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'

// A UTF-8 byte order mark (as Windows editors and PowerShell write) at the start of NDJSON
// input is skipped, and said once, by every binary that reads records; so is one at the
// start of a later line, where `cat` joined two such files.

const dir = scratchDir(t)
const BOM = '\uFEFF'
const one = join(dir, 'one.ndjson')
const two = join(dir, 'two.ndjson')
writeFileSync(one, `${BOM}{"_id":"a","_source":{"n":1}}\r\n{"_id":"b","_source":{"n":2.50}}\r\n`)
writeFileSync(two, `${BOM}{"_id":"c","_source":{"s":"${BOM}kept inside a value"}}\n`)
const said = (stderr: string): string[] => lines(stderr).filter((l) => l.includes('byte order mark'))

t.test('jsonl-write: a file that begins with a BOM, and two joined with cat', async (t) => {
  const r = await runTool('jsonl-write', [one])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, '{"_id":"a","_source":{"n":1}}\n{"_id":"b","_source":{"n":2.50}}\n', 'line 1 is a record, as it was meant')
  t.strictSame(said(r.stderr), [`jsonl-write: ${one} begins with a UTF-8 byte order mark: skipped`])
  const cat = await runShell(`cat ${one} ${two} | jsonl-write`)
  t.equal(cat.code, 0, cat.stderr)
  t.strictSame(lines(cat.stdout).map((l) => (JSON.parse(l) as { _id: string })._id), ['a', 'b', 'c'])
  t.ok(cat.stdout.includes(`"${BOM}kept inside a value"`), 'a BOM inside a value is a character of it')
  t.strictSame(said(cat.stderr), [
    'jsonl-write: stdin begins with a UTF-8 byte order mark: skipped'
  ], 'said once, though two were skipped')
  t.equal(countsOf(cat.stderr, 'jsonl-write'), '3 read, 3 written, 0 skipped, 0 failed')
  const later = await runShell(`{ echo '{"_id":"z"}'; cat ${two}; } | jsonl-write`)
  t.equal(later.code, 0, later.stderr)
  t.strictSame(said(later.stderr), ['jsonl-write: line 2 of stdin begins with a UTF-8 byte order mark (inputs joined with cat?): skipped, here and on any later line'])
  const only = await runTool('jsonl-write', [], { input: BOM })
  t.equal(only.code, 0, only.stderr)
  t.equal(only.stdout, '')
  t.equal(countsOf(only.stderr, 'jsonl-write'), '0 read, 0 written, 0 skipped, 0 failed')
})

t.test('csv-write, es-write, mysql-write: the same', async (t) => {
  const csv = await runShell(`cat ${one} ${two} | csv-write`)
  t.equal(csv.code, 0, csv.stderr)
  t.strictSame(lines(csv.stdout), ['id,n,s', 'a,1,', 'b,2.50,', `c,,"${BOM}kept inside a value"`], 'a cell that begins with a BOM is quoted')
  t.equal(said(csv.stderr).length, 1, csv.stderr)

  const es = await startEsServer()
  t.teardown(async () => await es.close())
  const esw = await runShell(`cat ${one} ${two} | es-write --url ${es.url} --index docs --refresh`)
  t.equal(esw.code, 0, esw.stderr)
  t.strictSame([...es.storedSources('docs')].sort(), [['a', '{"n":1}'], ['b', '{"n":2.50}'], ['c', `{"s":"${BOM}kept inside a value"}`]])
  t.equal(said(esw.stderr).length, 1, esw.stderr)

  const db = await testDatabase(t, 'e2e_bom')
  const my = await runShell(`cat ${one} ${two} | mysql-write --url ${db.url} --table docs --create`)
  t.equal(my.code, 0, my.stderr)
  t.strictSame([...await db.table('docs')].sort(), [['a', { n: 1 }], ['b', { n: 2.5 }], ['c', { s: `${BOM}kept inside a value` }]])
  t.equal(said(my.stderr).length, 1, my.stderr)
})

t.test('rec-diff: a BOM on either side is skipped and said', async (t) => {
  const plain = join(dir, 'plain.ndjson')
  writeFileSync(plain, '{"_id":"a","_source":{"n":1}}\n{"_id":"b","_source":{"n":2.50}}\n')
  const r = await runTool('rec-diff', [one, plain])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, '')
  t.strictSame(said(r.stderr), [`rec-diff: SOURCE (${one}) begins with a UTF-8 byte order mark: skipped`])
  const both = await runShell(`rec-diff <(cat ${one} ${two}) ${plain}`)
  t.equal(both.code, 1, both.stderr)
  t.strictSame(lines(both.stdout).map((l) => (JSON.parse(l) as { _id: string })._id), ['c'], 'c is missing from TARGET; a and b are the same')
  t.equal(said(both.stderr).length, 1, both.stderr)
})

t.test('explain-errors: a log saved with a BOM is read from its first line', async (t) => {
  const log = join(dir, 'run.log')
  writeFileSync(log, `${BOM}mysql-write: error [ER_NO_SUCH_TABLE] Table 'shop.orders' doesn't exist (host=db, port=3306, database=shop, table=orders)\n`)
  const r = await runTool('explain-errors', ['--format', 'json', log])
  t.equal(r.code, 0, r.stderr)
  t.strictSame((JSON.parse(r.stdout) as { problems: Array<{ rule: string }> }).problems.map((p) => p.rule), ['mysql-missing-table'])
  t.strictSame(said(r.stderr), [`explain-errors: ${log} begins with a UTF-8 byte order mark: skipped`])
})
