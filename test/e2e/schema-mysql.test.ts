// Issue 27, the MySQL half: an index's mapping becomes a typed table (mysql-write --create
// --schema) and a table's columns a mapping (mysql-read --schema), and documents travel both
// ways through them in real shell pipes against the test Elasticsearch server and MariaDB.
// The schema line of the source index is written here as es-read --schema prints it; the index
// back is made from mysql-read --schema's line by es-write --schema -.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { testDatabase } from '../helpers/mysql.js'
import type { TestDatabase } from '../helpers/mysql.js'
import { lines, runShell, scratchDir } from '../helpers/run.js'
import Big from 'big.js'
import { numberText, parseExact, stringifyExact } from '../../lib/core/json.js'

const MAPPING = {
  properties: {
    k: { type: 'keyword', ignore_above: 64 },
    kw: { type: 'keyword' },
    t: { type: 'text', fields: { raw: { type: 'keyword' } } },
    l: { type: 'long' },
    i: { type: 'integer' },
    s: { type: 'short' },
    b: { type: 'byte' },
    u: { type: 'unsigned_long' },
    d: { type: 'double' },
    f: { type: 'float' },
    sf: { type: 'scaled_float', scaling_factor: 100 },
    ok: { type: 'boolean' },
    at: { type: 'date' },
    ns: { type: 'date_nanos' },
    em: { type: 'date', format: 'epoch_millis' },
    user: { properties: { name: { type: 'keyword' }, age: { type: 'integer' } } },
    tags: { type: 'nested', properties: { x: { type: 'keyword' } } },
    geo: { type: 'geo_point' }
  }
}

/** Every mapped type at its limits, and in between, as NDJSON text: numbers with every digit. */
const DOCS = [
  `{"_id":"max","_source":{"k":"${'x'.repeat(64)}","kw":"😀 \\"q\\" \\\\ é","t":"${'long text '.repeat(300)}","l":9223372036854775807,"i":2147483647,"s":32767,"b":127,"u":18446744073709551615,"d":1.7976931348623157e308,"f":3.4028235e38,"sf":92233720368547758.07,"ok":true,"at":"9999-12-31T23:59:59.999Z","ns":"2262-04-11T23:47:16.854775Z","em":253402300799999,"user":{"name":"ü","age":2147483647},"tags":[{"x":"a"},{"x":"b"}],"geo":{"lat":90,"lon":180}}}`,
  '{"_id":"min","_source":{"k":"","kw":"","t":"","l":-9223372036854775808,"i":-2147483648,"s":-32768,"b":-128,"u":0,"d":-1.7976931348623157e308,"f":-3.4028235e38,"sf":-0.01,"ok":false,"at":"1000-01-01T00:00:00Z","ns":"1970-01-01T00:00:00.000001Z","em":-30610224000000,"user":{"name":"","age":-2147483648},"tags":[],"geo":[-180,-90]}}',
  // Offsets and millis: the instant is kept, in UTC.
  '{"_id":"offsets","_source":{"k":"A","kw":"a ","t":"line\\nbreak","l":9007199254740993,"i":0,"s":0,"b":0,"u":9223372036854775808,"d":0.30000000000000004,"f":0.1,"sf":12.5,"ok":true,"at":"2024-02-29T23:30:00.123+05:30","ns":"2024-03-31T02:30:00.123456-08:00","em":1709251200123,"user":{"name":"n","age":1},"tags":[{"x":"z"}],"geo":"drm3btev3e86"}}',
  // A date alone: midnight UTC.
  '{"_id":"dates","_source":{"k":"a","kw":"A","t":"t","l":1,"i":1,"s":1,"b":1,"u":1,"d":1,"f":1,"sf":1,"ok":false,"at":"2024-01-02","ns":"2024-01-02","em":0,"user":{"name":"m","age":0},"tags":[],"geo":{"lat":0,"lon":0}}}'
]

/**
 * A document as text with its members in name order and each number as its decimal value, for
 * comparing documents by value: 12.50 from a DECIMAL(21,2) is 12.5, 1e+38 from a FLOAT is 1e38.
 */
