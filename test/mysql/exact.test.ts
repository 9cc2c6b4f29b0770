import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { integerIdProblem, keyColumnProblem, numericProblem } from '../../lib/mysql/columns.js'
import type { ColumnInfo } from '../../lib/mysql/columns.js'
import { lines, runTool, scratchDir } from '../helpers/run.js'
import { testDatabase } from '../helpers/mysql.js'
import { countsOf } from '../helpers/summary.js'

const db = await testDatabase(t, 'mw_exact')
const dir = scratchDir(t)
const write = async (args: string[], input: string): Promise<Awaited<ReturnType<typeof runTool>>> => await runTool('mysql-write', ['--url', db.url, ...args], { input })
const deadLetters = (file: string): Array<{ record: unknown, line: number, error: { code: string, message: string } }> => lines(readFileSync(file, 'utf8')).map((l) => JSON.parse(l))

t.test('the content column holds the document byte for byte: every digit, exponent and -0', async (t) => {
  const docs = [
    '{"n":9007199254740993,"neg":-9223372036854775809,"d":0.1000000000000000055511151231257827,"e":1e400,"E":-1E-400,"z":-0,"one":1.0,"s":"1.0"}',
    '{"nested":{"a":[1.50,{"b":123456789012345678901234567890}]},"t":"é 😀"}',
    '{"plain":1,"list":[1,2,3]}'
  ]
  const input = docs.map((d, i) => `{"_index":"x","_id":"d${i}","_source":${d}}\n`).join('')
  for (const sort of ['never', 'always']) {
    const table = `content_${sort}`
    const r = await write(['-t', table, '--create', '--sort-ids', sort], input)
    t.equal(r.code, 0, r.stderr)
    const rows = await db.rows<RowDataPacket>(`SELECT id, CAST(content AS CHAR) AS content FROM ${table} ORDER BY id`)
    t.strictSame(rows.map((x) => x.content), docs, `--sort-ids ${sort}: the stored text is the input's`)
  }
})

t.test('a key given twice: the last one wins, written once, on the fast path and the sorted one', async (t) => {
  const input = [
    '{"_id":"a","_source":{"k":1,"k":2.50}}',
    '{"_id":"b","_source":{"x":{"k":1,"k":2}}}',
    '{"_id":"c","_source":{"k":1},"_source":{"k":9007199254740993}}',
    // Space before a colon: the duplicate is still seen (the text is not kept as it came).
    '{"_id":"d","_source":{"k" : 1,"k":2,"z":0}}'
  ].join('\n') + '\n'
  for (const sort of ['never', 'always']) {
    const table = `dup_${sort}`
    const r = await write(['-t', table, '--create', '--sort-ids', sort], input)
    t.equal(r.code, 0, r.stderr)
    const rows = await db.rows<RowDataPacket>(`SELECT id, CAST(content AS CHAR) AS content, JSON_VALUE(content, '$.k') AS k FROM ${table} ORDER BY id`)
    t.strictSame(rows.map((x) => [x.id, x.content]), [['a', '{"k":2.50}'], ['b', '{"x":{"k":2}}'], ['c', '{"k":9007199254740993}'], ['d', '{"k":2,"z":0}']], `--sort-ids ${sort}`)
    t.equal(rows[0].k, '2.50', "MariaDB's JSON functions read the one value left")
  }
})

t.test('--create makes an exact key: trailing spaces and case make distinct ids, 512 bytes fit', async (t) => {
  const long = 'x'.repeat(511) + 'é'
  const ids = ['sp', 'sp ', 'sp  ', 'A', 'a', 'ß', 'ss', long, '9007199254740993']
  const input = ids.map((id) => JSON.stringify({ _id: id, _source: { id } })).join('\n') + '\n' + '{"_id":9007199254740993,"_source":{"dup":true}}\n'
  const r = await write(['-t', 'ids', '--create'], input)
  t.equal(r.code, 0, r.stderr)
  t.equal(countsOf(r.stderr, 'mysql-write'), '10 read, 9 inserted, 0 updated, 1 skipped (duplicate id), 0 failed', 'the numeric id is the same id as the string of its digits')
  const rows = await db.rows<RowDataPacket>('SELECT id, HEX(id) AS hex FROM ids')
  t.strictSame(rows.map((x) => x.id).sort(), [...ids].sort())
  const [col] = await db.rows<RowDataPacket>("SELECT COLUMN_TYPE AS type, COLLATION_NAME AS coll FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ids' AND COLUMN_NAME = 'id'")
  t.strictSame([col.type, col.coll], ['varchar(512)', 'utf8mb4_nopad_bin'])
})

