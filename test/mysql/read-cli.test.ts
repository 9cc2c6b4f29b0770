// mysql-read as a program: real child processes and shell pipes against the real server.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { binPath, collect, lines, runShell, runTool, scratchDir } from '../helpers/run.js'
import { testDatabase, urlFor } from '../helpers/mysql.js'
import { countsOf } from '../helpers/summary.js'
import { settled, waitFor } from '../helpers/wait.js'

const db = await testDatabase(t, 'mr_cli')
const dir = scratchDir(t)
const N = 30_000

// seq_1_to_N is MariaDB's sequence engine; a recursive CTE would do on MySQL.
await db.rows(`CREATE TABLE big (id INT NOT NULL PRIMARY KEY, grp INT NOT NULL, name VARCHAR(40) NOT NULL, updated DATETIME NOT NULL) ENGINE=InnoDB`)
await db.rows(`INSERT INTO big SELECT seq, seq % 7, CONCAT('name ', seq), '2024-01-01' + INTERVAL (seq DIV 10) SECOND FROM seq_1_to_${N}`)
await db.rows('CREATE TABLE pairs (a INT NOT NULL, b VARCHAR(20) NOT NULL, v INT, PRIMARY KEY (a, b)) DEFAULT CHARSET=utf8mb4')
await db.rows("INSERT INTO pairs SELECT seq % 50, CONCAT(CASE seq % 5 WHEN 0 THEN 'x,y%z' WHEN 1 THEN 'é,' ELSE 'k' END, seq), seq FROM seq_1_to_5000")

const url = db.url
const run = async (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> => await runTool('mysql-read', ['--url', url, ...args])
const ids = (stdout: string): string[] => lines(stdout).map((l) => (JSON.parse(l) as { _id: string })._id)
const errorLines = (stderr: string): string[] => lines(stderr).filter((l) => !/ read, .* failed in /.test(l) && !/^mysql-read: reading /.test(l))

function exactlyOnce (t: Test, got: string[], want: string[], what: string): void {
  t.equal(got.length, want.length, `${what}: ${want.length} records`)
  t.equal(new Set(got).size, got.length, `${what}: none twice`)
  t.strictSame([...got].sort(), [...want].sort(), `${what}: the very rows`)
}

t.test('usage errors: one line, a pointer to --help, exit 2, before connecting', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--query', 'DELETE FROM big'], /runs a SELECT, not DELETE/],
    [['--query', 'SELECT 1; DROP TABLE big'], /one statement/],
    [['--query', "SELECT * FROM big INTO OUTFILE '/tmp/x'"], /INTO writes its rows elsewhere/],
    [['--query', '/*!50000 DROP TABLE big */ SELECT 1'], /executable comments/],
    [['-t', 'big', '--query', 'SELECT 1'], /cannot be combined/],
    [[], /missing required option --table/],
    [['-t', 'big', '--slice', '4/4'], /invalid value for --slice: 4\/4/],
    [['-t', 'big', '--slice', 'half'], /invalid value for --slice: 'half'/],
    [['-t', 'big', '--consistent', '--slices', '2'], /--consistent .* cannot be combined with slices/],
    [['-t', 'big', '--content-column', 'name', '--columns', 'id'], /--content-column and --columns cannot be combined/],
    [['-t', 'big', '--batch-size', '0'], /invalid value for --batch-size/],
    [['-e', 'SELECT * FROM big', '--since-column', 'updated'], /with --query, --since-column needs --id-column/],
    [['-t', 'n'.repeat(65)], /invalid table name 'n{65}': a name has at most 64 characters \(this one has 65\)/],
    [['-t', 'a.b.c'], /invalid table name 'a\.b\.c': use table or database\.table/],
    [['-t', 'big', '--columns', '`id'], /invalid column name '`id': a backquoted name must be closed/],
    [['-t', 'big', '--bogus'], /unknown option --bogus/]
  ]
  for (const [args, re] of cases) {
    const r = await runTool('mysql-read', ['--url', urlFor(db.name, { port: 1 }), ...args])
    t.equal(r.code, 2, args.join(' '))
    t.equal(lines(r.stderr).length, 1, 'one line')
    t.match(r.stderr, re)
    t.match(r.stderr, /see 'mysql-read --help'/)
    t.equal(r.stdout, '')
  }
})

