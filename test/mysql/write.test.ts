import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { lines, runTool, scratchDir } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'
import { testDatabase } from '../helpers/mysql.js'
import { makeRecords, ndjson } from '../helpers/records.js'

const db = await testDatabase(t, 'mw_main')
const dir = scratchDir(t)

t.test('100k records round-trip: count and content equal to the input, 4-byte UTF-8 intact', async (t) => {
  const records = makeRecords(100_000, { shuffled: true })
  const file = join(dir, 'round.ndjson')
  writeFileSync(file, ndjson(records))
  const r = await runTool('mysql-write', ['--url', db.url, '--table', 'round', '--create', file])
  t.equal(r.code, 0, 'exit 0')
  t.equal(countsOf(r.stderr, 'mysql-write'), '100000 read, 100000 inserted, 0 updated, 0 skipped, 0 failed')
  const table = await db.table('round')
  t.equal(table.size, 100_000)
  let same = 0
  for (const rec of records) if (JSON.stringify(table.get(rec._id)) === JSON.stringify(rec._source)) same++
  t.equal(same, 100_000, 'every row holds exactly its record')
  const [raw] = await db.rows<RowDataPacket>("SELECT JSON_VALUE(content, '$.emoji') AS e FROM round LIMIT 1")
  t.equal(raw.e, '𝄞 😀 ok')
})

t.test('sorted and unsorted writing give the same table (same ids, input order kept per id)', async (t) => {
  const base = makeRecords(3000, { shuffled: true })
  // Every id twice with different content: ignore keeps the first, upsert the last.
  const records = [...base, ...base.map((r) => ({ ...r, _source: { ...r._source, second: true } }))]
  const file = join(dir, 'twice.ndjson')
  writeFileSync(file, ndjson(records))
  for (const mode of ['ignore', 'upsert']) {
    const tables = []
    for (const sort of ['never', 'always']) {
      const name = `s_${mode}_${sort}`
      const r = await runTool('mysql-write', ['--url', db.url, '-t', name, '--create', '--mode', mode, '--sort-ids', sort, '--batch-size', '100', file])
      t.equal(r.code, 0, 'exit 0')
      const table = await db.table(name)
      tables.push(table)
      const wantSecond = mode === 'upsert'
      t.equal([...table.values()].filter((c) => (c as { second?: boolean }).second === true).length, wantSecond ? 3000 : 0, `${mode}/${sort}: ${wantSecond ? 'last' : 'first'} one wins`)
    }
    t.strictSame([...tables[0]].sort(), [...tables[1]].sort(), `${mode}: identical tables`)
  }
})

t.test('concurrency 1 and 8 give identical tables, duplicates included', async (t) => {
  const base = makeRecords(10_000, { shuffled: true })
  const records = base.flatMap((r, i) => i % 5 === 0 ? [r, { ...r, _source: { v: i } }, { ...r, _source: { v: -i } }] : [r])
  const file = join(dir, 'conc.ndjson')
  writeFileSync(file, ndjson(records))
  for (const mode of ['ignore', 'upsert', 'replace']) {
    const a = await runTool('mysql-write', ['--url', db.url, '-t', `c1_${mode}`, '--create', '--mode', mode, '--sort-ids', 'never', '-c', '1', file])
    const b = await runTool('mysql-write', ['--url', db.url, '-t', `c8_${mode}`, '--create', '--mode', mode, '--sort-ids', 'never', '--threads', '8', '--batch-size', '97', file])
    t.equal(a.code, 0, 'exit 0')
    t.equal(b.code, 0, 'exit 0')
    const ta = await db.table(`c1_${mode}`)
    const tb = await db.table(`c8_${mode}`)
    t.equal(ta.size, 10_000)
    t.strictSame([...tb].sort(), [...ta].sort(), `${mode}: same rows`)
    const summary = (s: string): string => lines(s).filter((l) => / read, /.test(l)).join().replace(/ in .*/, '')
    t.equal(summary(a.stderr), summary(b.stderr), `${mode}: same counts`)
  }
})

