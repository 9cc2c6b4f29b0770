// Every column type through the binaries, checked against what the server itself says the
// values are (CAST, DATE_FORMAT, TO_BASE64 …), never only against our own reading of them.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { createContext } from '../../lib/core/context.js'
import { MYSQL_READ_COUNTERS, mysqlRead } from '../../lib/mysql/read.js'
import { lines, runShell, scratchDir } from '../helpers/run.js'
import { testDatabase } from '../helpers/mysql.js'

const db = await testDatabase(t, 'mr_types')
const dir = scratchDir(t)

interface Col {
  name: string
  ddl: string
  /** SQL giving the server's own text of the value (NULL stays NULL). */
  text?: (c: string) => string
  /** That text → the JSON our record must hold for it. */
  json: (text: string) => string
}

const num = (s: string): string => s
const str = (s: string): string => JSON.stringify(s)
const quoted = (s: string): string => `"${s}"`
const cast = (c: string): string => `CAST(${c} AS CHAR)`
const fmt = (pattern: string) => (c: string): string => `DATE_FORMAT(${c}, '${pattern}')`

/**
 * The FLOATs of ROWS, by their exact value (the server's DOUBLE of them), and the shortest text
 * that reads back as the same float, worked out by hand: 3.14159 is the float 3.1415901184…,
 * whose 5-digit neighbour 3.1416 is another float; 123456.7 rounds to 123456.703125 and 123457
 * does not; 16777216 is 2^24, and 1.677722e7 is the float 16777220.
 */
const FLOAT_SHORTEST: Record<string, string> = { '3.141590118408203': '3.14159', '16777216': '16777216', '123456.703125': '123456.7' }

const COLS: Col[] = [
  { name: 'ti', ddl: 'TINYINT', text: cast, json: num },
  { name: 'tu', ddl: 'TINYINT UNSIGNED', text: cast, json: num },
  { name: 'b1', ddl: 'BOOLEAN', text: cast, json: num },
  { name: 'si', ddl: 'SMALLINT', text: cast, json: num },
  { name: 'mi', ddl: 'MEDIUMINT', text: cast, json: num },
  { name: 'i', ddl: 'INT', text: cast, json: num },
  { name: 'iu', ddl: 'INT UNSIGNED', text: cast, json: num },
  { name: 'bi', ddl: 'BIGINT', text: cast, json: num },
  { name: 'bu', ddl: 'BIGINT UNSIGNED', text: cast, json: num },
  { name: 'de', ddl: 'DECIMAL(40,10)', text: cast, json: num },
  { name: 'd2', ddl: 'DECIMAL(10,2)', text: cast, json: num },
  // A FLOAT's own text has 6 digits (16777216 reads 16777200): the server gives its exact value
  // as a DOUBLE, and the record holds the shortest text that is the same single-precision float.
  { name: 'fl', ddl: 'FLOAT', text: (c) => `CAST(${c} AS DOUBLE)`, json: (s) => FLOAT_SHORTEST[s] ?? `<no shortest text written out for the FLOAT ${s}>` },
  { name: 'du', ddl: 'DOUBLE', text: cast, json: num },
  { name: 'bt', ddl: 'BIT(1)', text: (c) => `CAST(${c} + 0 AS CHAR)`, json: num },
  { name: 'b64', ddl: 'BIT(64)', text: (c) => `CAST(${c} + 0 AS CHAR)`, json: num },
  { name: 'ch', ddl: 'CHAR(5)', json: str },
  { name: 'vc', ddl: 'VARCHAR(100)', json: str },
  { name: 'tx', ddl: 'TEXT', json: str },
  { name: 'l1', ddl: 'VARCHAR(20) CHARACTER SET latin1', json: str },
  { name: 'bn', ddl: 'BINARY(4)', text: (c) => `REPLACE(TO_BASE64(${c}), '\\n', '')`, json: quoted },
  { name: 'vb', ddl: 'VARBINARY(300)', text: (c) => `REPLACE(TO_BASE64(${c}), '\\n', '')`, json: quoted },
  { name: 'bl', ddl: 'BLOB', text: (c) => `REPLACE(TO_BASE64(${c}), '\\n', '')`, json: quoted },
  { name: 'en', ddl: "ENUM('a','b c','é')", text: cast, json: str },
  { name: 'st', ddl: "SET('x','y','z')", text: cast, json: str },
  { name: 'd', ddl: 'DATE', text: fmt('%Y-%m-%d'), json: quoted },
  { name: 'dt', ddl: 'DATETIME', text: fmt('%Y-%m-%dT%H:%i:%sZ'), json: quoted },
  { name: 'dt3', ddl: 'DATETIME(3)', text: (c) => `CONCAT(DATE_FORMAT(${c}, '%Y-%m-%dT%H:%i:%s.'), LEFT(DATE_FORMAT(${c}, '%f'), 3), 'Z')`, json: quoted },
  { name: 'dt6', ddl: 'DATETIME(6)', text: fmt('%Y-%m-%dT%H:%i:%s.%fZ'), json: quoted },
  { name: 'ts', ddl: 'TIMESTAMP NULL', text: fmt('%Y-%m-%dT%H:%i:%sZ'), json: quoted },
  { name: 'ts6', ddl: 'TIMESTAMP(6) NULL', text: fmt('%Y-%m-%dT%H:%i:%s.%fZ'), json: quoted },
  { name: 'tm', ddl: 'TIME', text: cast, json: quoted },
  { name: 'tm2', ddl: 'TIME(2)', text: cast, json: quoted },
  { name: 'yr', ddl: 'YEAR', text: cast, json: num },
  // JSON as stored, line breaks (whitespace between tokens) dropped.
  { name: 'js', ddl: 'JSON', text: cast, json: (s) => s.replace(/[\r\n]/g, '') }
]

