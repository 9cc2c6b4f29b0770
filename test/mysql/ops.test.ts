// mysql-write applying records that carry their operation (`_op`): every operation, mixed
// streams with repeated ids over batches and lanes, against the real MariaDB; the table must
// end as Elasticsearch would hold the same stream (test/helpers/ops.ts is the oracle).
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { runTool, scratchDir } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'
import { testDatabase } from '../helpers/mysql.js'
import { canonical, opStream } from '../helpers/ops.js'
import type { OpStream } from '../helpers/ops.js'

const db = await testDatabase(t, 'mw_ops')
const dir = scratchDir(t)

/** The table as id → canonical content text (numbers as stored, digit for digit). */
async function contents (table: string): Promise<Map<string, string>> {
  const rows = await db.rows<RowDataPacket>(`SELECT id, CAST(content AS CHAR) AS content FROM \`${table}\``)
  return new Map(rows.map((r) => [String(r.id), canonical(String(r.content))]))
}

/** The summary a mysql-write run over `s` must end with (the counters shown once they count). */
function wantCounts (s: OpStream, read = s.lines.length): string {
  const c = s.counts
  return `${read} read, ${c.created} inserted, ${c.updated} updated` +
    (c.deleted > 0 ? `, ${c.deleted} deleted` : '') + (c.notFound > 0 ? `, ${c.notFound} not found` : '') +
    `, ${c.skipped} skipped${c.skipped > 0 ? ' (duplicate id)' : ''}, 0 failed`
}

t.test('one record of each operation: the table and the counts as Elasticsearch would have them', async (t) => {
  const file = join(dir, 'each.ndjson')
  writeFileSync(file, [
    '{"_id":"a","_op":"index","_source":{"n":1,"big":9007199254740993,"o":{"x":1}}}',
    '{"_id":"b","_op":"create","_source":{"n":2}}',
    '{"_id":"b","_op":"create","_source":{"n":3}}',
    '{"_id":"a","_op":"update","_source":{"o":{"y":2},"f":1.0}}',
    '{"_id":"z","_op":"update","_source":{"n":9}}',
    '{"_id":"c","_op":"upsert","_source":{"n":4}}',
    '{"_id":"c","_op":"upsert","_source":{"m":5}}',
    '{"_id":"b","_op":"delete"}',
    '{"_id":"y","_op":"delete"}'
  ].join('\n') + '\n')
  const r = await runTool('mysql-write', ['--url', db.url, '-t', 'each', '--create', file])
  t.equal(r.code, 0, r.stderr)
  t.equal(countsOf(r.stderr, 'mysql-write'), '9 read, 3 inserted, 2 updated, 1 deleted, 2 not found, 1 skipped (duplicate id), 0 failed')
  const rows = await db.rows<RowDataPacket>('SELECT id, CAST(content AS CHAR) AS content FROM `each` ORDER BY id')
  t.strictSame(rows.map((x) => [x.id, x.content]), [
    ['a', '{"n":1,"big":9007199254740993,"o":{"x":1,"y":2},"f":1.0}'],
    ['c', '{"n":4,"m":5}']
  ], 'update and upsert merge as Elasticsearch does, every digit kept; the deletes and the second create left no trace')
})

t.test('mixed operations with repeated ids: the same table over 1 or 4 lanes, small batches, sorted or not', async (t) => {
  const s = opStream({ n: 3000, ids: 150, seed: 7 })
  t.ok(s.counts.deleted > 0 && s.counts.notFound > 0 && s.counts.skipped > 0 && s.want.size > 0, 'the stream has every outcome')
  const file = join(dir, 'mixed.ndjson')
  writeFileSync(file, s.lines.join('\n') + '\n')
  for (const [name, args] of [['m_c1', ['-c', '1']], ['m_c4', ['-c', '4', '--batch-size', '7']], ['m_sorted', ['-c', '3', '--batch-size', '50', '--sort-ids', 'always']]] as const) {
    const r = await runTool('mysql-write', ['--url', db.url, '-t', name, '--create', ...args, file])
    t.equal(r.code, 0, r.stderr)
    t.equal(countsOf(r.stderr, 'mysql-write'), wantCounts(s), `${name}: counted as Elasticsearch counts`)
    t.strictSame(await contents(name), s.want, `${name}: the table holds what Elasticsearch would`)
  }
})

