// The type tables of issue 27 on their own: an Elasticsearch mapping as a typed table
// (schema-mapping), date values as their instant (schema-dates), a table's columns as field
// types (schema-fields), and explain-errors' words for the new codes. The binaries run against
// the real servers in test/e2e/schema-mysql.test.ts.
import t from 'tap'
import { EspipeError } from '../../lib/core/errors.js'
import { dateForms, dateValue } from '../../lib/mysql/schema-dates.js'
import type { DateForm } from '../../lib/mysql/schema-dates.js'
import { mapOption, parseSchemaLine, tableFromMapping } from '../../lib/mysql/schema-mapping.js'
import { fieldOfColumn } from '../../lib/mysql/schema-fields.js'
import type { TableColumn } from '../../lib/mysql/schema-fields.js'
import { explainText } from '../../lib/explain/explain.js'
import { TOOLS } from '../../lib/cli.js'

function refusal (fn: () => unknown): { code: string, message: string } {
  try {
    fn()
  } catch (err) {
    if (err instanceof EspipeError) return { code: err.code, message: err.message }
    throw err
  }
  return { code: 'none', message: 'not refused' }
}

t.test('each mapped type gets the column that holds all its values', async (t) => {
  const plan = tableFromMapping({
    properties: {
      k: { type: 'keyword' }, k8: { type: 'keyword', ignore_above: 8 }, kbig: { type: 'keyword', ignore_above: 10000 }, ck: { type: 'constant_keyword' },
      t: { type: 'text' }, l: { type: 'long' }, i: { type: 'integer' }, s: { type: 'short' }, b: { type: 'byte' }, u: { type: 'unsigned_long' },
      d: { type: 'double' }, f: { type: 'float' }, h: { type: 'half_float' }, sf: { type: 'scaled_float', scaling_factor: 100 }, sq: { type: 'scaled_float', scaling_factor: 4 },
      s1: { type: 'scaled_float', scaling_factor: 1 }, ok: { type: 'boolean' }, at: { type: 'date' }, ns: { type: 'date_nanos' },
      o: { properties: { a: { properties: { b: { type: 'long' } } } } }, off: { type: 'object', enabled: false, properties: { x: { type: 'long' } } },
      empty: { type: 'object' }, n: { type: 'nested', properties: { x: { type: 'long' } } }, fl: { type: 'flattened' }, g: { type: 'geo_point' }, ip: { type: 'ip' },
      al: { type: 'alias', path: 'l' }
    }
  }, 'idx', { idColumn: 'id' })
  t.strictSame(plan.columns.map((c) => [c.name, c.path, c.sql]), [
    ['k', 'k', 'TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'], ['k8', 'k8', 'VARCHAR(8) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'],
    ['kbig', 'kbig', 'LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'], ['ck', 'ck', 'TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'],
    ['t', 't', 'LONGTEXT CHARACTER SET utf8mb4'], ['l', 'l', 'BIGINT'], ['i', 'i', 'INT'], ['s', 's', 'SMALLINT'], ['b', 'b', 'TINYINT'], ['u', 'u', 'BIGINT UNSIGNED'],
    ['d', 'd', 'DOUBLE'], ['f', 'f', 'FLOAT'], ['h', 'h', 'FLOAT'], ['sf', 'sf', 'DECIMAL(21,2)'], ['sq', 'sq', 'DECIMAL(21,2)'], ['s1', 's1', 'DECIMAL(19,0)'],
    ['ok', 'ok', 'BOOLEAN'], ['at', 'at', 'DATETIME(3)'], ['ns', 'ns', 'DATETIME(6)'], ['o_a_b', 'o.a.b', 'BIGINT'], ['off', 'off', 'JSON'],
    ['empty', 'empty', 'JSON'], ['n', 'n', 'JSON'], ['fl', 'fl', 'JSON'], ['g', 'g', 'JSON'], ['ip', 'ip', 'JSON']
  ])
  t.strictSame([...plan.objects], ['o', 'o.a'], 'objects with properties flatten')
  t.strictSame(plan.notes, ['alias fields (al) hold no value of their own: no columns'])
  t.equal(mapOption(plan).split(',').find((m) => m.startsWith('o_')), 'o_a_b=o.a.b')
})

t.test('--map names a field\'s column; a column name holding , or = is backquoted in the printed map', async (t) => {
  const plan = tableFromMapping({ properties: { a: { properties: { b: { type: 'long' } } }, c: { type: 'long' } } }, undefined, { idColumn: 'id', names: [['x,y', 'a.b']] })
  t.strictSame(plan.columns.map((c) => c.name), ['x,y', 'c'])
  t.equal(mapOption(plan), '`x,y`=a.b,c=c')
  t.strictSame(refusal(() => tableFromMapping({ properties: { c: { type: 'long' } } }, undefined, { idColumn: 'id', names: [['z', 'nope']] })), { code: 'ESCHEMA', message: '--map names the column of nope, which is no field of the schema (give the field\'s path: user.name)' })
})

