// mysql-read | mysql-write --columns into a copy of the table: every MariaDB type comes back
// into the same type, checked by the server (CHECKSUM TABLE, a join with <=>), through the
// binaries in a real shell pipe. Issue 29: BIT, binary, JSON, times, ENUM '' and ids of bytes.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { lines, runShell, scratchDir } from '../helpers/run.js'
import { testDatabase } from '../helpers/mysql.js'

const db = await testDatabase(t, 'mysql_round_trip')
const dir = scratchDir(t)

const COLUMNS: Array<[string, string]> = [
  ['ti', 'TINYINT'], ['tu', 'TINYINT UNSIGNED'], ['si', 'SMALLINT'], ['su', 'SMALLINT UNSIGNED'],
  ['mi', 'MEDIUMINT'], ['mu', 'MEDIUMINT UNSIGNED'], ['i', 'INT'], ['iu', 'INT UNSIGNED'],
  ['bi', 'BIGINT'], ['bu', 'BIGINT UNSIGNED'], ['dm', 'DECIMAL(65,30)'], ['d0', 'DECIMAL(10,0)'],
  ['fl', 'FLOAT'], ['du', 'DOUBLE'], ['b1', 'BIT(1)'], ['b8', 'BIT(8)'], ['b64', 'BIT(64)'],
  ['bn', 'BINARY(4)'], ['vb', 'VARBINARY(16)'], ['bl', 'BLOB'], ['tb', 'TINYBLOB'],
  ['dt', 'DATE'], ['tm', 'TIME(6)'], ['dtt', 'DATETIME(6)'], ['ts', 'TIMESTAMP(6) NULL'], ['yr', 'YEAR'],
  ['en', "ENUM('', 'a', 'b')"], ['st', "SET('x', 'y', 'z')"], ['js', 'JSON'],
  ['vc', 'VARCHAR(64) CHARACTER SET utf8mb4'], ['tx', 'TEXT CHARACTER SET utf8mb4'], ['ch', 'CHAR(8) CHARACTER SET utf8mb4'],
  ['l1', 'VARCHAR(16) CHARACTER SET latin1']
]
const NAMES = COLUMNS.map(([n]) => n)

const NINES = '9'.repeat(35) + '.' + '9'.repeat(30)
const ROWS = [
  // The least of every type.
  `(1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, -${NINES}, -9999999999,
    -3.40282e38, -1.7976931348623157e308, b'0', 0, 0, X'00000000', X'00', X'00FF00', '',
    '1000-01-01', '-838:59:59.000000', '1000-01-01 00:00:00.000000', '1970-01-01 00:00:01.000000', 1901,
    '', '', '"a string"', '', '', '', '')`,
  // The greatest.
  `(2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, ${NINES}, 9999999999,
    3.40282e38, 1.7976931348623157e308, b'1', 255, 18446744073709551615, X'FFFFFFFF', X'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF', X'FF', X'FF',
    '9999-12-31', '838:59:59.000000', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 2155,
    'b', 'x,y,z', '{"a": [1, 2.50, {"b": null}],  "c":"é 😀 \\\\u00e9","d":-0,"e":1E+2}', '😀𝄞 "q" \\\\ b', '𝄞𝄞𝄞 astral', 'zzzzzzzz', 'ÿé')`,
  // In between: a wall time summer time skips, digits a double can't hold, a number as JSON.
  `(3, 0, 5, 0, 9, 0, 1, 5, 0, 9007199254740993, 9007199254740993, 0.000000000000000000000000000001, 0,
    0.1, 0.30000000000000004, b'1', 5, 9, X'0A0D2200', X'2F773D3D', X'C328', X'F09F9880',
    '2024-02-29', '00:00:00.000001', '2024-03-31 02:30:00.123456', '2024-03-31 02:30:00.123456', 0,
    'a', 'y', '12.50', 'tab\\tnewline\\nnul', '${'long text '.repeat(50)}', 'a', '')`,
  // JSON null (not SQL NULL), the year 2000 and BIT values that look like digits.
  '(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 48, 57, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2000, NULL, NULL, \'null\', NULL, NULL, NULL, NULL)',
  // SQL NULL everywhere.
  `(5, ${NAMES.map(() => 'NULL').join(', ')})`
]

