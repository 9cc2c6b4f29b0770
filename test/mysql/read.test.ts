// mysqlRead as a library: the stream, its backpressure, retries and snapshots, against the real server.
import t from 'tap'
import type { Test } from 'tap'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import type { RowDataPacket } from 'mysql2/promise'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { createContext } from '../../lib/core/context.js'
import { EspipeError, UsageError } from '../../lib/core/errors.js'
import { Logger } from '../../lib/core/events.js'
import { readCheckpointFile } from '../../lib/core/checkpoint.js'
import { sqlLiteral, writeJsonString } from '../../lib/mysql/values.js'
import { LineBuffer } from '../../lib/mysql/line-buffer.js'
import { checkSelect } from '../../lib/mysql/query.js'
import { MYSQL_READ_COUNTERS, mysqlRead } from '../../lib/mysql/read.js'
import type { MysqlReadOptions } from '../../lib/mysql/read.js'
import type { PagedSource } from '../../lib/core/paged-source.js'
import { idFromParts } from '../../lib/mysql/rows.js'
import { timeFormatter } from '../../lib/mysql/time.js'
import { testDatabase, urlFor } from '../helpers/mysql.js'
import { scratchDir } from '../helpers/run.js'
import { TcpProxy } from '../servers/tcp-proxy.js'
import { settled, waitFor } from '../helpers/wait.js'

const db = await testDatabase(t, 'mr_lib')
const dir = scratchDir(t)
const N = 20_000
await db.rows('CREATE TABLE rows20k (id INT NOT NULL PRIMARY KEY, pad VARCHAR(200) NOT NULL)')
await db.rows(`INSERT INTO rows20k SELECT seq, REPEAT('p', 150) FROM seq_1_to_${N}`)

/** A context whose stderr lines are kept, to look at what the reader said. */
function quietContext (): { ctx: ReturnType<typeof createContext>, said: string[] } {
  const said: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _e, done) { said.push(chunk.toString()); done() } })
  const ctx = createContext({ tool: 'mysql-read', counters: MYSQL_READ_COUNTERS, logger: new Logger({ tool: 'mysql-read', stream }) })
  return { ctx, said }
}

async function readAll (opts: Partial<MysqlReadOptions>, onLine?: (n: number, reader: PagedSource) => void | Promise<void>): Promise<{ lines: string[], said: string[], ctx: ReturnType<typeof createContext> }> {
  const { ctx, said } = quietContext()
  const reader = mysqlRead({ connection: { url: db.url }, context: ctx, ...opts })
  const lines: string[] = []
  for await (const line of reader) {
    lines.push(line as string)
    await onLine?.(lines.length, reader)
  }
  return { lines, said, ctx }
}

const idsOf = (lines: string[]): string[] => lines.map((l) => (JSON.parse(l) as { _id: string })._id)
/** The record of row `i` of rows20k, written out from the table's definition. */
const rowLine = (i: number): string => `{"_index":"rows20k","_id":"${i}","_source":{"id":${i},"pad":"${'p'.repeat(150)}"}}`
/** Every row of rows20k once, each record byte for byte. */
function everyRow (t: Test, got: string[]): void {
  t.equal(got.length, N, `${N} records`)
  t.equal(new Set(got).size, N, 'none twice')
  const want = new Set(Array.from({ length: N }, (_v, i) => rowLine(i + 1)))
  t.strictSame(got.filter((l) => !want.has(l)).slice(0, 3), [], 'every record the row it was read from, byte for byte')
}