t.test('refusals name the field, in one line', async (t) => {
  const cases: Array<[unknown, string]> = [
    [{ d: { type: 'date', format: 'strict_date_optional_time||yyyy/MM/dd' } }, "field d: date format 'yyyy/MM/dd' has no exact reading into a DATETIME (ISO-8601 and epoch_millis/epoch_second have); make the field a keyword in the schema line to keep its text as it is"],
    [{ p: { type: 'scaled_float', scaling_factor: 7 } }, 'field p: scaled_float with scaling_factor 7 has values (multiples of 1/7) that no DECIMAL holds exactly; make it a double in the schema line'],
    [{ p: { type: 'scaled_float' } }, 'field p: scaled_float needs a positive scaling_factor (has none)'],
    [{ A: { type: 'long' }, a: { type: 'long' } }, 'fields A and a both make column a (column names ignore case); name one with --map NAME=a'],
    [{ ID: { type: 'long' } }, 'field ID: its column ID is the id column; give the id another with --id-column, or the field another with --map NAME=ID'],
    [{ 'e😀': { type: 'long' } }, 'field e😀: column name e😀 holds a character outside the Basic Multilingual Plane, which MariaDB names cannot; name its column with --map NAME=e😀']
  ]
  for (const [properties, message] of cases) t.strictSame(refusal(() => tableFromMapping({ properties } as never, undefined, { idColumn: 'id' })), { code: 'ESCHEMA_FIELD', message })
})

t.test('the schema line: one index, as es-read --schema prints it (an Elasticsearch 6 type unwrapped)', async (t) => {
  t.strictSame(parseSchemaLine('{"_index":"a","mappings":{"_doc":{"properties":{"x":{"type":"long"}}}},"settings":{}}\n', 'f'), { index: 'a', mappings: { properties: { x: { type: 'long' } } } })
  const two = '{"_index":"a","mappings":{"properties":{"x":{"type":"long"}}}}\n{"_index":"b","mappings":{"properties":{"y":{"type":"long"}}}}\n'
  t.strictSame(parseSchemaLine(two, 's.json', 'b'), { index: 'b', mappings: { properties: { y: { type: 'long' } } } }, 'of several indices, the one named as the table')
  t.strictSame(refusal(() => parseSchemaLine(two, 's.json', 'c')), { code: 'ESCHEMA', message: 's.json holds 2 lines, none of index c: --schema takes the line of one index (the one named as --table, or es-read --index NAME --schema)' })
  t.strictSame(refusal(() => parseSchemaLine('', 'stdin')), { code: 'ESCHEMA', message: 'stdin is empty: --schema takes a line of es-read --schema' })
  t.match(refusal(() => parseSchemaLine('{nope', 'stdin')), { code: 'ESCHEMA', message: /^stdin is not JSON/ })
})

t.test('dates: every form the format allows, as the instant in UTC', async (t) => {
  t.strictSame(dateForms(undefined), ['iso', 'epoch_millis'], 'the default: strict_date_optional_time||epoch_millis')
  const iso: DateForm[] = ['iso', 'epoch_millis']
  t.strictSame(dateForms('yyyy-MM-dd'), { unknown: 'yyyy-MM-dd' })
  const cases: Array<[unknown, string]> = [
    ['2024-02-29T23:30:00.123+05:30', '2024-02-29T18:00:00.123Z'],
    ['2024-03-31T02:30:00.123456789-08:00', '2024-03-31T10:30:00.123456789Z'],
    ['2024-01-02', '2024-01-02T00:00:00Z'], ['2024-01', '2024-01-01T00:00:00Z'], ['2024', '2024-01-01T00:00:00Z'],
    ['2024-01-02T03', '2024-01-02T03:00:00Z'], ['2024-01-02 03:04:05,5Z', '2024-01-02T03:04:05.5Z'], ['2024-01-02T03:04+0130', '2024-01-02T01:34:00Z'],
    [1709251200123, '2024-03-01T00:00:00.123Z'], ['1709251200123', '2024-03-01T00:00:00.123Z'], [-1, '1969-12-31T23:59:59.999Z'], [0, '1970-01-01T00:00:00Z']
  ]
  for (const [v, want] of cases) t.equal(dateValue(v, iso), want, `${String(v)}`)
  t.equal(dateValue('1.5', ['epoch_second']), '1970-01-01T00:00:01.5Z')
  t.equal(dateValue('-1.5', ['epoch_second']), '1969-12-31T23:59:58.5Z')
  t.equal(dateValue('-1.25', ['epoch_millis']), '1969-12-31T23:59:59.99875Z', 'a negative fraction of a millisecond counts back')
  t.strictSame(dateValue('2024-02-30', iso), { problem: '"2024-02-30" is not a calendar date and time' })
  t.strictSame(dateValue('02/01/2024', iso), { problem: '"02/01/2024" is not a date in the field\'s format (ISO-8601 text or epoch_millis)' })
  t.strictSame(dateValue(1709251200123, ['iso']), { problem: '1709251200123 is not a date in the field\'s format (ISO-8601 text)' })
  t.strictSame(dateValue(true, iso), { problem: 'a boolean is not a date' })
  t.strictSame(dateValue(1e20, iso), { problem: '100000000000000000000 is outside the years 0000-9999 a DATETIME holds' })
})