t.test('the column layout: update sets the columns given, delete and create by id', async (t) => {
  await db.rows('CREATE TABLE cols (id VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin PRIMARY KEY, n BIGINT, s VARCHAR(40), price DECIMAL(30,10)) ENGINE=InnoDB')
  const file = join(dir, 'cols.ndjson')
  writeFileSync(file, [
    '{"_id":"a","_source":{"n":9223372036854775807,"s":"é","price":12345678901234567890.1234567891}}',
    '{"_id":"b","_source":{"n":2,"s":"b"}}',
    '{"_id":"a","_op":"update","_source":{"s":"changed"}}',
    '{"_id":"q","_op":"update","_source":{"s":"nowhere"}}',
    '{"_id":"b","_op":"create","_source":{"n":3,"s":"not me"}}',
    '{"_id":"b","_op":"delete"}',
    '{"_id":"b","_op":"create","_source":{"n":4,"s":"again"}}',
    '{"_id":"c","_op":"upsert","_source":{"n":5}}',
    '{"_id":"c","_op":"upsert","_source":{"s":"c"}}'
  ].join('\n') + '\n')
  const r = await runTool('mysql-write', ['--url', db.url, '-t', 'cols', '--columns', 'n,s,price', '--batch-size', '3', file])
  t.equal(r.code, 0, r.stderr)
  t.equal(countsOf(r.stderr, 'mysql-write'), '9 read, 4 inserted, 2 updated, 1 deleted, 1 not found, 1 skipped (duplicate id), 0 failed')
  const rows = await db.rows<RowDataPacket>('SELECT id, CAST(n AS CHAR) AS n, s, CAST(price AS CHAR) AS price FROM cols ORDER BY id')
  t.strictSame(rows.map((x) => [x.id, x.n, x.s, x.price]), [
    ['a', '9223372036854775807', 'changed', '12345678901234567890.1234567891'],
    ['b', '4', 'again', null],
    ['c', '5', 'c', null]
  ])
})

t.test('index asks for a replace: under --mode ignore a plain record is skipped, one with "_op":"index" replaces', async (t) => {
  const file = join(dir, 'ignore.ndjson')
  writeFileSync(file, ['{"_id":"a","_source":{"v":1}}', '{"_id":"a","_source":{"v":2}}', '{"_id":"a","_op":"index","_source":{"v":3}}'].join('\n') + '\n')
  const r = await runTool('mysql-write', ['--url', db.url, '-t', 'ign', '--create', '--mode', 'ignore', file])
  t.equal(r.code, 0, r.stderr)
  t.equal(countsOf(r.stderr, 'mysql-write'), '3 read, 1 inserted, 1 updated, 1 skipped (duplicate id), 0 failed')
  t.strictSame(await contents('ign'), new Map([['a', '{"v":3}']]))
})

t.test('a bad _op is a bad record: one line, counted, dead-lettered, exit 1; "_op" never stored', async (t) => {
  const file = join(dir, 'bad.ndjson')
  const errors = join(dir, 'bad-errors.ndjson')
  writeFileSync(file, [
    '{"_id":"a","_op":"Delete"}',
    '{"_id":"b","_op":null,"_source":{"v":1}}',
    '{"_id":"c","_op":1,"_source":{"v":1}}',
    '{"_id":"d","_op":"index","_pos":"0:1:1","v":1}'
  ].join('\n') + '\n')
  const r = await runTool('mysql-write', ['--url', db.url, '-t', 'bad', '--create', '--content-field', '.', '--errors', errors, file])
  t.equal(r.code, 1)
  t.equal(countsOf(r.stderr, 'mysql-write'), '4 read, 1 inserted, 0 updated, 0 skipped, 3 failed')
  const dead = readFileSync(errors, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { error: { code: string, message: string } })
  t.strictSame(dead.map((d) => d.error.code), ['RECORD_BAD_OP', 'RECORD_BAD_OP', 'RECORD_BAD_OP'])
  t.equal(dead[0].error.message, 'its _op is "Delete", not an operation (index, create, update, upsert, delete)')
  t.equal(dead[1].error.message, 'its _op is null, not an operation (index, create, update, upsert, delete)')
  const [row] = await db.rows<RowDataPacket>('SELECT CAST(content AS CHAR) AS content FROM bad')
  t.equal(row.content, '{"_id":"d","v":1}', 'the whole record is the content, without _op and _pos')
})