function canonical (v: unknown): string {
  const num = numberText(v)
  if (num !== undefined) return new Big(num).toFixed()
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).sort(([a], [b]) => a < b ? -1 : 1).map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`
  return JSON.stringify(v)
}

const COLUMN_TYPES: Record<string, string> = {
  id: 'varchar(512)', k: 'varchar(64)', kw: 'text', t: 'longtext', l: 'bigint(20)', i: 'int(11)', s: 'smallint(6)', b: 'tinyint(4)',
  u: 'bigint(20) unsigned', d: 'double', f: 'float', sf: 'decimal(21,2)', ok: 'tinyint(1)', at: 'datetime(3)', ns: 'datetime(6)',
  em: 'datetime(3)', user_name: 'text', user_age: 'int(11)', tags: 'longtext', geo: 'longtext'
}

/** An ISO-8601 date with an offset, as the instant in UTC with every fraction digit (no trailing zeros), for comparing dates by value. */
function instant (v: string | number, epochMillis = false): string {
  if (epochMillis) return new Date(Number(v)).toISOString().replace(/\.?0*Z$/, 'Z')
  const m = /^([^.+Z]*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$/.exec(String(v)) as RegExpExecArray
  const base = m[1].length === 4 ? `${m[1]}-01-01` : m[1].length === 7 ? `${m[1]}-01` : m[1]
  const ms = Date.parse(`${base.length === 10 ? `${base}T00:00:00` : base}${m[3] ?? 'Z'}`)
  const frac = (m[2] ?? '').padEnd(3, '0')
  const iso = new Date(ms + Number(frac.slice(0, 3))).toISOString()
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}${frac.slice(3)}`.replace(/\.?0*$/, '') + 'Z'
}

let es: EsTestServer
let db: TestDatabase
let env: NodeJS.ProcessEnv
const dir = scratchDir(t)
t.before(async () => {
  es = await startEsServer()
  db = await testDatabase(t, 'e2e_schema')
  env = { ...process.env, ES_URL: es.url, MYSQL_URL: db.url }
})
t.teardown(async () => { await es.close() })