t.test('duplicates within a run and across runs, in every mode, counted exactly', async (t) => {
  const rec = (id: string, v: number): string => JSON.stringify({ _id: id, _source: { v } })
  // a twice and b three times within the run; c once.
  const run1 = [rec('a', 1), rec('b', 1), rec('a', 2), rec('b', 2), rec('c', 1), rec('b', 3)].join('\n') + '\n'
  // Across runs: a again with new content, d new, c again with the same content.
  const run2 = [rec('a', 9), rec('d', 1), rec('c', 1)].join('\n') + '\n'
  const expect: Record<string, { run1: string, run2: string, table: Record<string, number> }> = {
    ignore: { run1: '6 read, 3 inserted, 0 updated, 3 skipped (duplicate id), 0 failed', run2: '3 read, 1 inserted, 0 updated, 2 skipped (duplicate id), 0 failed', table: { a: 1, b: 1, c: 1, d: 1 } },
    upsert: { run1: '6 read, 3 inserted, 3 updated, 0 skipped, 0 failed', run2: '3 read, 1 inserted, 2 updated, 0 skipped, 0 failed', table: { a: 9, b: 3, c: 1, d: 1 } },
    replace: { run1: '6 read, 3 inserted, 3 updated, 0 skipped, 0 failed', run2: '3 read, 1 inserted, 2 updated, 0 skipped, 0 failed', table: { a: 9, b: 3, c: 1, d: 1 } },
    insert: { run1: '6 read, 3 inserted, 0 updated, 0 skipped, 3 failed', run2: '3 read, 1 inserted, 0 updated, 0 skipped, 2 failed', table: { a: 1, b: 1, c: 1, d: 1 } }
  }
  for (const [mode, want] of Object.entries(expect)) {
    for (const batch of ['1000', '1']) {
      const name = `dup_${mode}_${batch}`
      const errors = join(dir, `${name}.errors`)
      const r1 = await runTool('mysql-write', ['--url', db.url, '-t', name, '--create', '--mode', mode, '--batch-size', batch, '--errors', errors], { input: run1 })
      t.equal(countsOf(r1.stderr, 'mysql-write'), want.run1, `${mode} batch ${batch}: run 1 counts`)
      t.equal(r1.code, mode === 'insert' ? 1 : 0)
      const r2 = await runTool('mysql-write', ['--url', db.url, '-t', name, '--mode', mode, '--batch-size', batch], { input: run2 })
      t.equal(countsOf(r2.stderr, 'mysql-write'), want.run2, `${mode} batch ${batch}: run 2 counts`)
      const table = await db.table(name)
      t.strictSame(Object.fromEntries([...table].map(([k, v]) => [k, (v as { v: number }).v])), want.table, `${mode} batch ${batch}: table`)
      if (mode === 'insert') {
        t.match(r2.stderr, /record error \[ER_DUP_ENTRY\] Duplicate entry 'a'.*_id=a, line=1/)
      }
    }
  }
})

t.test('a document as large as max_allowed_packet allows lands; a larger one is a clear record error', async (t) => {
  const [v] = await db.rows<RowDataPacket>('SELECT @@max_allowed_packet AS p')
  const max = Number(v.p)
  const fits = Math.min(16 * 1024 * 1024, max - 128 * 1024)
  const big = { _id: 'big', _source: { text: 'x'.repeat(fits - 100) + '😀' } }
  const huge = { _id: 'huge', _source: { text: 'y'.repeat(max + 1000) } }
  const small = makeRecords(10)
  const file = join(dir, 'big.ndjson')
  writeFileSync(file, ndjson([...small.slice(0, 5), big, huge, ...small.slice(5)]))
  const errors = join(dir, 'big.errors')
  const r = await runTool('mysql-write', ['--url', db.url, '-t', 'big', '--create', '--errors', errors, file])
  t.equal(r.code, 1)
  t.equal(countsOf(r.stderr, 'mysql-write'), '12 read, 11 inserted, 0 updated, 0 skipped, 1 failed')
  const [row] = await db.rows<RowDataPacket>("SELECT LENGTH(content) AS n, RIGHT(JSON_VALUE(content, '$.text'), 1) AS last FROM big WHERE id = 'big'")
  t.ok(Number(row.n) > fits - 200, 'the large document is whole')
  t.equal(row.last, '😀')
  const dead = lines((await import('node:fs')).readFileSync(errors, 'utf8')).map((l) => JSON.parse(l) as { record: { _id: string }, line: number, error: { code: string, message: string } })
  t.equal(dead.length, 1)
  t.equal(dead[0].record._id, 'huge')
  t.equal(dead[0].line, 7)
  t.equal(dead[0].error.code, 'ER_NET_PACKET_TOO_LARGE')
  t.match(dead[0].error.message, /max_allowed_packet \(\d+ bytes\)/)
})

t.test('--id-field/--content-field . and renamed columns', async (t) => {
  await db.conn.query('CREATE TABLE plain (k VARCHAR(50) COLLATE utf8mb4_nopad_bin PRIMARY KEY, doc JSON)')
  const input = '{"uid":"u1","name":"Ann"}\n{"uid":"u2","name":"Bob"}\n{"name":"no id"}\n'
  const r = await runTool('mysql-write', ['--url', db.url, '-t', 'plain', '--id-field', 'uid', '--content-field', '.', '--id-column', 'k', '--content-column', 'doc'], { input })
  t.equal(r.code, 1)
  t.match(r.stderr, /record error \[RECORD_MISSING_ID\].*line=3/)
  const table = await db.table('plain', 'k', 'doc')
  t.strictSame(table.get('u2'), { uid: 'u2', name: 'Bob' })
  t.equal(table.size, 2)
})

t.test('as a library: mysqlWrite() in a pipeline with plain objects', async (t) => {
  const { mysqlWrite, createContext } = await import('../../lib/index.js')
  const { MYSQL_WRITE_COUNTERS } = await import('../../lib/mysql/write.js')
  const { pipeline } = await import('node:stream/promises')
  const { Readable } = await import('node:stream')
  const ctx = createContext({ tool: 'lib-test', counters: MYSQL_WRITE_COUNTERS, quiet: true })
  const writer = await mysqlWrite({ connection: { url: db.url }, table: 'lib', create: true, mode: 'upsert', concurrency: 2, context: ctx })
  await pipeline(Readable.from([...makeRecords(300), { _id: 'doc-000000001', _source: { again: true } }]), writer)
  t.strictSame([ctx.stats.get('read'), ctx.stats.get('inserted'), ctx.stats.get('updated'), ctx.stats.get('failed')], [301, 300, 1, 0])
  const table = await db.table('lib')
  t.strictSame(table.get('doc-000000001'), { again: true })
})
