// The command line as users type it (issue 11): short options with their value attached or
// apart, long ones with = or apart, explicit empty values, the original tool's spellings, and
// messages that name the option the way it was typed. Through the real binaries.
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { binPath, collect, lines, runTool, scratchDir } from '../helpers/run.js'
import { testDatabase } from '../helpers/mysql.js'
import { waitFor } from '../helpers/wait.js'

const dir = scratchDir(t)
const csv = join(dir, 'semi.csv')
writeFileSync(csv, 'id;name\n1;Ann\n2;Bob\n')
const record = '{"_id":"1","_source":{"n":1}}\n'
const db = await testDatabase(t, 'argv')

t.test('csv-read: -d; -d ; and --delimiter=; are the same option', async (t) => {
  const want = '{"_id":"1","_source":{"id":"1","name":"Ann"}}\n{"_id":"2","_source":{"id":"2","name":"Bob"}}\n'
  for (const args of [['-d;', csv], ['-d', ';', csv], ['--delimiter=;', csv], ['--delimiter', ';', csv]]) {
    const r = await runTool('csv-read', args)
    t.equal(r.code, 0, args.join(' '))
    t.equal(r.stdout, want, `${args.join(' ')}: the rows split on ;`)
  }
})

t.test('jsonl-write: -oFILE, -o FILE and --output=FILE write the same file', async (t) => {
  for (const [i, args] of [['-oa0.jsonl'], ['-o', 'a1.jsonl'], ['--output=a2.jsonl'], ['--output_file', 'a3.jsonl']].entries()) {
    const r = await runTool('jsonl-write', args, { input: record, cwd: dir })
    t.equal(r.code, 0, args.join(' '))
    t.equal(readFileSync(join(dir, `a${i}.jsonl`), 'utf8'), record, `${args.join(' ')}: the file has the record`)
  }
})

t.test('mysql-write: -uroot -h127.0.0.1 -DNAME -tNAME -c2 as the mysql client takes them', async (t) => {
  const u = new URL(db.url)
  const r = await runTool('mysql-write', [`-u${decodeURIComponent(u.username)}`, `-h${db.host}`, `-P${db.port}`, `-D${db.name}`, '-tglued', '--create', '-c2'], { input: record, env: { ...process.env, MYSQL_PWD: decodeURIComponent(u.password) } })
  t.equal(r.code, 0, r.stderr)
  t.strictSame([...await db.table('glued')], [['1', { n: 1 }]])
})

t.test('an explicitly empty password is a password (passwordless dev databases)', async (t) => {
  // root has no password on the test server: an empty one must connect, not be a usage error.
  for (const args of [['-p', ''], ['--db_pass', ''], ['--password='], ['--password', '']]) {
    const r = await runTool('mysql-write', ['--url', db.url, '-t', 'empty_pw', '--create', ...args], { input: record })
    t.equal(r.code, 0, `${JSON.stringify(args)}: ${r.stderr}`)
  }
  const [n] = await db.rows<RowDataPacket>('SELECT COUNT(*) AS n FROM empty_pw')
  t.equal(Number(n.n), 1)
  // Where an empty value means nothing, it is still a usage error, naming the option as typed.
  const table = await runTool('mysql-write', ['--url', db.url, '--db_table', ''], { input: record })
  t.equal(table.code, 2)
  t.equal(table.stderr, "mysql-write: option --db_table needs a value (see 'mysql-write --help')\n")
})

t.test("csv-read --quote '': an empty quote is a value too (quoting off)", async (t) => {
  const stray = join(dir, 'stray.csv')
  writeFileSync(stray, 'id,name\n1,say "hi\n2,b\n')
  const r = await runTool('csv-read', ['--quote', '', stray])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, '{"_id":"1","_source":{"id":"1","name":"say \\"hi"}}\n{"_id":"2","_source":{"id":"2","name":"b"}}\n')
})