const ROWS = [
  `(1, -128, 255, 1, -32768, -8388608, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
    123456789012345678901234567890.0123456789, -12345678.90, 3.14159, 0.30000000000000004, b'1', b'1111111111111111111111111111111111111111111111111111111111111111',
    'ab', 'héllo "q" \\\\ tab\\t nl\\n 𝄞😀 ${'\u2028'} end', CONCAT('ctl', CHAR(1), CHAR(31), ' line1\\nline2'), 'café',
    X'00FF1000', X'DEADBEEF000A0D22', X'', 'é', 'x,z', '2024-02-29', '2024-01-02 03:04:05', '2024-01-02 03:04:05.120', '2024-01-02 03:04:05.123456',
    '2038-01-19 03:14:07', '1970-01-01 00:00:01.000001', '-838:59:59', '12:34:56.78', 2024,
    '{"a": 1, "big": 12345678901234567890, "f": 1.10, "neg": -0, "e": 1e400, "s": "x\\\\ny \\\\"q\\\\" \\\\u00e9", "arr": [1, [2, {"b": null}]], "t": true}')`,
  '(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)',
  `(3, 0, 0, 0, 0, 0, 0, 0, 9007199254740993, 0, -0.0000000001, 0.00, 16777216, 1e300, b'0', b'0', '', '', '', '', X'00000000', X'', REPEAT(X'FF', 300),
    'a', '', '1000-01-01', '9999-12-31 23:59:59', '1000-01-01 00:00:00.000', '2024-06-30 23:59:59.999999', '1970-01-01 00:00:01', '2024-03-31 01:30:00.5', '00:00:00', '-00:00:00.01', 1901,
    '[\\n  1,\\n  2.50,\\n  "x"\\n]')`,
  `(4, 127, 1, 0, 32767, 8388607, 2147483647, 1, 9223372036854775807, 1, 99999999999999999999999999999.9999999999, 99999999.99, 123456.7, -1.7976931348623157e308, b'1', b'1000000000000000000000000000000000000000000000000000000000000000',
    '12345', REPEAT('ü', 100), REPEAT('long text ', 500), 'ÿ', X'7F000001', X'E282AC', X'C328', 'b c', 'x,y,z', '9999-12-31', '1970-01-01 00:00:00', '2000-02-29 12:00:00.001', '1999-12-31 23:59:59.999999',
    '2000-01-01 00:00:00', NULL, '838:59:59', '-12:00:00.99', 2155, '"a plain string"')`
]

await db.rows(`CREATE TABLE types (id INT NOT NULL PRIMARY KEY, ${COLS.map((c) => `${c.name} ${c.ddl}`).join(', ')}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`)
await db.rows(`INSERT INTO types VALUES ${ROWS.join(', ')}`)

/** The line each row must be, built from the server's own text of every value. */
async function expectedLines (): Promise<string[]> {
  await db.rows("SET time_zone = '+00:00'")
  const select = COLS.map((c) => `${(c.text ?? ((x: string) => x))(c.name)} AS ${c.name}`).join(', ')
  const rows = await db.rows<RowDataPacket>(`SELECT id, ${select} FROM types ORDER BY id`)
  return rows.map((r) => `{"_index":"types","_id":"${String(r.id)}","_source":{"id":${String(r.id)},` +
    // SQL NULL in a JSON column is no member (null would be the JSON value null).
    COLS.filter((c) => !(c.ddl === 'JSON' && r[c.name] === null)).map((c) => `"${c.name}":${r[c.name] === null ? 'null' : c.json(String(r[c.name]))}`).join(',') + '}}')
}