t.test('ES -> typed MySQL table -> ES: every mapped type at its limits comes back equal by id and value', async (t) => {
  writeFileSync(join(dir, 'src.mapping.json'), JSON.stringify(MAPPING))
  writeFileSync(join(dir, 'docs.ndjson'), DOCS.join('\n') + '\n')
  const load = await runShell(`es-write --index src --create-index --mappings ${dir}/src.mapping.json --refresh < ${dir}/docs.ndjson`, { env })
  t.equal(load.code, 0, load.stderr)
  // The line es-read --schema prints for the index: a real engine gives its mapping back as it
  // was put (the test server's GET _mapping keeps only the types, so the line is made from it).
  writeFileSync(join(dir, 'src.schema'), JSON.stringify({ _index: 'src', mappings: MAPPING, settings: { 'index.number_of_shards': '1' }, aliases: {} }) + '\n')

  const dry = await runShell(`mysql-write -t typed --create --schema ${dir}/src.schema --dry-run`, { env })
  t.equal(dry.code, 0, dry.stderr)
  t.match(dry.stdout, /^CREATE TABLE IF NOT EXISTS `typed` \(\n {2}`id` VARCHAR\(512\) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY,\n/)
  t.match(dry.stdout, /\n-- map: k=k,kw=kw,t=t,l=l,i=i,s=s,b=b,u=u,d=d,f=f,sf=sf,ok=ok,at=at,ns=ns,em=em,user_name=user\.name,user_age=user\.age,tags=tags,geo=geo\n$/)
  t.strictSame(await db.rows("SHOW TABLES LIKE 'typed'"), [], '--dry-run creates nothing')

  const errors = join(dir, 'in.errors.ndjson')
  const r = await runShell(`es-read --index src | mysql-write -t typed --create --schema ${dir}/src.schema --errors ${errors}`, { env })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'k=k,kw=kw,t=t,l=l,i=i,s=s,b=b,u=u,d=d,f=f,sf=sf,ok=ok,at=at,ns=ns,em=em,user_name=user.name,user_age=user.age,tags=tags,geo=geo\n', 'the map, on stdout')
  t.match(r.stderr, /multi-fields \(fields of t\)/, 'multi-fields are said to have no columns')
  t.match(r.stderr, /mysql-write: 4 read, 4 inserted/)
  const cols = await db.rows<RowDataPacket>(`SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, COLLATION_NAME AS coll FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'typed' ORDER BY ORDINAL_POSITION`, [db.name])
  t.strictSame(Object.fromEntries(cols.map((c) => [c.name, String(c.type)])), COLUMN_TYPES, 'one typed column per mapped field')
  t.strictSame(cols.filter((c) => c.name === 'k' || c.name === 'kw').map((c) => c.coll), ['utf8mb4_bin', 'utf8mb4_bin'], 'keywords compare byte for byte')
  const [row] = await db.rows<RowDataPacket>("SELECT CAST(u AS CHAR) AS u, CAST(l AS CHAR) AS l, CAST(at AS CHAR) AS at, CAST(ns AS CHAR) AS ns, CAST(sf AS CHAR) AS sf FROM typed WHERE id = 'max'")
  t.strictSame({ ...row }, { u: '18446744073709551615', l: '9223372036854775807', at: '9999-12-31 23:59:59.999', ns: '2262-04-11 23:47:16.854775', sf: '92233720368547758.07' }, 'the limits, as the server holds them')

  // Back: the table's own mapping line, then its rows (the fields, not the id column, in _source).
  const back = await runShell(`mysql-read -t typed --schema | es-write --index dst --schema - && mysql-read -t typed --columns ${Object.keys(COLUMN_TYPES).slice(1).join(',')} | es-write --index dst --refresh`, { env })
  t.equal(back.code, 0, back.stderr)
  const docs = es.storedSources('dst')
  t.equal(docs.size, DOCS.length)
  for (const doc of DOCS.map((d) => parseExact(d) as { _id: string, _source: Record<string, unknown> })) {
    const stored = docs.get(doc._id)
    if (stored === undefined) { t.fail(`document ${doc._id} is missing`); continue }
    const have = parseExact(stored) as Record<string, unknown>
    const src = doc._source as Record<string, unknown>
    // What the table does to a value, by design: an object with properties is flattened into
    // a_b columns, a date is its instant in UTC, a boolean is MySQL's BOOLEAN (1 or 0).
    const want: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(src)) {
      if (key === 'user') for (const [k2, v2] of Object.entries(v as object)) want[`user_${k2}`] = v2
      else if (key === 'at' || key === 'ns' || key === 'em') want[key] = instant(key === 'em' ? String(v) : v as string, key === 'em')
      else if (key === 'ok') want[key] = v === true ? 1 : 0
      else want[key] = v
    }
    const seen = { ...have, at: instant(have.at as string), ns: instant(have.ns as string), em: instant(have.em as string) }
    t.equal(canonical(seen), canonical(want), `document ${doc._id}: every value`)
  }
  t.equal(stringifyExact(parseExact(docs.get('max') ?? '')).includes('"u":18446744073709551615'), true, 'unsigned 2^64-1 with every digit')
})