t.test('runtime failures: one line naming what and where, exit 1', async (t) => {
  const cases: Array<[string[], RegExp, string]> = [
    [['-t', 'nope'], /\[ER_NO_SUCH_TABLE\] table espipe_mr_cli_\d+\.nope does not exist/, 'unknown table'],
    [['-t', 'big', '--columns', 'id,nope'], /\[ER_BAD_FIELD_ERROR\] table .*big has no column nope/, 'unknown column'],
    [['-t', 'big', '--since-column', 'nope'], /has no column nope/, 'unknown since column'],
    [['-t', 'big', '--where', 'grp <'], /\[ER_PARSE_ERROR\] .*--where/, 'bad --where'],
    [['-e', 'SELECT * FROM nope'], /\[ER_NO_SUCH_TABLE\]/, 'a query on an unknown table'],
    [['-e', 'SELECT id, id FROM big'], /\[ER_DUP_FIELDNAME\]/, 'a query with two columns of one name'],
    [['-e', 'SELECT * FROM big', '--id-column', 'nope', '--checkpoint', join(dir, 'x.ckpt')], /query has no column nope/, 'unknown --id-column']
  ]
  for (const [args, re, what] of cases) {
    const r = await run(args)
    t.equal(r.code, 1, what)
    t.strictSame(errorLines(r.stderr).length, 1, `${what}: one line`)
    t.match(r.stderr, re, what)
    t.equal(r.stdout, '', `${what}: nothing on stdout`)
  }
  const unwritable = await runTool('mysql-read', ['--url', urlFor(db.name, { port: 1 }), '-t', 'big', '--checkpoint', join(dir, 'no-such-dir', 'x.ckpt')])
  t.equal(unwritable.code, 1, 'a checkpoint that cannot be saved')
  t.match(unwritable.stderr, /\[ENOENT\] cannot write checkpoint .*no-such-dir/)
  t.notMatch(unwritable.stderr, /ECONNREFUSED/, 'said before any connection is tried')
  const refused = await runTool('mysql-read', ['--url', urlFor(db.name, { port: 1 }), '-t', 'big'])
  t.equal(refused.code, 1)
  t.match(refused.stderr, /\[ECONNREFUSED\] cannot connect to MySQL at [\d.]+:1/)
  const denied = await runTool('mysql-read', ['--url', `mysql://nobody_espipe:wrong@${db.host}:${db.port}/${db.name}`, '-t', 'big'])
  t.equal(denied.code, 1)
  t.match(denied.stderr, /\[ER_ACCESS_DENIED_ERROR\]/)
  t.notMatch(denied.stderr, /wrong/, 'the password is not shown')
})

t.test('a table without a key: one streamed query, said on stderr; --since-column needs a key', async (t) => {
  await db.rows('CREATE TABLE nokey (name VARCHAR(20), n INT)')
  await db.rows("INSERT INTO nokey VALUES ('a', 1), ('b', 2), ('b', 3), (NULL, 4)")
  const r = await run(['-t', 'nokey'])
  t.equal(r.code, 0)
  t.match(r.stderr, /as one streamed query: it has no primary key or unique index on NOT NULL columns .* records have no _id/)
  t.strictSame(lines(r.stdout).map((l) => JSON.parse(l) as unknown), [
    { _index: 'nokey', _source: { name: 'a', n: 1 } },
    { _index: 'nokey', _source: { name: 'b', n: 2 } },
    { _index: 'nokey', _source: { name: 'b', n: 3 } },
    { _index: 'nokey', _source: { name: null, n: 4 } }
  ])
  const since = await run(['-t', 'nokey', '--since-column', 'n'])
  t.equal(since.code, 1)
  t.match(since.stderr, /\[ER_NO_KEY\] --since-column needs a key .* give --id-column/)
  const paged = await run(['-t', 'nokey', '--id-column', 'n', '--batch-size', '1'])
  t.equal(paged.code, 0, paged.stderr)
  t.strictSame(ids(paged.stdout), ['1', '2', '3', '4'], '--id-column pages it')
  const notUnique = await run(['-t', 'nokey', '--id-column', 'name', '--checkpoint', join(dir, 'nu.ckpt')])
  t.equal(notUnique.code, 1)
  t.match(notUnique.stderr, /\[ER_NULL_KEY\] column name is NULL|\[ER_KEY_NOT_UNIQUE\]/)
  await db.rows('DELETE FROM nokey WHERE name IS NULL')
  const again = await run(['-t', 'nokey', '--id-column', 'name', '--checkpoint', join(dir, 'nu2.ckpt')])
  t.equal(again.code, 1)
  t.match(again.stderr, /\[ER_KEY_NOT_UNIQUE\] --id-column name is not unique .*two rows have b/)
})