t.test('a table whose key would merge distinct ids is refused up front, with the fix; --allow-id-merge writes anyway', async (t) => {
  await db.conn.query('CREATE TABLE k_pad (id VARCHAR(255) COLLATE utf8mb4_bin PRIMARY KEY, content JSON)')
  await db.conn.query('CREATE TABLE k_ci (id VARCHAR(64) PRIMARY KEY, content JSON)')
  await db.conn.query('CREATE TABLE k_char (id CHAR(20) COLLATE utf8mb4_nopad_bin PRIMARY KEY, content JSON)')
  await db.conn.query('CREATE TABLE k_prefix (id TEXT COLLATE utf8mb4_nopad_bin, content JSON, UNIQUE KEY by_id (id(8)))')
  await db.conn.query('CREATE TABLE k_ok (id VARBINARY(512) PRIMARY KEY, content JSON)')
  const input = '{"_id":"a","_source":{"v":1}}\n{"_id":"a ","_source":{"v":2}}\n{"_id":"A","_source":{"v":3}}\n'
  const cases: Array<[string, RegExp]> = [
    ['k_pad', /PAD SPACE, so 'a' and 'a ' are one id/],
    ['k_ci', /COLLATE utf8mb4_general_ci is not binary, so ids differing only in case/],
    ['k_char', /CHAR\(20\) drops trailing spaces/],
    ['k_prefix', /covers only the first 8 characters/]
  ]
  for (const [table, why] of cases) {
    const r = await write(['-t', table], input)
    t.equal(r.code, 1, table)
    const errors = lines(r.stderr).filter((l) => l.includes('error'))
    t.equal(errors.length, 1, `${table}: one line`)
    t.match(errors[0], why)
    t.match(errors[0], /error \[EUNSAFE_ID_COLUMN\] table espipe_mw_exact_\d+\.k_\w+: id column id would merge distinct ids .*; make it exact with ALTER TABLE .* MODIFY `id` VARCHAR\(512\) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL.*, or pass --allow-id-merge to write anyway/)
    t.equal(countsOf(r.stderr, 'mysql-write'), '0 read, 0 inserted, 0 updated, 0 skipped, 0 failed', 'nothing read')
    const fix = /make it exact with (ALTER TABLE .*), or pass/.exec(errors[0])?.[1] as string
    if (table === 'k_prefix') t.match(fix, /DROP INDEX `by_id`, ADD UNIQUE \(`id`\)/)
    await db.conn.query(fix)
    const again = await write(['-t', table], input)
    t.equal(again.code, 0, `${table}: after the fix the same input loads (${again.stderr})`)
    t.equal((await db.rows(`SELECT id FROM ${table}`)).length, 3, `${table}: three ids, three rows`)
  }
  await db.conn.query('CREATE TABLE k_merge (id VARCHAR(64) COLLATE utf8mb4_bin PRIMARY KEY, content JSON)')
  const merged = await write(['-t', 'k_merge', '--allow-id-merge', '--mode', 'upsert'], input)
  t.equal(merged.code, 0, merged.stderr)
  t.equal(countsOf(merged.stderr, 'mysql-write'), '3 read, 2 inserted, 1 updated, 0 skipped, 0 failed', "with the flag, what the key merges ('a' and 'a ') is counted as an update")
  const ok = await write(['-t', 'k_ok'], input)
  t.equal(ok.code, 0, ok.stderr)
  t.equal((await db.rows('SELECT id FROM k_ok')).length, 3, 'VARBINARY compares bytes: accepted as it is')
})

t.test('an integer key column takes only ids written as plain whole numbers', async (t) => {
  await db.conn.query('CREATE TABLE k_int (id BIGINT PRIMARY KEY, content JSON)')
  const errors = join(dir, 'int.errors')
  const input = ['1', '"01"', '"1.0"', '9223372036854775807', '"-5"', '"+7"', '"9223372036854775808"'].map((id) => `{"_id":${id},"_source":{}}`).join('\n') + '\n'
  const r = await write(['-t', 'k_int', '--errors', errors], input)
  t.equal(r.code, 1)
  t.strictSame((await db.rows<RowDataPacket>('SELECT CAST(id AS CHAR) AS id FROM k_int ORDER BY id')).map((x) => x.id), ['-5', '1', '9223372036854775807'])
  t.strictSame(deadLetters(errors).sort((a, b) => a.line - b.line).map((d) => [d.line, d.error.code]), [[2, 'RECORD_INEXACT_ID'], [3, 'RECORD_INEXACT_ID'], [6, 'RECORD_INEXACT_ID'], [7, 'ER_WARN_DATA_OUT_OF_RANGE']])
  t.match(deadLetters(errors)[0].error.message, /id '01' is not a whole number written plainly/)
})