t.test('a value the typed column cannot hold is dead-lettered with RECORD_INEXACT_VALUE; the others land', async (t) => {
  const schema = join(dir, 'small.schema')
  writeFileSync(schema, JSON.stringify({ _index: 'small', mappings: { properties: { k: { type: 'keyword', ignore_above: 3 }, n: { type: 'long' }, at: { type: 'date' }, o: { properties: { a: { type: 'keyword' } } } } }, settings: {}, aliases: {} }))
  const input = [
    { _id: 'good', _source: { k: 'abc', n: 1, at: '2024-01-01T00:00:00.001Z', o: { a: 'x' } } },
    { _id: 'long', _source: { k: 'abcd' } },
    { _id: 'array', _source: { n: [1, 2] } },
    { _id: 'string', _source: { n: '12' } },
    { _id: 'fraction', _source: { n: 1.5 } },
    { _id: 'micros', _source: { at: '2024-01-01T00:00:00.000001Z' } },
    { _id: 'unmapped', _source: { k: 'a', extra: 1 } },
    { _id: 'objects', _source: { o: [{ a: 'x' }] } },
    { _id: 'dotted', _source: { 'o.a': 'y' } }
  ].map((d) => JSON.stringify(d)).join('\n') + '\n'
  const errors = join(dir, 'small.errors.ndjson')
  const r = await runShell(`mysql-write -t small --create --schema ${schema} --errors ${errors}`, { env, input })
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /9 read, 2 inserted/)
  const failed = lines(readFileSync(errors, 'utf8')).map((l) => JSON.parse(l) as { record: { _id: string }, error: { code: string, message: string } })
  t.strictSame(failed.map((f) => [f.record._id, f.error.code]), ['long', 'array', 'string', 'fraction', 'micros', 'unmapped', 'objects'].map((id) => [id, 'RECORD_INEXACT_VALUE']))
  t.strictSame(failed.map((f) => f.error.message), [
    "field k (keyword, column k VARCHAR(3)): 4 characters are more than the column's 3",
    "field n (long, column n BIGINT): an array does not fit a column of one value (make the field's column JSON with a nested or flattened type in the schema line)",
    'field n (long, column n BIGINT): a string "12" would read back as a number',
    "1.5 can't be stored exactly in BIGINT(20) column n: it is not a whole number",
    "2024-01-01T00:00:00.000001Z can't be stored exactly in DATETIME(3) column at: it keeps 3 fractional digits of a second",
    'field extra is not in the schema, so no column holds it (es-read --schema again after the mapping took it, or drop it with jq)',
    'field o is an array, but the mapping makes it an object whose fields are columns (an array of objects has no row of columns; map it nested)'
  ])
  const rows = await db.rows<RowDataPacket>('SELECT id, k, CAST(n AS CHAR) AS n, CAST(at AS CHAR) AS at, o_a FROM small ORDER BY id')
  t.strictSame(rows.map((x) => ({ ...x })), [
    { id: 'dotted', k: null, n: null, at: null, o_a: 'y' },
    { id: 'good', k: 'abc', n: '1', at: '2024-01-01 00:00:00.001', o_a: 'x' }
  ], 'the documents that fit, each value in its column')
})