t.test('a composite key: ids encode every part, unambiguously, in key order', async (t) => {
  const r = await run(['-t', 'pairs', '--batch-size', '333'])
  t.equal(r.code, 0, r.stderr)
  const rows = await db.rows<RowDataPacket>('SELECT a, b FROM pairs ORDER BY a, b')
  t.strictSame(ids(r.stdout).map((id) => id.split(',').map(decodeURIComponent)), rows.map((x) => [String(x.a), x.b as string]), 'split on commas, percent-decoded: the key, in order')
  t.ok(ids(r.stdout).includes('0,x%2Cy%25z5000'), 'a part with , and % is encoded')
})

t.test('slices: 4 processes of --slice I/4, and --slices 4 in one, cover the table exactly once', async (t) => {
  for (const [table, key] of [['big', 'id'], ['pairs', 'a,b']] as const) {
    const all = (await db.rows<RowDataPacket>(`SELECT CONCAT_WS(',', ${key === 'id' ? 'id' : "a, REPLACE(REPLACE(b, '%', '%25'), ',', '%2C')"}) AS id FROM ${table}`)).map((r) => String(r.id))
    const parts = await Promise.all([0, 1, 2, 3].map(async (i) => await run(['-t', table, '--slice', `${i}/4`, '--batch-size', '1000'])))
    parts.forEach((p, i) => { t.equal(p.code, 0, p.stderr); t.match(p.stderr, new RegExp(`slice ${i}/4: `)) })
    t.ok(parts.length === 4 && parts.every((p) => ids(p.stdout).length > all.length / 8), `${table}: every slice has a share (${parts.map((p) => ids(p.stdout).length).join(', ')})`)
    exactlyOnce(t, parts.flatMap((p) => ids(p.stdout)), all, `${table}, 4 processes`)
    const one = await run(['-t', table, '--slices', '4', '--batch-size', '1000'])
    t.equal(one.code, 0, one.stderr)
    exactlyOnce(t, ids(one.stdout), all, `${table}, --slices 4`)
  }
})

