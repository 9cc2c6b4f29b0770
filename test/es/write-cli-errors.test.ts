// es-write as a program, when things go wrong: record errors and their dead letters, usage
// errors, servers that are not there, explanations. Real child processes against a test server.
import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { binPath, collect, runShell, runTool, scratchDir } from '../helpers/run.js'

const dir = scratchDir(t)

let server: EsTestServer
t.before(async () => { server = await startEsServer() })
t.teardown(async () => await server.close())

t.test('a mapping conflict: that record in the dead-letter file with the reason, the rest indexed, exit 1', async (t) => {
  const input = join(dir, 'conflict.ndjson')
  const errors = join(dir, 'conflict-errors.ndjson')
  writeFileSync(input, ['{"_id":"1","_source":{"n":1}}', '{"_id":"2","_source":{"n":"two","big":9007199254740993}}', '{"_id":"3","_source":{"n":3}}', ''].join('\n'))
  const r = await runTool('es-write', ['--url', server.url, '--index', 'conflict', '--errors', errors, input])
  t.equal(r.code, 1)
  t.match(r.stderr, /es-write: 3 read, 2 created, 0 updated, 0 deleted, 0 skipped, 1 failed, 0 retries in .* — failed records in .*conflict-errors\.ndjson/)
  const dead = readFileSync(errors, 'utf8')
  t.match(dead, /^\{"record":\{"_id":"2","_source":\{"n":"two","big":9007199254740993\}\},"line":2,"error":\{"code":"document_parsing_exception","message":"\[1:\d+\] failed to parse field \[n\] of type \[long\] in document with id '2'/)
  t.equal(server.storedSources('conflict').size, 2)
  const explained = await runTool('explain-errors', [errors])
  t.match(explained.stdout, /A value does not fit its field in the Elasticsearch mapping \[1 record, document_parsing_exception\]\n\s+Elasticsearch refused documents whose field 'n' does not fit its mapping \(type long\) in index conflict\./)
  t.match(explained.stdout, /\$ curl -u USER 'http:\/\/127\.0\.0\.1:\d+\/conflict\/_mapping\/field\/n\?pretty'/)
  // Fixed and replayed, as the man page says.
  const replay = await runShell(`jq -c '.record | ._source.n = 2' ${errors} | es-write --url ${server.url} --index conflict`)
  t.equal(replay.code, 0, replay.stderr)
  t.equal(server.storedSources('conflict').size, 3)
})

t.test('usage errors: exit 2, one line, a pointer to --help', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--op', 'merge'], /^es-write: invalid value for --op: 'merge' \(choose index, create, update, upsert, delete\) \(see 'es-write --help'\)$/],
    [['--batch-bytes', '5xb'], /^es-write: invalid value for --batch-bytes: '5xb'/],
    [['--batch-size', 'many'], /^es-write: invalid value for --batch-size: 'many' is not a whole number/],
    [['--bogus'], /^es-write: unknown option --bogus/],
    [['--create-index'], /^es-write: --create-index needs --index/],
    [['--index', 'x', '--create-index', '--mappings', join(dir, 'nope.json')], /^es-write: error \[ENOENT\] cannot read --mappings/],
    [['--flush-interval', 'soon'], /^es-write: invalid value for --flush-interval: 'soon'/],
    [['--timeout', '0'], /^es-write: invalid value for --timeout: '0' \(more than 0\)/],
    [['--es_url', `${server.url}/logs/_search?q=level:warn`], /^es-write: --es_url has a query string \(\?q=level:warn\): es-write writes every record it reads/],
    [['--url', `${server.url}/logs/_search?size=5`], /^es-write: --url has a query string \(\?size=5\)/],
    [['--url', `${server.url}/a/_search`, '--index', 'b'], /^es-write: --url names index a and --index says b: give the index once \(see 'es-write --help'\)$/],
    [['--url', `${server.url}/nosuch`], new RegExp(`^es-write: --url ${server.url}/nosuch has a path \\(/nosuch\\), and GET /nosuch answered 404 \\(no index nosuch\\), not a node's root: give the node's URL and the index apart, --url ${server.url} --index nosuch \\(or --url ${server.url}/nosuch/_search\\); keep a path only for a proxy that serves the cluster under it \\(see 'es-write --help'\\)$`)]
  ]
  for (const [args, line] of cases) {
    const r = await runTool('es-write', ['--url', server.url, ...args], { input: '' })
    const l = r.stderr.trim().split('\n').filter((x) => !/^es-write: 0 read/.test(x))
    t.equal(l.length, 1, `${args.join(' ')}: one line (and for a fatal error, the summary)`)
    t.match(l[0], line)
    t.equal(r.code, line.source.includes('ENOENT') ? 1 : 2, `${args.join(' ')}: exit status`)
  }
  const help = await runTool('es-write', ['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage\n\s+\$ es-write \[--index NAME\] \[options\] \[FILE\.\.\.\]/)
  t.match(help.stdout, /Examples\n\s+\$ es-read --index logs \| es-write --index logs-copy --create-index/)
})

t.test('records whose _index is empty, not a string, or absent: each dead-lettered with what is wrong', async (t) => {
  const errors = join(dir, 'index-errors.ndjson')
  const input = ['{"_index":"","_id":"e","_source":{}}', '{"_index":7,"_id":"n","_source":{}}', '{"_index":null,"_id":"z","_source":{}}', '{"_id":"a","_source":{}}', '{"_index":"kept","_id":"k","_source":{"x":1}}', ''].join('\n')
  const r = await runTool('es-write', ['--url', server.url, '--errors', errors], { input })
  t.equal(r.code, 1)
  const dead = readFileSync(errors, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number, error: { code: string, message: string } })
  t.strictSame(dead.map((d) => [d.line, d.error.code, d.error.message]), [
    [1, 'RECORD_MISSING_INDEX', "record's _index is empty: give it an index name, or give --index"],
    [2, 'RECORD_MISSING_INDEX', "record's _index is a number, not an index name"],
    [3, 'RECORD_MISSING_INDEX', "record's _index is null, not an index name"],
    [4, 'RECORD_MISSING_INDEX', 'record has no _index, and no --index was given']
  ])
  t.equal(server.storedSource('kept', 'k'), '{"x":1}')
})

t.test('a server that is not there or refuses the password: exit 1 at once, without waiting for input', async (t) => {
  const locked = await startEsServer({ auth: { basic: { username: 'elastic', password: 'hunter2-secret' } } })
  t.teardown(async () => await locked.close())
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['--url', 'http://127.0.0.1:9'], {}, /^es-write: error \[ECONNREFUSED\] cannot reach the cluster at http:\/\/127\.0\.0\.1:9: connection refused/],
    [['--url', locked.url, '--username', 'elastic'], { ES_PASSWORD: 'wrong-secret' }, /^es-write: error \[security_exception\] authentication failed at/]
  ]
  for (const [args, env, line] of cases) {
    // stdin stays open: es-write must not read it before the server answered.
    const r = await collect(spawn(process.execPath, [binPath('es-write'), ...args], { env: { ...process.env, ...env } }), null)
    t.equal(r.code, 1)
    t.match(r.stderr.split('\n')[0], line)
    t.notMatch(r.stderr, /wrong-secret|hunter2|\n\s+at /, 'no secret, no stack trace')
  }
  const ok = await runTool('es-write', ['--es_url', `${locked.url}/aliased/_search`, '--es_user', 'elastic', '--es_pass', 'hunter2-secret', '--batch_size', '10', '--threads', '2'], { input: '{"_id":"a","_source":{"x":1}}\n' })
  t.equal(ok.code, 0, ok.stderr)
  t.equal(locked.storedSource('aliased', 'a'), '{"x":1}', "the original tool's options")
})