t.test('refusals: each field no column holds exactly is one line, exit 1, before anything is written', async (t) => {
  const cases: Array<[string, unknown, string]> = [
    ['custom date format', { properties: { d: { type: 'date', format: 'yyyy/MM/dd' } } }, "mysql-write: error [ESCHEMA_FIELD] field d: date format 'yyyy/MM/dd' has no exact reading into a DATETIME (ISO-8601 and epoch_millis/epoch_second have); make the field a keyword in the schema line to keep its text as it is"],
    ['scaling factor of thirds', { properties: { p: { type: 'scaled_float', scaling_factor: 3 } } }, 'mysql-write: error [ESCHEMA_FIELD] field p: scaled_float with scaling_factor 3 has values (multiples of 1/3) that no DECIMAL holds exactly; make it a double in the schema line'],
    ['two fields, one column', { properties: { a: { properties: { b: { type: 'long' } } }, a_b: { type: 'long' } } }, 'mysql-write: error [ESCHEMA_FIELD] fields a.b and a_b both make column a_b (column names ignore case); name one with --map NAME=a_b'],
    ['a field named as the id column', { properties: { id: { type: 'keyword' } } }, 'mysql-write: error [ESCHEMA_FIELD] field id: its column id is the id column; give the id another with --id-column, or the field another with --map NAME=id'],
    ['a name too long', { properties: { ['x'.repeat(40)]: { properties: { ['y'.repeat(30)]: { type: 'long' } } } } }, `mysql-write: error [ESCHEMA_FIELD] field ${'x'.repeat(40)}.${'y'.repeat(30)}: column name ${'x'.repeat(40)}_${'y'.repeat(30)} has 71 characters, more than a column name's 64; name its column with --map NAME=${'x'.repeat(40)}.${'y'.repeat(30)}`],
    ['no fields', { properties: {} }, 'mysql-write: error [ESCHEMA_FIELD] the mapping has no fields: a table needs at least one column besides the id (es-read --schema of an index with documents gives them)']
  ]
  for (const [what, mappings, message] of cases) {
    const schema = join(dir, 'refused.schema')
    writeFileSync(schema, JSON.stringify({ _index: 'r', mappings, settings: {}, aliases: {} }) + '\n')
    const r = await runShell(`mysql-write -t refused --create --schema ${schema}`, { env, input: '{"_id":"1","_source":{}}\n' })
    t.equal(r.code, 1, `${what}: exit 1`)
    t.equal(lines(r.stderr).filter((l) => l.includes('error')).join('\n'), message, `${what}: its one line`)
    t.strictSame(await db.rows("SHOW TABLES LIKE 'refused'"), [], `${what}: nothing created`)
  }
  // A table that exists is left as it is by CREATE TABLE IF NOT EXISTS: its columns must read back as the fields do.
  await db.rows('CREATE TABLE existing (id VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY, n BIGINT, k INT)')
  const existing = join(dir, 'existing.schema')
  writeFileSync(existing, JSON.stringify({ _index: 'existing', mappings: { properties: { n: { type: 'long' }, k: { type: 'keyword' } } } }))
  const ex = await runShell(`mysql-write -t existing --create --schema ${existing}`, { env, input: '{"_id":"1","_source":{"n":1,"k":"12"}}\n' })
  t.equal(ex.code, 1, ex.stderr)
  t.equal(lines(ex.stderr).filter((l) => l.includes('error')).join('\n'), `mysql-write: error [ESCHEMA_FIELD] table existing exists, and its column k INT(11) does not read back as the values of field k (keyword, made TEXT by --schema); load into a new table, or drop this one (host=${db.host}, port=${db.port}, database=${db.name}, table=existing)`, 'a column of another type: one line')
  t.strictSame(await db.rows('SELECT * FROM existing'), [], 'nothing written')
  const renamed = join(dir, 'renamed.schema')
  writeFileSync(renamed, JSON.stringify({ _index: 'r', mappings: { properties: { a: { properties: { b: { type: 'long' } } }, a_b: { type: 'long' } } } }))
  const r = await runShell(`mysql-write -t renamed --create --schema - --map ab_inner=a.b`, { env, input: readFileSync(renamed) })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'ab_inner=a.b,a_b=a_b\n', '--map names a field\'s column: the collision is gone')
  const cols = await db.rows<RowDataPacket>(`SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'renamed' ORDER BY ORDINAL_POSITION`, [db.name])
  t.strictSame(cols.map((c) => c.name), ['id', 'ab_inner', 'a_b'], '--schema - makes the table and loads nothing')
  t.strictSame(await db.rows('SELECT * FROM renamed'), [], 'no row')
  const whole = await runShell('mysql-write -t whole --create --schema - --map user=user --dry-run', { env, input: JSON.stringify({ mappings: { properties: { user: { properties: { name: { type: 'keyword' } } } } } }) })
  t.equal(whole.code, 0, whole.stderr)
  t.match(whole.stdout, /\n {2}`user` JSON\n\) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n-- map: user=user\n$/, '--map of an object\'s path keeps it whole, in a JSON column')
})