async function checksum (table: string): Promise<string> {
  const [row] = await db.rows<RowDataPacket>(`CHECKSUM TABLE ${table}`)
  return String(row.Checksum)
}

t.test('mysql-read | mysql-write --columns into CREATE TABLE … LIKE: every type, CHECKSUM TABLE equal', async (t) => {
  await db.rows(`CREATE TABLE a (id INT NOT NULL PRIMARY KEY, ${COLUMNS.map(([n, d]) => `${n} ${d}`).join(', ')}) DEFAULT CHARSET=utf8mb4`)
  await db.rows("SET time_zone = '+00:00'")
  await db.rows(`INSERT INTO a VALUES ${ROWS.join(', ')}`)
  await db.rows('CREATE TABLE b LIKE a')
  const errors = join(dir, 'types.errors.ndjson')
  const r = await runShell(`mysql-read --url '${db.url}' -t a | mysql-write --url '${db.url}' -t b --columns ${NAMES.join(',')} --errors '${errors}'`)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /mysql-write: 5 read, 5 inserted/)
  const differ = await db.rows<RowDataPacket>(`SELECT a.id, ${NAMES.map((n) => `a.${n} <=> b.${n} AS ${n}`).join(', ')} FROM a LEFT JOIN b ON b.id = a.id`)
  t.equal(differ.length, ROWS.length)
  t.strictSame(differ.flatMap((row) => NAMES.filter((n) => Number(row[n]) !== 1).map((n) => `row ${String(row.id)} column ${n}`)), [], 'every value equal, column by column')
  const [json] = await db.rows<RowDataPacket>("SELECT CONCAT('', js) AS js FROM b WHERE id = 2")
  t.equal(json.js, '{"a": [1, 2.50, {"b": null}],  "c":"é 😀 \\u00e9","d":-0,"e":1E+2}', 'a JSON column\'s text as stored: spacing, escapes, digits')
  // <=> compares JSON as text and BINARY with its padding: the checksum, every byte of every row.
  t.equal(await checksum('b'), await checksum('a'), 'CHECKSUM TABLE equal')
  const [types] = await db.rows<RowDataPacket>("SELECT JSON_TYPE(js) AS t4, (SELECT js IS NULL FROM b WHERE id = 5) AS null5 FROM b WHERE id = 4")
  t.strictSame([types.t4, Number(types.null5)], ['NULL', 1], 'JSON null stays JSON null, SQL NULL stays SQL NULL')
})