t.test('messages name the option as it was typed: alias, short letter, environment variable', async (t) => {
  const cases: Array<[string, string[], string, NodeJS.ProcessEnv?]> = [
    ['csv-read', ['--source_type', 'csv', csv], 'unknown option --source_type'],
    ['csv-read', ['-z', csv], 'unknown option -z'],
    ['csv-read', ['--csv_id_column'], 'option --csv_id_column needs a value'],
    ['mysql-write', ['-t', 'x', '--db_port', 'abc'], "invalid value for --db_port: 'abc' is not a whole number"],
    ['mysql-write', ['-t', 'x', '-c0'], 'invalid value for -c: 0 (must be at least 1)'],
    ['mysql-write', ['-t', 'x', '--threads', '0'], 'invalid value for --threads: 0 (must be at least 1)'],
    ['mysql-write', ['-t', 'x', '--batch_size', 'many'], "invalid value for --batch_size: 'many' is not a whole number"],
    ['mysql-write', ['-t', 'x'], "invalid value for MYSQL_TCP_PORT: 'abc' is not a whole number", { ...process.env, MYSQL_TCP_PORT: 'abc' }],
    ['jsonl-write', ['--log_format', 'yaml'], "invalid value for --log_format: 'yaml' (choose text, json)"],
    ['mysql-write', ['--db_table'], 'option --db_table needs a value']
  ]
  for (const [tool, args, message, env] of cases) {
    const r = await runTool(tool, args, { input: '', env })
    t.equal(r.code, 2, `${tool} ${args.join(' ')}`)
    t.equal(r.stderr, `${tool}: ${message} (see '${tool} --help')\n`, `${tool} ${args.join(' ')}`)
  }
})

t.test('an option whose value is missing does not swallow the next option', async (t) => {
  const r = await runTool('mysql-write', ['-t', '--create'], { input: record })
  t.equal(r.code, 2)
  t.equal(r.stderr, "mysql-write: option -t needs a value (for a value that starts with -, write --table=VALUE) (see 'mysql-write --help')\n")
  // A value that only starts with a dash is a value when it is not one of the tool's options.
  const neg = await runTool('mysql-write', ['-t', 'x', '-c', '-1'], { input: record })
  t.equal(neg.stderr, "mysql-write: invalid value for -c: -1 (must be at least 1) (see 'mysql-write --help')\n")
})

t.test('--threads, the original tool\'s option, is accepted by every binary that had it', async (t) => {
  const csvRun = await runTool('csv-read', ['--threads', '5', '-d;', csv])
  t.equal(csvRun.code, 0)
  t.equal(lines(csvRun.stdout).length, 2)
  t.match(csvRun.stderr, /^csv-read: --threads is the original tool's option and changes nothing here: .*\n/)
  t.equal(lines(csvRun.stderr).length, 2, 'one note, then the summary')
  const jsonl = await runTool('jsonl-write', ['--threads=1', '-q'], { input: record })
  t.equal(jsonl.code, 0)
  t.equal(jsonl.stdout, record)
  t.equal(jsonl.stderr, '', '--quiet silences the note too')
  // mysql-write: --threads is -c/--concurrency (2 connections write the 2 records).
  const mw = await runTool('mysql-write', ['--url', db.url, '-t', 'threads', '--create', '--threads', '2'], { input: record + '{"_id":"2","_source":{}}\n' })
  t.equal(mw.code, 0, mw.stderr)
  t.notMatch(mw.stderr, /--threads/)
  const [n] = await db.rows<RowDataPacket>('SELECT COUNT(*) AS n FROM threads')
  t.equal(Number(n.n), 2)
})

t.test('--help anywhere on the line prints the help and exits 0, before reading anything', async (t) => {
  const r = await runTool('mysql-write', ['-t', 'x', '--help'], { input: null as unknown as string })
  t.equal(r.code, 0)
  t.match(r.stdout, /Usage\n\s+\$ mysql-write/)
  const v = await runTool('csv-read', [csv, '--version'])
  t.equal(v.code, 0)
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  t.equal(v.stdout, `${pkg.version}\n`, 'the version package.json gives, alone on its line')
  // After --, it is a file name like any other.
  const f = await runTool('csv-read', ['--', '--help'])
  t.equal(f.code, 1)
  t.match(f.stderr, /cannot read --help: no such file/)
})

t.test('each binary shows under its own name in ps', async (t) => {
  for (const tool of ['csv-read', 'jsonl-write', 'mysql-write']) {
    // Waiting on stdin (mysql-write: after connecting), so the process is there to look at.
    const child = spawn(process.execPath, [binPath(tool), ...(tool === 'mysql-write' ? ['--url', db.url, '-t', 'title', '--create'] : [])], { stdio: 'pipe' })
    const done = collect(child, null)
    // Up to 60 s: a loaded machine starts node slowly.
    const comm = (): string => readFileSync(`/proc/${child.pid ?? 0}/comm`, 'utf8').trim()
    await waitFor(() => comm() === tool, { what: `${tool} to set its process title`, timeoutMs: 60_000, everyMs: 100, child })
    t.equal(comm(), tool, `${tool}: /proc/PID/comm`)
    t.match(readFileSync(`/proc/${child.pid ?? 0}/cmdline`, 'utf8'), new RegExp(`^${tool}`), `${tool}: ps -o args`)
    child.stdin.end()
    t.equal((await done).code, 0)
  }
})