t.test('a table\'s columns as field types', async (t) => {
  const col = (c: Partial<TableColumn>): TableColumn => ({ name: 'c', dataType: 'int', columnType: 'int(11)', kind: 'int', ...c })
  const cases: Array<[Partial<TableColumn>, unknown]> = [
    [{ dataType: 'tinyint', columnType: 'tinyint(1)' }, { type: 'byte' }], [{ dataType: 'tinyint', columnType: 'tinyint(3) unsigned' }, { type: 'short' }],
    [{ dataType: 'int', columnType: 'int(10) unsigned' }, { type: 'long' }], [{ dataType: 'bigint', columnType: 'bigint(20) unsigned', kind: 'bigint' }, { type: 'unsigned_long' }],
    [{ dataType: 'decimal', columnType: 'decimal(15,3)', kind: 'decimal', precision: 15, scale: 3 }, { type: 'scaled_float', scaling_factor: 1000 }],
    [{ dataType: 'decimal', columnType: 'decimal(18,0)', kind: 'decimal', precision: 18, scale: 0 }, { type: 'long' }],
    [{ dataType: 'datetime', columnType: 'datetime(6)', kind: 'datetime' }, { type: 'date', format: 'strict_date_optional_time' }],
    [{ dataType: 'varchar', columnType: 'varchar(9000)', kind: 'text', chars: 9000 }, { type: 'keyword', ignore_above: 8191 }],
    [{ dataType: 'text', columnType: 'text', kind: 'text', collation: 'utf8mb4_bin', chars: 65535 }, { type: 'keyword', ignore_above: 8191 }],
    [{ dataType: 'longtext', columnType: 'longtext', kind: 'text', collation: 'utf8mb4_general_ci' }, { type: 'text' }],
    [{ dataType: 'longtext', columnType: 'longtext', kind: 'json' }, { type: 'object', dynamic: true }],
    [{ dataType: 'blob', columnType: 'blob', kind: 'binary' }, { type: 'binary' }], [{ dataType: 'bit', columnType: 'bit(64)', kind: 'bit', precision: 64 }, { type: 'unsigned_long' }]
  ]
  for (const [c, field] of cases) t.strictSame(fieldOfColumn(col(c)), { field }, `${c.columnType ?? ''} (${c.kind ?? 'int'})`)
  t.strictSame(fieldOfColumn(col({ dataType: 'decimal', columnType: 'decimal(16,2)', kind: 'decimal', precision: 16, scale: 2 })), { field: { type: 'keyword' }, warning: 'column c DECIMAL(16,2) has more digits than a scaled_float indexes exactly: mapped as keyword (its numbers stay exact in _source; searched as text)' })
})

t.test('explain-errors: the new codes, and a schema-checked value', async (t) => {
  const field = await explainText("mysql-write: error [ESCHEMA_FIELD] field d: date format 'yyyy/MM/dd' has no exact reading into a DATETIME (ISO-8601 and epoch_millis/epoch_second have); make the field a keyword in the schema line to keep its text as it is (host=db, port=3306)\n", TOOLS)
  t.equal(field.problems[0]?.rule, 'mysql-schema-field')
  t.match(field.problems[0]?.what, /field 'd'/)
  const existing = await explainText('mysql-write: error [ESCHEMA_FIELD] table existing exists, and its column k INT(11) does not read back as the values of field k (keyword, made TEXT by --schema); load into a new table, or drop this one (host=db, port=3306, table=existing)\n', TOOLS)
  t.match(existing.problems[0]?.what, /field 'k'/)
  const line = await explainText('mysql-write: error [ESCHEMA] s.json holds 2 lines: --schema takes the one line of one index (es-read --index NAME --schema), or pick one with grep or jq\n', TOOLS)
  t.equal(line.problems[0]?.rule, 'mysql-schema-line')
  const value = await explainText("mysql-write: record error [RECORD_INEXACT_VALUE] field k (keyword, column k VARCHAR(16)): 20 characters are more than the column's 16 (database=shop, table=logs, _id=e, line=5)\n", TOOLS)
  t.equal(value.problems[0]?.rule, 'mysql-inexact-value')
  t.match(value.problems[0]?.what, /VARCHAR\(16\) column 'k' of table 'logs'/)
})