t.test('the same through another --timezone on both sides: DATETIME wall times and TIMESTAMP instants kept', async (t) => {
  await db.rows('CREATE TABLE tz (id INT NOT NULL PRIMARY KEY, dtt DATETIME(6), ts TIMESTAMP(6) NULL)')
  await db.rows("SET time_zone = '+00:00'")
  // Paris: 2024-03-31 02:30 does not exist, 2024-10-27 02:30 happens twice.
  await db.rows("INSERT INTO tz VALUES (1, '2024-03-31 02:30:00.5', '2024-03-31 00:30:00.5'), (2, '2024-10-27 02:30:00', '2024-10-27 00:30:00'), (3, '2024-10-27 02:30:00', '2024-10-27 01:30:00'), (4, '2024-07-01 12:00:00', '2024-07-01 12:00:00')")
  await db.rows('CREATE TABLE tz_copy LIKE tz')
  for (const zone of ['Europe/Paris', '-03:30', 'UTC']) {
    await db.rows('TRUNCATE TABLE tz_copy')
    const r = await runShell(`mysql-read --url '${db.url}' -t tz --timezone '${zone}' | mysql-write --url '${db.url}' -t tz_copy --columns dtt,ts --timezone '${zone}'`)
    t.equal(r.code, 0, r.stderr)
    t.equal(await checksum('tz_copy'), await checksum('tz'), `${zone}: CHECKSUM TABLE equal`)
  }
  // Times with an offset of their own into a UTC writer: a DATETIME gets the wall time in UTC.
  await db.rows('TRUNCATE TABLE tz_copy')
  const w = await runShell(`printf '%s\\n' '{"_id":"7","_source":{"dtt":"2024-01-02T03:04:05.25+05:30","ts":"2024-01-02 03:04:05"}}' '{"_id":"8","_source":{"dtt":"2024-01-02 03:04","ts":"2024-01-02T03:04:05-08:00"}}' | mysql-write --url '${db.url}' -t tz_copy --columns dtt,ts`)
  t.equal(w.code, 0, w.stderr)
  t.strictSame(await db.rows("SELECT id, CAST(dtt AS CHAR) AS dtt, CAST(ts AS CHAR) AS ts FROM tz_copy ORDER BY id"), [
    { id: 7, dtt: '2024-01-01 21:34:05.250000', ts: '2024-01-02 03:04:05.000000' },
    { id: 8, dtt: '2024-01-02 03:04:00.000000', ts: '2024-01-02 11:04:05.000000' }
  ])
})