t.test('MySQL -> ES -> MySQL: mysql-read --schema makes the index, and the copy of the table is CHECKSUM TABLE equal', async (t) => {
  const columns: Array<[string, string]> = [
    ['ti', 'TINYINT'], ['tu', 'TINYINT UNSIGNED'], ['si', 'SMALLINT'], ['mi', 'MEDIUMINT UNSIGNED'], ['i', 'INT'], ['iu', 'INT UNSIGNED'],
    ['bi', 'BIGINT'], ['bu', 'BIGINT UNSIGNED'], ['dm', 'DECIMAL(65,30)'], ['d2', 'DECIMAL(10,2)'], ['d0', 'DECIMAL(18,0)'], ['fl', 'FLOAT'], ['du', 'DOUBLE'],
    ['b64', 'BIT(64)'], ['bl', 'BLOB'], ['dt', 'DATE'], ['tm', 'TIME(6)'], ['dtt', 'DATETIME(6)'], ['ts', 'TIMESTAMP(3) NULL'], ['yr', 'YEAR'],
    ['en', "ENUM('a', 'b')"], ['st', "SET('x', 'y')"], ['js', 'JSON'], ['vc', 'VARCHAR(64)'], ['tx', 'TEXT'], ['flag', 'BOOLEAN']
  ]
  const names = columns.map(([n]) => n)
  await db.rows(`CREATE TABLE m (id INT NOT NULL PRIMARY KEY, ${columns.map(([n, d]) => `${n} ${d}`).join(', ')}) DEFAULT CHARSET=utf8mb4`)
  await db.rows("SET time_zone = '+00:00'")
  const nines = '9'.repeat(35) + '.' + '9'.repeat(30)
  await db.rows(`INSERT INTO m VALUES
    (1, -128, 255, -32768, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615, -${nines}, 99999999.99, 999999999999999999, 3.4028234663852886e38, 1.7976931348623157e308,
     18446744073709551615, X'00FF', '1000-01-01', '-838:59:59.000000', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999', 2155, 'b', 'x,y', '{"a": [1, 2], "b": {"c": null, "d": "é"},  "e": 1E+2}', 'é 😀', '${'t'.repeat(300)}', 1),
    (2, NULL, NULL, NULL, NULL, NULL, NULL, 9007199254740993, NULL, 0.000000000000000000000000000001, -0.01, -1, 0.1, 0.30000000000000004,
     0, X'', '2024-02-29', '00:00:00.000001', '2024-03-31 02:30:00.000001', '1970-01-01 00:00:01.000', 1901, 'a', '', '{}', '', '', 0)`)
  // A JSON column of objects whose members keep one type each: the index maps them as they come (dynamic).
  await db.rows('CREATE TABLE m_copy LIKE m')
  const r = await runShell(`mysql-read -t m --schema | tee ${dir}/m.schema | es-write --index m --schema - && mysql-read -t m | es-write --index m --refresh && es-read --index m | mysql-write -t m_copy --columns ${names.join(',')}`, { env })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /warning: column dm DECIMAL\(65,30\) has more digits than a scaled_float indexes exactly: mapped as keyword/)
  const line = JSON.parse(readFileSync(join(dir, 'm.schema'), 'utf8')) as { _index: string, mappings: { properties: Record<string, { type: string }> } }
  t.equal(line._index, 'm')
  t.strictSame(Object.fromEntries(Object.entries(line.mappings.properties).map(([k, v]) => [k, v.type])), {
    id: 'integer', ti: 'byte', tu: 'short', si: 'short', mi: 'integer', i: 'integer', iu: 'long', bi: 'long', bu: 'unsigned_long', dm: 'keyword', d2: 'scaled_float', d0: 'long',
    fl: 'float', du: 'double', b64: 'unsigned_long', bl: 'binary', dt: 'date', tm: 'keyword', dtt: 'date', ts: 'date', yr: 'short', en: 'keyword', st: 'keyword', js: 'object', vc: 'keyword', tx: 'text', flag: 'byte'
  })
  t.match(r.stderr, /mysql-write: 2 read, 2 inserted/)
  const some = await runShell('mysql-read -t m --schema --columns BU,id', { env })
  t.equal(some.stdout, '{"_index":"m","mappings":{"properties":{"id":{"type":"integer"},"bu":{"type":"unsigned_long"}}},"settings":{},"aliases":{}}\n', '--columns: only those, in the table\'s order')
  const [a] = await db.rows<RowDataPacket>('CHECKSUM TABLE m')
  const [b] = await db.rows<RowDataPacket>('CHECKSUM TABLE m_copy')
  t.equal(String(b.Checksum), String(a.Checksum), 'CHECKSUM TABLE equal')
})