t.test('--query must be one SELECT: checked before connecting', async (t) => {
  for (const ok of ['SELECT 1', '  select * from t ;  ', '(SELECT 1) UNION (SELECT 2)', 'WITH x AS (SELECT 1) SELECT * FROM x', "SELECT ';' AS semi, `a;b` FROM t -- a comment; here\n", 'VALUES (1), (2)', "SELECT 'INTO OUTFILE' AS s", '/* lead */ SELECT 1 # end']) {
    t.doesNotThrow(() => checkSelect(ok), ok)
  }
  t.equal(checkSelect('SELECT 1 ;\n'), 'SELECT 1', 'trailing semicolons and space dropped')
  for (const [bad, re] of [
    ['UPDATE t SET a = 1', /not UPDATE/], ['', /empty/], [';', /empty/], ['SELECT 1; SELECT 2', /one statement/],
    ["SELECT 'unclosed", /unclosed ' quote/], ['SELECT /* open', /unclosed \/\* comment/], ['SELECT 1 INTO @x', /INTO/],
    ['SELECT * INTO DUMPFILE "/tmp/x" FROM t', /INTO/], ['/*M!100000 DROP TABLE t */ SELECT 1', /executable comments/], ['CALL p()', /not CALL/]
  ] as const) {
    t.throws(() => checkSelect(bad), re, bad)
  }
})

t.test('ids and cursor literals: composite ids split back; nothing from a cursor reaches SQL unchecked', async (t) => {
  t.equal(idFromParts(['42']), '42', 'one part: as it is, even with a comma')
  t.equal(idFromParts(['a,b']), 'a,b')
  const parts = ['1', 'a,b', '50%', '', '%2C']
  t.strictSame(idFromParts(parts).split(',').map(decodeURIComponent), parts)
  t.equal(sqlLiteral('bigint', '9007199254740993'), '9007199254740993', 'numbers bare: compared exactly')
  t.equal(sqlLiteral('text', "it's"), "_utf8mb4 X'69742773'", 'strings as hex with their character set')
  t.equal(sqlLiteral('binary', Buffer.from([0, 255]).toString('base64')), "X'00ff'")
  t.equal(sqlLiteral('datetime', '2024-01-02 03:04:05.5'), "'2024-01-02 03:04:05.5'")
  t.throws(() => sqlLiteral('int', '1 OR 1=1'), /invalid int cursor value/)
  t.throws(() => sqlLiteral('datetime', "2024' OR '1"), /invalid datetime cursor value/)
  t.throws(() => sqlLiteral('json', '{}'), /invalid json cursor value/)
  t.throws(() => timeFormatter('+15:00'), UsageError)
  t.equal(timeFormatter('-00:00').timestamp('2024-01-01 00:00:00'), '2024-01-01T00:00:00Z')
})

t.test('strings escaped from their UTF-8 bytes exactly as JSON.stringify escapes them', async (t) => {
  const samples: string[] = ['', 'plain', 'é 𝄞 😀 \u2028\u2029 ü', '\u007f\u0080\u00ff']
  // Every character JSON escapes, at every offset of a 4-byte word, in strings of several lengths.
  for (let c = 0; c < 0x20; c++) samples.push(String.fromCharCode(c))
  for (const special of ['"', '\\', '\n', '\u0001', '\u001f']) {
    for (let len = 1; len <= 13; len++) {
      for (let at = 0; at < len; at++) samples.push('a'.repeat(at) + special + 'é'.repeat(len - at - 1))
    }
  }
  samples.push('x'.repeat(1000) + '"' + 'y'.repeat(999), 'z'.repeat(4096))
  let same = 0
  for (const sample of samples) {
    const bytes = Buffer.from('pad' + sample + 'tail', 'utf8')
    const out = new LineBuffer()
    writeJsonString(out, bytes, 3, bytes.length - 4)
    if (out.buf.toString('utf8', 0, out.pos) === JSON.stringify(sample)) same++
    else t.fail(`differs for ${JSON.stringify(sample)}`)
  }
  t.equal(same, samples.length, `${samples.length} strings`)
})

t.test('records one string each by default; NDJSON text chunks with ndjson', async (t) => {
  const { lines } = await readAll({ table: 'rows20k', limit: 3 })
  t.strictSame(lines, [1, 2, 3].map(rowLine))
  const chunks = await readAll({ table: 'rows20k', ndjson: true, batchSize: 700 })
  const text = chunks.lines.map(String).join('')
  t.ok(chunks.lines.length < N / 10, `${chunks.lines.length} chunks for ${N} records`)
  t.ok(chunks.lines.length > 0 && chunks.lines.every((c) => String(c).endsWith('\n')), 'each chunk ends with a whole line')
  everyRow(t, text.split('\n').filter((l) => l !== ''))
  t.match(chunks.ctx.stats.describe(), new RegExp(`^${N} read, ${N} emitted, 29 pages, `))
})

t.test('backpressure: a consumer that stops reading stops the reads; one that reads on gets every row', async (t) => {
  // The table in one query: what is read while the consumer waits is what the reader holds.
  // The control, the same read unpaused, reads past the bound at once.
  for (const pause of [true, false]) {
    const { ctx } = quietContext()
    const reader = mysqlRead({ connection: { url: db.url }, table: 'rows20k', batchSize: 20_000, context: ctx })
    const ended = once(reader, 'end')
    let got = 0
    reader.on('data', () => {
      if (++got === 10 && pause) reader.pause()
    })
    await waitFor(() => got >= 10, { what: 'the first 10 rows' })
    if (pause) {
      const read = await settled(() => ctx.stats.get('read'), { what: 'the rows the reader takes from the socket', quietMs: 500 })
      t.ok(read >= 10 && read < 6000, `only ${read} of ${N} rows read while the consumer waits (the socket holds the rest)`)
      t.equal(got, 10, 'nothing handed on past the pause')
      reader.resume()
    } else {
      await waitFor(() => ctx.stats.get('read') >= 6000, { what: 'a consumer that reads on to take more than the bound' })
      t.pass('unpaused, the reader reads past the bound')
    }
    await ended
    t.equal(got, N, 'then every row')
  }
})

t.test('a connection cut mid-read: resumed after the last row handed on, nothing lost or repeated', async (t) => {
  const proxy = new TcpProxy(db.host, db.port)
  await proxy.start()
  t.teardown(async () => await proxy.close())
  let cuts = 0
  const { lines, ctx, said } = await readAll({ connection: { url: urlFor(db.name, { host: '127.0.0.1', port: proxy.port }) }, table: 'rows20k', batchSize: 3000, retry: { retries: 5, maxWaitMs: 200 } }, (n) => {
    if (n === 4500 || n === 12_345) { cuts++; proxy.cutAll() }
  })
  t.equal(cuts, 2)
  everyRow(t, lines)
  t.strictSame(idsOf(lines).slice(0, 5), ['1', '2', '3', '4', '5'], 'in key order')
  t.ok(ctx.stats.get('retries') >= 2, `${ctx.stats.get('retries')} retries`)
  t.match(said.join(''), /resuming after the last row read; retry 1\/5/)
})

t.test('the server away for a moment mid-read (connections refused): reconnected with backoff, nothing lost', async (t) => {
  const proxy = new TcpProxy(db.host, db.port)
  await proxy.start()
  t.teardown(async () => await proxy.close())
  let back: Promise<void> | undefined
  const { lines, ctx, said } = await readAll({ connection: { url: urlFor(db.name, { host: '127.0.0.1', port: proxy.port }) }, table: 'rows20k', batchSize: 3000, retry: { retries: 8, maxWaitMs: 300 } }, (n) => {
    if (n !== 5000) return
    proxy.setDown(true)
    back = sleep(800).then(() => proxy.setDown(false))
  })
  await back
  everyRow(t, lines)
  t.ok(ctx.stats.get('retries') >= 2, `${ctx.stats.get('retries')} retries, some of them refused`)
  t.equal(ctx.fatal, undefined)
  t.notMatch(said.join(''), /cannot connect/, 'a refused reconnect is a retry, not the end')
})

t.test('--consistent: one snapshot (rows committed meanwhile unseen); without it, rows ahead of the cursor are read', async (t) => {
  await db.rows('CREATE TABLE snap (id INT NOT NULL PRIMARY KEY, v INT)')
  await db.rows('INSERT INTO snap SELECT seq, 0 FROM seq_1_to_5000')
  for (const consistent of [true, false]) {
    await db.rows('DELETE FROM snap WHERE id > 5000')
    await db.rows('UPDATE snap SET v = 0')
    // Committed while the reader is still far from the end (it reads ahead only what its buffer holds).
    const { lines } = await readAll({ table: 'snap', batchSize: 100, consistent }, async (n) => {
      if (n !== 50) return
      await db.rows('INSERT INTO snap VALUES (9000, 1)')
      await db.rows('UPDATE snap SET v = 1 WHERE id = 4999')
    })
    const sources = lines.map((l) => JSON.parse(l) as { _id: string, _source: { v: number } })
    const late = sources.filter((s) => s._source.v === 1).map((s) => s._id)
    t.strictSame(late, consistent ? [] : ['4999', '9000'], consistent ? 'consistent: the snapshot of the start' : 'paged: later commits ahead of the cursor are seen')
  }
})

t.test('--consistent cannot resume in another snapshot: a cut connection stops the read, one line', async (t) => {
  const proxy = new TcpProxy(db.host, db.port)
  await proxy.start()
  t.teardown(async () => await proxy.close())
  const { ctx } = quietContext()
  ctx.endOnFatal = true
  const reader = mysqlRead({ connection: { url: urlFor(db.name, { host: '127.0.0.1', port: proxy.port }) }, table: 'rows20k', batchSize: 3000, consistent: true, context: ctx })
  let n = 0
  for await (const _line of reader) if (++n === 1000) proxy.cutAll()
  t.ok(n < N, `stopped after ${n}`)
  t.ok(ctx.fatal instanceof EspipeError)
  t.match((ctx.fatal as Error).message, /a --consistent read cannot resume in another snapshot/)
})

t.test('--checkpoint in a library pipeline: saved as handed, resumed after', async (t) => {
  const file = `${dir}/lib.ckpt`
  const first = await readAll({ table: 'rows20k', checkpoint: file, limit: 7000, batchSize: 2500 })
  t.equal(first.lines.length, 7000)
  const state = readCheckpointFile(file)?.reader
  t.strictSame(state?.streams[0].after, '["7000"]')
  t.equal(state?.emitted, 7000)
  t.equal(state?.complete, false)
  const second = await readAll({ table: 'rows20k', checkpoint: file, batchSize: 2500 })
  t.strictSame(idsOf(second.lines).slice(0, 2), ['7001', '7002'])
  everyRow(t, [...first.lines, ...second.lines])
  t.equal(readCheckpointFile(file)?.reader?.complete, true)
  const out: string[] = []
  const third = mysqlRead({ connection: { url: db.url }, table: 'rows20k', checkpoint: file, context: quietContext().ctx })
  await pipeline(third, new Writable({ objectMode: true, write (l: string, _e, done) { out.push(l); done() } }))
  t.strictSame(out, [], 'nothing new')
})

t.test('--slices with --checkpoint: stopped by --limit, resumed with the same ranges, every row once', async (t) => {
  const file = `${dir}/slices.ckpt`
  const first = await readAll({ table: 'rows20k', checkpoint: file, slices: 3, limit: 4000, batchSize: 700 })
  t.equal(first.lines.length, 4000)
  const state = readCheckpointFile(file)?.reader
  t.equal(state?.streams.length, 3, 'three ranges kept')
  t.equal((state?.state.ranges as unknown[]).length, 3)
  // Slices still connecting when --limit was reached close their connections too.
  const open = async (): Promise<number> => {
    const [row] = await db.rows<RowDataPacket>(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = '${db.name}' AND ID <> CONNECTION_ID()`)
    return Number(row.n)
  }
  t.equal(await waitFor(async () => await open() === 0, { what: 'the connections of the read to close', timeoutMs: 2000, everyMs: 50 }), true, 'no connection of the read left open (within 2 s)')
  const second = await readAll({ table: 'rows20k', checkpoint: file, slices: 3, batchSize: 700 })
  everyRow(t, [...first.lines, ...second.lines])
  await t.rejects(readAll({ table: 'rows20k', checkpoint: file, slices: 4 }), /belongs to a different read/, 'another slicing refuses it')
})

t.test('--since-column on a nullable column: NULL rows are counted and said, not silently dropped', async (t) => {
  await db.rows('CREATE TABLE nul (id INT NOT NULL PRIMARY KEY, ts DATETIME NULL)')
  await db.rows("INSERT INTO nul VALUES (1, '2024-01-01'), (2, NULL), (3, '2024-01-02'), (4, NULL)")
  const { lines, said } = await readAll({ table: 'nul', sinceColumn: 'ts' })
  t.strictSame(idsOf(lines), ['1', '3'])
  t.match(said.join(''), /(?<![\d,])2 rows of table .*nul have NULL in ts and are not read/)
})

t.test('what MariaDB takes for JSON and JSON does not is a failed record; geometry is GeoJSON', async (t) => {
  await db.rows('CREATE TABLE lax (id INT PRIMARY KEY, j JSON, g POINT)')
  await db.rows(`INSERT INTO lax VALUES (1, '{"a":1.}', POINT(1, 2)), (2, '["\\\\x"]', NULL), (3, '{"ok":"\\\\u00e9\\\\n"}', NULL)`)
  const { lines, ctx } = await readAll({ table: 'lax' })
  t.strictSame(lines, ['{"_index":"lax","_id":"3","_source":{"id":3,"j":{"ok":"\\u00e9\\n"},"g":null}}'])
  t.equal(ctx.failures.count, 2)
  await db.rows("UPDATE lax SET j = '{}' WHERE id < 3")
  const fixed = await readAll({ table: 'lax', columns: ['g'], limit: 1 })
  t.strictSame(fixed.lines, ['{"_index":"lax","_id":"1","_source":{"g":{"type": "Point", "coordinates": [1, 2]}}}'])
  await t.rejects(readAll({ query: 'SELECT g FROM lax' }), /column g is a geometry: select ST_AsGeoJSON\(g\)/)
})

t.test('a query: as written; with --where and --columns wrapped; paged by --id-column when asked', async (t) => {
  const asWritten = await readAll({ query: 'SELECT id, LENGTH(pad) AS len FROM rows20k ORDER BY id DESC LIMIT 3' })
  t.strictSame(asWritten.lines, ['{"_source":{"id":20000,"len":150}}', '{"_source":{"id":19999,"len":150}}', '{"_source":{"id":19998,"len":150}}'], 'its own ORDER BY holds; no _id without --id-column')
  const filtered = await readAll({ query: 'SELECT id, id * 2 AS twice FROM rows20k', where: 'twice > 39990', columns: ['twice'], idColumns: ['id'] })
  t.strictSame([...filtered.lines].sort(), ['{"_id":"19996","_source":{"twice":39992}}', '{"_id":"19997","_source":{"twice":39994}}', '{"_id":"19998","_source":{"twice":39996}}', '{"_id":"19999","_source":{"twice":39998}}', '{"_id":"20000","_source":{"twice":40000}}'], 'filtered, only the asked columns, ids')
  const paged = await readAll({ query: 'SELECT id FROM rows20k WHERE id % 2 = 0', idColumns: ['id'], slices: 3, batchSize: 1000 })
  t.strictSame([...paged.lines].sort(), Array.from({ length: N / 2 }, (_v, i) => `{"_id":"${2 * i + 2}","_source":{"id":${2 * i + 2}}}`).sort(), 'every even id once, as its record')
})