t.test('values a column cannot take back are failed records with their reason, the rest land', async (t) => {
  await db.rows('CREATE TABLE strict_in (id INT NOT NULL PRIMARY KEY, vb VARBINARY(8), b8 BIT(8), ts TIMESTAMP(3) NULL, js JSON, tm TIME(1))')
  const input = [
    '{"_id":"1","_source":{"vb":"AAE=","b8":"200","js":"text","ts":"2024-01-01T00:00:00.123000Z","tm":"12:00:00.50"}}',
    '{"_id":"2","_source":{"vb":"not base64!"}}',
    '{"_id":"3","_source":{"vb":"AAE"}}',
    '{"_id":"4","_source":{"b8":-1}}',
    '{"_id":"5","_source":{"b8":1.5}}',
    '{"_id":"6","_source":{"b8":256}}',
    '{"_id":"7","_source":{"vb":12}}',
    // More digits of a second than the column keeps: the server would round them with a note only.
    '{"_id":"8","_source":{"ts":"2024-01-01T00:00:00.1234Z"}}',
    '{"_id":"9","_source":{"tm":"12:00:00.55"}}',
    '{"_id":"10","_source":{"ts":"2024-01-01 00:00:00.9999"}}'
  ]
  const errors = join(dir, 'strict.errors.ndjson')
  const r = await runShell(`printf '%s\\n' ${input.map((l) => `'${l}'`).join(' ')} | mysql-write --url '${db.url}' -t strict_in --columns vb,b8,ts,js,tm --errors '${errors}'`)
  t.equal(r.code, 1)
  t.strictSame(await db.rows('SELECT id, HEX(vb) AS vb, b8 + 0 AS b8, JSON_TYPE(js) AS js, JSON_VALUE(js, \'$\') AS text, CAST(ts AS CHAR) AS ts, CAST(tm AS CHAR) AS tm FROM strict_in'), [{ id: 1, vb: '0001', b8: 200, js: 'STRING', text: 'text', ts: '2024-01-01 00:00:00.123', tm: '12:00:00.5' }])
  const dead = lines(readFileSync(errors, 'utf8')).map((l) => JSON.parse(l) as { record: { _id: string }, error: { code: string, message: string } }).sort((x, y) => Number(x.record._id) - Number(y.record._id))
  t.strictSame(dead.map((d) => [d.record._id, d.error.code]), [['2', 'RECORD_WRONG_FORM'], ['3', 'RECORD_WRONG_FORM'], ['4', 'RECORD_WRONG_FORM'], ['5', 'RECORD_WRONG_FORM'], ['6', 'ER_DATA_TOO_LONG'], ['7', 'RECORD_WRONG_FORM'], ['8', 'RECORD_INEXACT_VALUE'], ['9', 'RECORD_INEXACT_VALUE'], ['10', 'RECORD_INEXACT_VALUE']])
  t.match(dead[0].error.message, /column vb is VARBINARY\(8\): its value must be base64 .*not "not base64!"/)
  t.match(dead[2].error.message, /column b8 is BIT\(8\): its value must be a whole number from 0/)
  t.match(dead[6].error.message, /2024-01-01T00:00:00.1234Z can't be stored exactly in TIMESTAMP\(3\) column ts: it keeps 3 fractional digits of a second/)
})

t.test('binary keys: every key its own _id (no base64 text can pass for bytes), decoded back by mysql-write', async (t) => {
  await db.rows('CREATE TABLE k (id VARBINARY(32) NOT NULL PRIMARY KEY, v INT)')
  // 0xFF is base64 /w==; '/w==' is also a key. Bytes that are UTF-8 text read as that text.
  // (The empty key is left out: an empty _id is no id to every writer, so it is dead-lettered.)
  const keys = ["X'FF'", "'/w=='", "'base64:/w=='", "'base64:'", "X'C328'", "'abc'", "'é'", "X'00'", "'1,2'", "X'F09F9880'"]
  await db.rows(`INSERT INTO k VALUES ${keys.map((k, i) => `(${k}, ${i})`).join(', ')}`)
  await db.rows('CREATE TABLE k_copy LIKE k')
  const out = join(dir, 'k.ndjson')
  const r = await runShell(`mysql-read --url '${db.url}' -t k | tee '${out}' | mysql-write --url '${db.url}' -t k_copy --columns v`)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, new RegExp(`mysql-write: ${keys.length} read, ${keys.length} inserted, 0 updated, 0 skipped`))
  const ids = lines(readFileSync(out, 'utf8')).map((l) => (JSON.parse(l) as { _id: string, _source: { v: number } }))
  t.strictSame(Object.fromEntries(ids.map((x) => [x._source.v, x._id])), {
    0: 'base64:/w==', 1: '/w==', 2: 'base64:YmFzZTY0Oi93PT0=', 3: 'base64:YmFzZTY0Og==', 4: 'base64:wyg=', 5: 'abc', 6: 'é', 7: '\u0000', 8: '1,2', 9: '😀'
  }, 'the documented ids')
  t.equal(await checksum('k_copy'), await checksum('k'), 'every key back byte for byte')
  // Rows sorted by id through temporary files are built again from their lines: the same bytes.
  await db.rows('CREATE TABLE k_sorted LIKE k')
  const sorted = await runShell(`mysql-write --url '${db.url}' -t k_sorted --columns v --sort-ids always < '${out}'`)
  t.equal(sorted.code, 0, sorted.stderr)
  t.equal(await checksum('k_sorted'), await checksum('k'), '--sort-ids always: every key back byte for byte')
  // An id in the prefix's form that mysql-read never makes would stand for another key: refused.
  const errors = join(dir, 'k.errors.ndjson')
  const w = await runShell(`printf '%s\\n' '{"_id":"base64:YWJj","_source":{"v":1}}' '{"_id":"base64:!!","_source":{"v":2}}' '{"_id":"base64:/w==","_source":{"v":3}}' | mysql-write --url '${db.url}' -t k_copy --columns v --mode upsert --errors '${errors}'`)
  t.equal(w.code, 1)
  t.strictSame(lines(readFileSync(errors, 'utf8')).map((l) => (JSON.parse(l) as { error: { code: string } }).error.code), ['RECORD_INEXACT_ID', 'RECORD_INEXACT_ID'])
  t.strictSame(await db.rows("SELECT v FROM k_copy WHERE id = X'FF'"), [{ v: 3 }], 'the form mysql-read gives goes back to its bytes')
})
