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
import { COLS, ROWS, quoted, str } from '../helpers/mysql-types.js'

const db = await testDatabase(t, 'mr_types')
const dir = scratchDir(t)

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