t.test('--simple-errors: a failed run explains itself at exit', async (t) => {
  const r = await runTool('es-write', ['--url', server.url, '--index', 'explained', '--op', 'update', '--simple-errors'], { input: '{"_id":"nope","_source":{"a":1}}\n' })
  t.equal(r.code, 1)
  t.match(r.stderr, /An update found no document to update \[es-write, 1 record, document_missing_exception\]/)
  t.match(r.stderr, /es-write --op upsert creates what is missing/)
})

t.test('--log-format json: start, summary with counts, record errors with code and context', async (t) => {
  const r = await runTool('es-write', ['--url', server.url, '--index', 'json', '--log-format', 'json', '--op', 'update'], { input: '{"_id":"missing","_source":{"a":1}}\n{"_source":{"a":2}}\n' })
  t.equal(r.code, 1)
  const events = r.stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { event: string, code?: string, context?: Record<string, unknown>, counts?: Record<string, number> })
  // The partial update's warning (es-write(1), PARTIAL UPDATES) is an event of its own.
  t.strictSame(events.map((e) => e.event), ['start', 'info', 'record-error', 'record-error', 'summary'])
  t.match(events[1], { level: 'warn', message: /^--op update is a partial update: / })
  t.hasStrict(events[2], { code: 'RECORD_MISSING_ID', context: { line: 2 } })
  t.hasStrict(events[3], { code: 'document_missing_exception', context: { index: 'json', _id: 'missing', line: 1 } })
  t.hasStrict(events[4]?.counts, { read: 2, updated: 0, failed: 2 })
})