t.test('mysql-read | jsonl-write: every type, byte for byte what the server says it holds', async (t) => {
  const out = join(dir, 'types.jsonl')
  const r = await runShell(`mysql-read --url '${db.url}' -t types | jsonl-write -o '${out}'`)
  t.equal(r.code, 0, r.stderr)
  const got = lines(readFileSync(out, 'utf8'))
  const want = await expectedLines()
  t.equal(got.length, want.length, 'one line per row')
  for (let i = 0; i < want.length; i++) t.equal(got[i], want[i], `row ${i + 1}`)
})

t.test('rows taken from mysql2 (one Buffer per value) are written the same as rows read from their packets', async (t) => {
  const read = async (packetRows: boolean): Promise<string> => {
    const chunks: Buffer[] = []
    const ctx = createContext({ tool: 'mysql-read', counters: MYSQL_READ_COUNTERS, quiet: true })
    for await (const c of mysqlRead({ connection: { url: db.url }, table: 'types', ndjson: true, packetRows, context: ctx })) chunks.push(c as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  }
  const fromPackets = await read(true)
  t.equal(lines(fromPackets).length, ROWS.length)
  t.equal(await read(false), fromPackets)
})

t.test('mysql-read | mysql-write into a copy: SQL finds every value of every column in it', async (t) => {
  const r = await runShell(`mysql-read --url '${db.url}' -t types | mysql-write --url '${db.url}' -t types_copy --create`)
  t.equal(r.code, 0, r.stderr)
  await db.rows("SET time_zone = '+00:00'")
  const [{ n }] = await db.rows<RowDataPacket>('SELECT COUNT(*) AS n FROM types_copy')
  t.equal(Number(n), ROWS.length, 'one row per source row')
  for (const c of COLS) {
    const v = `JSON_EXTRACT(k.content, '$.${c.name}')`
    const text = (c.text ?? ((x: string) => x))(`s.${c.name}`)
    // What the copy holds, compared by the server with the source column's own text.
    const same = c.json === str
      ? `CAST(JSON_UNQUOTE(${v}) AS BINARY) = CAST(CONVERT(s.${c.name} USING utf8mb4) AS BINARY)`
      : c.name === 'js'
        ? `JSON_COMPACT(${v}) = JSON_COMPACT(s.js)`
        : c.json === quoted
          ? `JSON_UNQUOTE(${v}) = ${text}`
          : c.name === 'fl' || c.name === 'du'
            ? `CAST(${v} AS ${c.name === 'fl' ? 'FLOAT' : 'DOUBLE'}) = s.${c.name}`
            : `CAST(${v} AS CHAR) = ${text}`
    const [row] = await db.rows<RowDataPacket>(`SELECT COUNT(*) AS n FROM types s JOIN types_copy k ON k.id = CAST(s.id AS CHAR) WHERE (s.${c.name} IS NULL AND ${c.ddl === 'JSON' ? `${v} IS NULL` : `JSON_TYPE(${v}) = 'NULL'`}) OR (${same})`)
    t.equal(Number(row.n), ROWS.length, `${c.name} (${c.ddl}) is the same in every row`)
  }
  const [bin] = await db.rows<RowDataPacket>("SELECT COUNT(*) AS n FROM types s JOIN types_copy k ON k.id = CAST(s.id AS CHAR) WHERE FROM_BASE64(JSON_UNQUOTE(JSON_EXTRACT(k.content, '$.vb'))) = s.vb")
  t.equal(Number(bin.n), 3, 'base64 decodes back to the very bytes (the NULL row aside)')
})

t.test('mysql-read | mysql-write --columns into a table like the source: CHECKSUM TABLE and a join agree', async (t) => {
  // Plain types; test/mysql/round-trip.test.ts copies every type (BIT, binary, JSON, times) so.
  const plain = ['ti', 'tu', 'b1', 'si', 'mi', 'i', 'iu', 'd2', 'fl', 'du', 'ch', 'vc', 'tx', 'l1', 'en', 'st', 'd', 'tm', 'tm2', 'yr']
  const ddl = COLS.filter((c) => plain.includes(c.name)).map((c) => `${c.name} ${c.ddl}`).join(', ')
  await db.rows(`CREATE TABLE plain_src (id INT NOT NULL PRIMARY KEY, ${ddl}) DEFAULT CHARSET=utf8mb4`)
  await db.rows(`INSERT INTO plain_src SELECT id, ${plain.join(', ')} FROM types`)
  await db.rows('CREATE TABLE plain_copy LIKE plain_src')
  const r = await runShell(`mysql-read --url '${db.url}' -t plain_src | mysql-write --url '${db.url}' -t plain_copy --columns ${plain.join(',')}`)
  t.equal(r.code, 0, r.stderr)
  const [a] = await db.rows<RowDataPacket>('CHECKSUM TABLE plain_src')
  const [b] = await db.rows<RowDataPacket>('CHECKSUM TABLE plain_copy')
  t.equal(String(b.Checksum), String(a.Checksum), 'same checksum')
  const [j] = await db.rows<RowDataPacket>(`SELECT COUNT(*) AS n FROM plain_src s JOIN plain_copy c ON c.id = s.id AND ${plain.map((p) => `s.${p} <=> c.${p}`).join(' AND ')}`)
  t.equal(Number(j.n), ROWS.length, 'every row equal column by column')
})

t.test('zero dates are written as the server writes them, with one warning per column', async (t) => {
  await db.rows("SET SESSION sql_mode = ''")
  await db.rows('CREATE TABLE zero (id INT PRIMARY KEY, dt DATETIME, d DATE)')
  await db.rows("INSERT INTO zero VALUES (1, '0000-00-00 00:00:00', '0000-00-00'), (2, '2024-00-10 00:00:00', '2024-01-01'), (3, '0000-00-00 00:00:00', NULL)")
  await db.rows("SET SESSION sql_mode = 'STRICT_ALL_TABLES'")
  const r = await runShell(`mysql-read --url '${db.url}' -t zero`)
  t.equal(r.code, 0)
  t.strictSame(lines(r.stdout).map((l) => (JSON.parse(l) as { _source: unknown })._source), [
    { id: 1, dt: '0000-00-00 00:00:00', d: '0000-00-00' },
    { id: 2, dt: '2024-00-10 00:00:00', d: '2024-01-01' },
    { id: 3, dt: '0000-00-00 00:00:00', d: null }
  ])
  t.equal(lines(r.stderr).filter((l) => /zero date/.test(l)).length, 1, 'one warning for the column')
})

t.test('--timezone: TIMESTAMPs as the instant in that zone, DATETIMEs as wall time there', async (t) => {
  await db.rows('CREATE TABLE tz (id INT PRIMARY KEY, ts TIMESTAMP(3) NULL, dt DATETIME)')
  await db.rows("SET time_zone = '+00:00'")
  await db.rows("INSERT INTO tz VALUES (1, '2024-07-01 10:00:00.250', '2024-07-01 10:00:00'), (2, '2024-01-15 23:30:00', '2024-01-15 23:30:00'), (3, '2024-03-31 00:30:00', '2024-03-31 02:30:00'), (4, '2024-10-27 00:30:00', '2024-10-27 02:30:00')")
  const read = async (zone: string): Promise<unknown[]> => {
    const r = await runShell(`mysql-read --url '${db.url}' -t tz --timezone '${zone}'`)
    t.equal(r.code, 0, r.stderr)
    return lines(r.stdout).map((l) => (JSON.parse(l) as { _source: unknown })._source)
  }
  t.strictSame(await read('+05:30'), [
    { id: 1, ts: '2024-07-01T15:30:00.250+05:30', dt: '2024-07-01T10:00:00+05:30' },
    { id: 2, ts: '2024-01-16T05:00:00.000+05:30', dt: '2024-01-15T23:30:00+05:30' },
    { id: 3, ts: '2024-03-31T06:00:00.000+05:30', dt: '2024-03-31T02:30:00+05:30' },
    { id: 4, ts: '2024-10-27T06:00:00.000+05:30', dt: '2024-10-27T02:30:00+05:30' }
  ], 'a fixed offset')
  // Paris: summer time starts 2024-03-31 at 02:00 (02:30 does not exist: the offset before the
  // change) and ends 2024-10-27 at 03:00 (02:30 happens twice: the first one).
  t.strictSame(await read('Europe/Paris'), [
    { id: 1, ts: '2024-07-01T12:00:00.250+02:00', dt: '2024-07-01T10:00:00+02:00' },
    { id: 2, ts: '2024-01-16T00:30:00.000+01:00', dt: '2024-01-15T23:30:00+01:00' },
    { id: 3, ts: '2024-03-31T01:30:00.000+01:00', dt: '2024-03-31T02:30:00+01:00' },
    { id: 4, ts: '2024-10-27T02:30:00.000+02:00', dt: '2024-10-27T02:30:00+02:00' }
  ], 'a zone with summer time')
  // The server agrees on the instants (offsets need no time zone tables).
  const [row] = await db.rows<RowDataPacket>("SELECT DATE_FORMAT(CONVERT_TZ(ts, '+00:00', '+05:30'), '%Y-%m-%dT%H:%i:%s.%f') AS x FROM tz WHERE id = 1")
  t.equal(row.x, '2024-07-01T15:30:00.250000')
  const bad = await runShell(`mysql-read --url '${db.url}' -t tz --timezone Mars/Olympus`)
  t.equal(bad.code, 2)
  t.match(bad.stderr, /invalid value for --timezone: 'Mars\/Olympus'/)
})