t.test('--columns/--map: a value the column would round is a failed record, never a rounded row', async (t) => {
  await db.conn.query(`CREATE TABLE typed (id VARCHAR(20) COLLATE utf8mb4_nopad_bin PRIMARY KEY, i INT, b BIGINT UNSIGNED, d DECIMAL(6,2),
    f FLOAT, g DOUBLE, s VARCHAR(40), j JSON)`)
  const errors = join(dir, 'typed.errors')
  const rows: Array<[string, string, string | undefined]> = [
    // [id, content, expected failure code]
    ['ok1', '{"i":1e3,"b":18446744073709551615,"d":1234.5,"f":0.1,"g":0.30000000000000004,"s":9007199254740993,"j":{"n":1.50}}', undefined],
    ['ok2', '{"i":"-42","b":"12","d":"-9999.99","f":123456,"g":9007199254740992,"s":-0,"j":[1e400]}', undefined],
    ['int-frac', '{"i":1.5}', 'RECORD_INEXACT_VALUE'],
    ['int-str-frac', '{"i":" 2.5 "}', 'RECORD_INEXACT_VALUE'],
    ['int-range', '{"i":2147483648}', 'ER_WARN_DATA_OUT_OF_RANGE'],
    ['big-range', '{"b":1e400}', 'ER_WARN_DATA_OUT_OF_RANGE'],
    ['dec-scale', '{"d":1.005}', 'RECORD_INEXACT_VALUE'],
    ['dec-tiny', '{"d":"1e-5"}', 'RECORD_INEXACT_VALUE'],
    ['dec-range', '{"d":10000}', 'ER_WARN_DATA_OUT_OF_RANGE'],
    ['float', '{"f":16777217}', 'RECORD_INEXACT_VALUE'],
    ['float-digits', '{"f":0.123456789}', 'RECORD_INEXACT_VALUE'],
    ['double', '{"g":9007199254740993}', 'RECORD_INEXACT_VALUE'],
    ['not-number', '{"i":"abc"}', 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD']
  ]
  const input = rows.map(([id, content]) => `{"_id":"${id}","_source":${content}}`).join('\n') + '\n'
  const r = await write(['-t', 'typed', '--columns', 'i,b,d,f,g,s', '--map', 'j=j', '--errors', errors], input)
  t.equal(r.code, 1)
  const dead = deadLetters(errors).sort((a, b) => a.line - b.line)
  t.strictSame(dead.map((d) => [(d.record as { _id: string })._id, d.error.code]), rows.filter((x) => x[2] !== undefined).map(([id, , code]) => [id, code]))
  t.match(dead.find((d) => d.line === 3)?.error.message, /^1\.5 can't be stored exactly in INT\(11\) column i: it is not a whole number$/)
  t.match(dead.find((d) => d.line === 7)?.error.message, /more than 2 decimal places/)
  t.match(dead.find((d) => d.line === 12)?.error.message, /9007199254740993 can't be stored exactly in DOUBLE column g: it would read back as 9007199254740992/)
  const stored = await db.rows<RowDataPacket>('SELECT id, CAST(i AS CHAR) AS i, CAST(b AS CHAR) AS b, CAST(d AS CHAR) AS d, CAST(f AS CHAR) AS f, CAST(g AS CHAR) AS g, s, CAST(j AS CHAR) AS j FROM typed ORDER BY id')
  t.strictSame(stored.map((x) => [x.id, x.i, x.b, x.d, x.f, x.g, x.s, x.j]), [
    ['ok1', '1000', '18446744073709551615', '1234.50', '0.1', '0.30000000000000004', '9007199254740993', '{"n":1.50}'],
    ['ok2', '-42', '12', '-9999.99', '123456', '9.007199254740992e15', '-0', '[1e400]']
  ])
})

t.test('a failed record is dead-lettered with its numbers as written', async (t) => {
  await db.conn.query('CREATE TABLE narrow (id VARCHAR(20) COLLATE utf8mb4_nopad_bin PRIMARY KEY, name VARCHAR(2))')
  const errors = join(dir, 'narrow.errors')
  const line = '{"_id":"n1","_source":{"name":"too long","n":9007199254740993,"d":1.50,"e":1e400}}'
  const r = await write(['-t', 'narrow', '--columns', 'name', '--errors', errors], line + '\n')
  t.equal(r.code, 1)
  const text = readFileSync(errors, 'utf8')
  t.match(text, /"record":\{"_id":"n1","_source":\{"name":"too long","n":9007199254740993,"d":1.50,"e":1e400\}\}/)
})

t.test('library checks: what rounds, what merges', async (t) => {
  const col = (dataType: string, columnType: string, scale?: number): ColumnInfo => ({ name: 'c', dataType, columnType, scale })
  t.equal(numericProblem('12', col('int', 'int(11)')), undefined)
  t.equal(numericProblem('1.000', col('int', 'int(11)')), undefined, 'a whole number with zero decimals stores exactly')
  t.match(numericProblem('-0.5', col('bigint', 'bigint(20)')), /not a whole number/)
  t.equal(numericProblem('abc', col('int', 'int(11)')), undefined, 'not a number: the server refuses it itself')
  t.equal(numericProblem('1.10', col('decimal', 'decimal(5,1)', 1)), undefined)
  t.equal(numericProblem('1e400', col('double', 'double')), undefined, 'out of range: the server refuses it itself')
  t.match(numericProblem('1e-46', col('float', 'float')), /read back as 0$/)
  t.match(numericProblem('0.123456789', col('float', 'float')), /read back as 0\.12345679$/)
  t.equal(numericProblem('0.1234567', col('float', 'float')), undefined, "a FLOAT stores the float, not its 6-digit text: 0.1234567 reads back so (mysql-read)")
  t.equal(numericProblem('16777216', col('float', 'float')), undefined)
  t.equal(numericProblem('x', col('varchar', 'varchar(5)')), undefined)
  t.equal(integerIdProblem('-12', col('int', 'int(11)')), undefined)
  t.match(integerIdProblem('-0', col('int', 'int(11)')), /not a whole number written plainly/)
  t.equal(keyColumnProblem({ name: 'id', dataType: 'varchar', columnType: 'varchar(512)', collation: 'utf8mb4_0900_bin' }, undefined), undefined, "MySQL 8's binary collation is NO PAD")
  t.match(keyColumnProblem({ name: 'id', dataType: 'binary', columnType: 'binary(16)' }, undefined), /pads with zero bytes/)
  t.match(keyColumnProblem({ name: 'id', dataType: 'datetime', columnType: 'datetime' }, undefined), /does not hold ids as text/)
})

t.test('lines cut from their text (scanned) and lines parsed give the same rows: every special character, number ids, failures', async (t) => {
  const awkward = "q'uote \"dq\" back\\slash nul\u0000 ctrl-z\u001a tab\t nl\n é 𝄞 \u2028"
  // The first of each pair has no escape in its line (scanned as it is); the second does.
  const records = [
    `{"_id":"plain-1","_source":{"s":"it's"}}`,
    JSON.stringify({ _id: 'esc-1', _source: { s: awkward } }),
    `{"_id":"it's","_source":{"n":1.50}}`,
    JSON.stringify({ _id: awkward, _source: { id: true } }),
    '{"_id":1.0,"_source":{"n":1e400}}',
    '{"_id":9007199254740993,"_source":[1,2]}',
    '{"_id":"\\u0061","_source":"text"}',
    '{"_source":{"no":"id"},"n":1e400}',
    '{"_id":"no-content","n":1e400}',
    '{"_id":"", "_source":{}}',
    '{"_id":"nested","_source":{"a":{"b":[{"c":null,"d":true,"e":false}],"f":-0.0e-0}}}'
  ]
  const errors = join(dir, 'scan.errors')
  const r = await write(['-t', 'scanned', '--create', '--errors', errors], records.join('\n') + '\n')
  t.equal(r.code, 1)
  t.equal(countsOf(r.stderr, 'mysql-write'), '11 read, 8 inserted, 0 updated, 0 skipped, 3 failed')
  const rows = await db.rows<RowDataPacket>('SELECT HEX(id) AS id, CAST(content AS CHAR) AS content FROM scanned')
  const got = new Map(rows.map((x) => [Buffer.from(String(x.id), 'hex').toString('utf8'), x.content as string]))
  const want: Array<[string, string]> = [
    ['plain-1', '{"s":"it\'s"}'],
    ['esc-1', JSON.stringify({ s: awkward })],
    ["it's", '{"n":1.50}'],
    [awkward, '{"id":true}'],
    ['1.0', '{"n":1e400}'],
    ['9007199254740993', '[1,2]'],
    ['a', '"text"'],
    ['nested', '{"a":{"b":[{"c":null,"d":true,"e":false}],"f":-0.0e-0}}']
  ]
  t.strictSame([...got].sort(), want.sort(), 'ids and contents byte for byte, checked in the table')
  const [json] = await db.rows<RowDataPacket>("SELECT JSON_VALUE(content, '$.s') AS s FROM scanned WHERE id = 'esc-1'")
  t.equal(json.s, awkward, 'the server reads the escaped content as the record held it')
  t.strictSame(deadLetters(errors).sort((a, b) => a.line - b.line).map((d) => [d.line, d.error.code]), [[8, 'RECORD_MISSING_ID'], [9, 'RECORD_MISSING_CONTENT'], [10, 'RECORD_MISSING_ID']])
  const text = readFileSync(errors, 'utf8')
  for (const record of ['{"_source":{"no":"id"},"n":1e400}', '{"_id":"no-content","n":1e400}']) t.ok(text.includes(`"record":${record}`), `dead-lettered as written: ${record}`)
})