t.test('| head -1: exit 0, no stack trace, the read stops', async (t) => {
  const r = await runShell(`mysql-read --url '${url}' -t big --batch-size 500 | head -1; echo "status=\${PIPESTATUS[0]}" >&2`)
  t.equal(lines(r.stdout).length, 1)
  t.match(r.stderr, /status=0/)
  t.notMatch(r.stderr, /Error|EPIPE|at .*\.js/)
  // The server notices a closed connection at its next write: give it a moment.
  const busy = async (): Promise<number> => {
    const [row] = await db.rows<RowDataPacket>(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = '${db.name}' AND INFO LIKE '%FROM \`big\`%' AND ID <> CONNECTION_ID()`)
    return Number(row.n)
  }
  t.equal(await waitFor(async () => await busy() === 0, { what: 'our statement to leave the server', timeoutMs: 5000, everyMs: 100 }), true, 'no statement of ours left on the server')
})

t.test('--content-column: mysql-write then mysql-read gives back the same records, byte for byte', async (t) => {
  const docs = [
    '{"n":9007199254740993,"d":1.10,"e":1e400,"z":-0,"s":"é 𝄞 \\u2028 \\"q\\" \\\\","deep":{"a":[1,{"b":null}]},"t":true}',
    '{ "spaced" : [ 1 , 2 ] ,"x":{"y" :"\\" :"}}',
    '{}',
    '{"big":123456789012345678901234567890.0123456789}'
  ]
  // Ids --create keeps apart byte for byte (NO PAD binary collation), numbers-as-text among them.
  const idsIn = ['a', 'A', 'a ', 'B', 'é-1', '1,2', 'x%y', '01', '1', '9007199254740993', '-0', 'long-' + 'z'.repeat(500)]
  const records = idsIn.map((id, i) => `{"_index":"docs","_id":${JSON.stringify(id)},"_source":${docs[i % docs.length]}}`)
  const input = join(dir, 'docs.ndjson')
  writeFileSync(input, [...records, '{"_index":"docs","_id":"dup","_source":{"dup":1,"dup":2}}'].join('\n') + '\n')
  // A key given twice is stored once with the last value (CONTRACT.md: the last one wins), so it comes back so.
  const expected = join(dir, 'docs.expected.ndjson')
  writeFileSync(expected, [...records, '{"_index":"docs","_id":"dup","_source":{"dup":2}}'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))).join('\n') + '\n')
  const out = join(dir, 'docs.out.ndjson')
  const w = await runShell(`mysql-write --url '${url}' -t docs --create < '${input}' && mysql-read --url '${url}' -t docs --content-column content > '${out}' && LC_ALL=C sort '${out}' | cmp - '${expected}'`, { env: { LC_ALL: 'C' } })
  t.equal(w.code, 0, w.stderr)
  const [key] = await db.rows<RowDataPacket>("SELECT COLUMN_TYPE AS type, COLLATION_NAME AS coll FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'docs' AND COLUMN_NAME = 'id'")
  t.strictSame([key.type, key.coll], ['varchar(512)', 'utf8mb4_nopad_bin'], 'the key --create makes')
  const got = lines(readFileSync(out, 'utf8')).map((l) => (JSON.parse(l) as { _id: unknown })._id)
  t.ok(got.length === idsIn.length + 1 && got.every((id) => typeof id === 'string'), 'every _id a JSON string, numbers-as-text too')
  t.strictSame([...got].sort(), [...idsIn, 'dup'].sort(), "the very ids: 01 and 1, a and 'a ' and A, kept apart")
  // The key column as --create makes it where no NO PAD collation exists (MySQL before 8): bytes.
  await db.rows('CREATE TABLE docs_bin (id VARBINARY(512) NOT NULL PRIMARY KEY, content JSON)')
  const b = await runShell(`mysql-write --url '${url}' -t docs_bin < '${input}' && mysql-read --url '${url}' -t docs_bin --content-column content | sed 's/"_index":"docs_bin"/"_index":"docs"/' | LC_ALL=C sort | cmp - '${expected}'`, { env: { LC_ALL: 'C' } })
  t.equal(b.code, 0, b.stderr)
})

t.test('--content-column: text that is not a JSON object is a failed record, dead-lettered; the rest flows', async (t) => {
  await db.rows('CREATE TABLE loose (id INT PRIMARY KEY, body TEXT)')
  await db.rows(`INSERT INTO loose VALUES (1, '{"ok":1}'), (2, 'not json'), (3, '[1,2]'), (4, NULL), (5, '{"ok":\n5}'), (6, '{"a":1.}')`)
  const errors = join(dir, 'loose.errors.ndjson')
  const r = await run(['-t', 'loose', '--content-column', 'body', '--errors', errors])
  t.equal(r.code, 1, 'exit 1: records failed')
  t.strictSame(lines(r.stdout), ['{"_index":"loose","_id":"1","_source":{"ok":1}}', '{"_index":"loose","_id":"5","_source":{"ok":5}}'])
  const dead = lines(readFileSync(errors, 'utf8')).map((l) => JSON.parse(l) as { record: { _id: string, _source: { body: unknown } }, error: { code: string } })
  t.strictSame(dead.map((d) => [d.record._id, d.error.code, d.record._source.body]), [
    ['2', 'ROW_INVALID_JSON', 'not json'],
    ['3', 'ROW_CONTENT_NOT_OBJECT', '[1,2]'],
    ['4', 'ROW_NULL_CONTENT', null],
    ['6', 'ROW_INVALID_JSON', '{"a":1.}']
  ])
  t.equal(countsOf(r.stderr, 'mysql-read'), '6 read, 2 emitted, 1 page, 0 retries, 4 failed')
})

t.test('incremental: equal timestamps, updates and inserts; each run reads exactly what changed', async (t) => {
  await db.rows('CREATE TABLE ev (id INT NOT NULL PRIMARY KEY, v INT NOT NULL, updated_at DATETIME NOT NULL, KEY (updated_at))')
  // Ten rows share each second, so pages (of 7) end in the middle of ties.
  await db.rows("INSERT INTO ev SELECT seq, 0, '2024-01-01' + INTERVAL (seq DIV 10) SECOND FROM seq_1_to_2000")
  const ckpt = join(dir, 'ev.ckpt')
  writeFileSync(ckpt, '') // as touch or mktemp leave it: start fresh
  const args = ['-t', 'ev', '--since-column', 'updated_at', '--checkpoint', ckpt, '--batch-size', '7']
  const first = await run(args)
  t.equal(first.code, 0, first.stderr)
  exactlyOnce(t, ids(first.stdout), Array.from({ length: 2000 }, (_v, i) => String(i + 1)), 'first run')
  const last = '2024-01-01 00:03:20' // the last second: rows 2000 only
  // Updated to one later second, on both sides of the cursor's key; new rows in that second and in the cursor's own.
  await db.rows("UPDATE ev SET v = 1, updated_at = '2024-01-02 00:00:00' WHERE id IN (5, 500, 1999, 1500, 3)")
  await db.rows(`INSERT INTO ev VALUES (2001, 2, '${last}'), (2002, 2, '2024-01-02 00:00:00'), (2003, 2, '2024-01-02 00:00:00'), (1000000, 2, '2024-01-02 00:00:00')`)
  const second = await run(args)
  t.equal(second.code, 0, second.stderr)
  exactlyOnce(t, ids(second.stdout), ['2001', '3', '5', '500', '1500', '1999', '2002', '2003', '1000000'], 'second run')
  t.match(second.stderr, /reading what changed after the last run/)
  const third = await run(args)
  t.equal(third.code, 0)
  t.equal(third.stdout, '', 'nothing changed: nothing read')
  const other = await run(['-t', 'ev', '--since-column', 'v', '--checkpoint', ckpt])
  t.equal(other.code, 1)
  t.match(other.stderr, /\[ECHECKPOINT\] checkpoint .* belongs to a different read/)
})

t.test('--checkpoint: kill -9 (or TERM) mid-read, rerun: nothing lost, nothing repeated but the write the kill cut', async (t) => {
  const all = Array.from({ length: N }, (_v, i) => String(i + 1))
  for (const sig of ['SIGKILL', 'SIGTERM'] as const) {
    const ckpt = join(dir, `kill-${sig}.ckpt`)
    const args = ['--url', url, '-t', 'big', '--batch-size', '500', '--checkpoint', ckpt]
    const child = spawn(process.execPath, [binPath('mysql-read'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let first = ''
    let paused = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      first += d
      // A slow consumer: the reader is mid-table, blocked on a full pipe, when the signal comes.
      if (!paused && first.length > 200_000) {
        paused = true
        child.stdout.pause()
      }
    })
    const collected = collect(child, null)
    await waitFor(() => paused, { what: '200 KB on stdout', child })
    // Blocked on the full pipe, the reader saves no more: its checkpoint stops moving.
    const emitted = (): number => { try { return (JSON.parse(readFileSync(ckpt, 'utf8')) as { emitted: number }).emitted } catch { return -1 } }
    await settled(emitted, { what: 'the checkpoint', quietMs: 300 })
    child.kill(sig)
    child.stdout.resume()
    const done = await collected
    t.equal(done.signal ?? done.code, sig === 'SIGKILL' ? 'SIGKILL' : 143, `${sig}: stopped`)
    const firstIds = ids(first.slice(0, first.lastIndexOf('\n') + 1))
    t.ok(firstIds.length > 0 && firstIds.length < N, `${sig}: first run wrote ${firstIds.length}`)
    const saved = (JSON.parse(readFileSync(ckpt, 'utf8')) as { reader: { emitted: number, complete: boolean, streams: Array<{ after: string }> } }).reader
    t.equal(saved.complete, false)
    t.ok(saved.emitted <= firstIds.length, `${sig}: the checkpoint (${saved.emitted}) never runs ahead of what was written`)
    const second = await runTool('mysql-read', args)
    t.equal(second.code, 0, second.stderr)
    t.match(second.stderr, /resuming from checkpoint/)
    const secondIds = ids(second.stdout)
    t.strictSame([...new Set([...firstIds, ...secondIds])].sort(), [...all].sort(), `${sig}: every row`)
    t.equal(secondIds[0], String(Number((JSON.parse(saved.streams[0].after) as string[])[0]) + 1), `${sig}: the rerun starts right after the checkpoint's row`)
    const repeated = firstIds.length + secondIds.length - N
    if (sig === 'SIGTERM') {
      t.equal(repeated, 0, 'SIGTERM: every line written is in the checkpoint: none repeated')
    } else {
      // Killed inside a write to the full pipe, the lines of that write that got through are
      // read but not yet in the checkpoint: only those come again (one write: at most 64 KiB).
      const repeats = secondIds.slice(0, repeated)
      t.strictSame(repeats, firstIds.slice(firstIds.length - repeated), 'SIGKILL: only the tail of the first run comes again')
      t.ok(lines(second.stdout).slice(0, repeated).join('\n').length < 65_536, `SIGKILL: ${repeated} lines repeated, fewer than one write`)
    }
  }
})

t.test('kill -9 in a real pipe into mysql-write, rerun with the checkpoint: the copy holds every row once (SQL)', async (t) => {
  const ckpt = join(dir, 'pipe.ckpt')
  const reader = ['--url', url, '-t', 'big', '--batch-size', '500', '--checkpoint', ckpt]
  const writer = ['--url', url, '-t', 'big_copy', '--create', '--errors', join(dir, 'pipe.errors')]
  const w = spawn(process.execPath, [binPath('mysql-write'), ...writer], { stdio: ['pipe', 'pipe', 'pipe'] })
  // mysql-read writes straight into mysql-write's stdin: one OS pipe, as in a shell.
  const r = spawn(process.execPath, [binPath('mysql-read'), ...reader], { stdio: ['ignore', w.stdin, 'pipe'] })
  w.stdin?.destroy()
  const writing = collect(w, null)
  const reading = collect(r, null)
  // A checkpoint file is replaced whole (renamed into place), so a read sees a whole one or none.
  const saved = (): number => { try { return (JSON.parse(readFileSync(ckpt, 'utf8')) as { reader: { emitted: number } }).reader.emitted } catch { return 0 } }
  await waitFor(() => saved() >= 5000, { what: '5000 rows saved in the checkpoint', everyMs: 25, child: r })
  r.kill('SIGKILL')
  t.equal((await reading).signal, 'SIGKILL')
  await writing // at the end of its input; a line the kill cut in half is its failed record
  const [first] = await db.rows<RowDataPacket>('SELECT COUNT(*) AS n FROM big_copy')
  t.ok(Number(first.n) >= 5000 && Number(first.n) < N, `killed mid-table: ${String(first.n)} rows copied`)
  const again = await runShell(`mysql-read ${reader.map((a) => `'${a}'`).join(' ')} | mysql-write --url '${url}' -t big_copy`)
  t.equal(again.code, 0, again.stderr)
  t.match(again.stderr, /resuming from checkpoint/)
  const [copy] = await db.rows<RowDataPacket>(`SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids FROM big_copy`)
  t.strictSame([Number(copy.n), Number(copy.ids)], [N, N], 'as many rows as the source, each once')
  const [same] = await db.rows<RowDataPacket>(`SELECT COUNT(*) AS n FROM big b JOIN big_copy c ON c.id = CAST(b.id AS CHAR)
    WHERE JSON_VALUE(c.content, '$.name') = b.name AND JSON_VALUE(c.content, '$.grp') = b.grp AND JSON_VALUE(c.content, '$.updated') = DATE_FORMAT(b.updated, '%Y-%m-%dT%H:%i:%sZ')`)
  t.equal(Number(same.n), N, 'every row of the source, value for value')
})
