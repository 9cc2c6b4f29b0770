import t from 'tap'
import { ANTHROPIC_VERSION, DEFAULT_MODEL } from '../../lib/explain/ai.js'
import { scrubSecrets } from '../../lib/explain/scrub.js'
import { startAnthropicStub } from '../servers/anthropic-stub.js'
import { closedPort, loggedError, loggedRecordError, run } from '../helpers/explain-run.js'

// The --ai path against a loopback stand-in for the Messages API: what is sent, that no
// secret is, and the fallback to the rule-based explanation whenever Claude cannot answer.

const KEY = 'sk-ant-api03-test-key-0123456789'
const secrets = {
  urlPassword: 'Hunter2-url-pass',
  mysqlPwd: 'Mysql-Pwd-Env-42',
  esPassword: 'Es-Pass-Env-77',
  bearer: 'eyJhbGciOiJIUzI1NiJ9.tokenpart',
  assigned: 'Assigned-Secret-9'
}
// A mysql-write log whose messages carry secrets in every form the scrubber must catch. The
// first line is written by hand: our Logger would already have masked the URL's password.
const log =
  `mysql-write: error [ECONNREFUSED] connect ECONNREFUSED 10.1.2.3:3306 (tried mysql://app:${secrets.urlPassword}@10.1.2.3:3306/shop) (host=10.1.2.3, port=3306, table=orders)\n` +
  loggedRecordError('mysql-write', 'json', 'ER_DATA_TOO_LONG', `Data too long for column 'note' at row 1; password=${secrets.assigned} Authorization: Bearer ${secrets.bearer}`, { table: 'orders', id: 'o-17', line: 17 }) +
  loggedRecordError('mysql-write', 'text', 'ER_DATA_TOO_LONG', `Data too long for column 'note' at row 1; password=${secrets.assigned} Authorization: Bearer ${secrets.bearer}`, { table: 'orders', id: 'o-18', line: 18 }) +
  loggedError('mysql-write', 'text', Object.assign(new Error(`handshake failed, client sent ${secrets.mysqlPwd} and ${secrets.esPassword}`), { code: 'EHANDSHAKE' }), { host: '10.1.2.3', port: 3306 })
const env = { ANTHROPIC_API_KEY: KEY, MYSQL_PWD: secrets.mysqlPwd, ES_PASSWORD: secrets.esPassword, ANTHROPIC_MODEL: '' }

const stub = await startAnthropicStub({ status: 200, text: 'Claude says: start MariaDB on 10.1.2.3.' })
t.teardown(stub.close)

t.test('the request: endpoint, headers, model, content, and no secret', async (t) => {
  stub.mode = { status: 200, text: 'Claude says: start MariaDB on 10.1.2.3.' }
  const before = stub.requests.length
  const r = await run('explain-errors', ['--ai'], { input: log, env: { ...env, ANTHROPIC_BASE_URL: stub.url } })
  t.equal(r.code, 0)
  t.equal(stub.requests.length, before + 1, 'one request')
  const req = stub.requests[before]
  t.equal(req.method, 'POST')
  t.equal(req.url, '/v1/messages')
  t.equal(req.headers['x-api-key'], KEY)
  t.equal(req.headers['anthropic-version'], ANTHROPIC_VERSION)
  t.match(req.headers['content-type'], /^application\/json/)
  t.equal(req.body.model, DEFAULT_MODEL)
  t.ok((req.body.max_tokens ?? 0) > 0)
  t.match(req.body.system, /espipe/)
  t.equal(req.body.messages?.length, 1)
  t.equal(req.body.messages?.[0].role, 'user')
  const content = req.body.messages?.[0].content ?? ''
  t.match(content, 'ECONNREFUSED')
  t.match(content, '10.1.2.3')
  t.match(content, 'orders')
  t.match(content, '"count": 2', 'the grouped count')
  t.match(content, 'Connection refused', 'the rule-based findings')
  for (const [name, s] of Object.entries(secrets)) t.notMatch(req.raw, s, `${name} is not sent`)
  t.notMatch(req.raw, KEY, 'the API key is not in the body')
  t.match(r.stdout, /^Claude \(claude-[\w.-]+\):\n\nClaude says: start MariaDB on 10\.1\.2\.3\.\n/)
  t.match(r.stdout, '--- rule-based explanation ---')
  t.match(r.stdout, 'Nothing accepted a connection at 10.1.2.3:3306.')
  for (const [name, s] of Object.entries(secrets)) t.notMatch(r.stdout, s, `${name} is not printed either`)
})

t.test('--model and ANTHROPIC_MODEL choose the model', async (t) => {
  stub.mode = { status: 200, text: 'ok' }
  await run('explain-errors', ['--ai', '--model', 'claude-haiku-4-5'], { input: log, env: { ...env, ANTHROPIC_BASE_URL: stub.url } })
  t.equal(stub.requests[stub.requests.length - 1].body.model, 'claude-haiku-4-5')
  await run('explain-errors', ['--ai'], { input: log, env: { ...env, ANTHROPIC_BASE_URL: stub.url, ANTHROPIC_MODEL: 'claude-opus-4-1' } })
  t.equal(stub.requests[stub.requests.length - 1].body.model, 'claude-opus-4-1')
})

t.test('fallback to the rules, with one line saying why', async (t) => {
  const refused = `http://127.0.0.1:${await closedPort()}`
  const fallbacks: Array<[string, () => void, string[], Record<string, string>, RegExp]> = [
    ['500', () => { stub.mode = { status: 500 } }, [], { ANTHROPIC_BASE_URL: stub.url }, /AI explanation not used: the API answered 500: api_error: Internal server error/],
    ['429', () => { stub.mode = { status: 429 } }, [], { ANTHROPIC_BASE_URL: stub.url }, /AI explanation not used: the API answered 429: rate_limit_error: /],
    ['timeout', () => { stub.mode = { status: 'hang' } }, ['--timeout', '1'], { ANTHROPIC_BASE_URL: stub.url }, /AI explanation not used: no answer from http:\/\/127\.0\.0\.1:\d+\/v1\/messages within 1 s \(--timeout\)/],
    ['refused', () => {}, [], { ANTHROPIC_BASE_URL: refused }, /AI explanation not used: could not reach http:\/\/127\.0\.0\.1:\d+\/v1\/messages: ECONNREFUSED/],
    ['no key', () => {}, [], { ANTHROPIC_BASE_URL: stub.url, ANTHROPIC_API_KEY: '' }, /AI explanation not used: ANTHROPIC_API_KEY is not set; the explanation above is rule-based\.\n$/]
  ]
  for (const [name, setup, args, extraEnv, why] of fallbacks) {
    setup()
    const before = stub.requests.length
    const r = await run('explain-errors', ['--ai', ...args], { input: log, env: { ...env, ...extraEnv } })
    t.equal(r.code, 0, `${name}: exit 0, an explanation was printed`)
    t.match(r.stdout, /^3 problems in 4 errors\n/, `${name}: the rule-based explanation`)
    t.match(r.stdout, 'Nothing accepted a connection at 10.1.2.3:3306.')
    t.match(r.stdout, why, `${name}: says why`)
    t.equal(r.stdout.match(/AI explanation not used/g)?.length, 1, `${name}: one line`)
    if (name === 'no key' || name === 'refused') t.equal(stub.requests.length, before, `${name}: nothing reached the stand-in`)
  }
  stub.mode = { status: 500 }
  const json = await run('explain-errors', ['--ai', '--format', 'json'], { input: log, env: { ...env, ANTHROPIC_BASE_URL: stub.url } })
  t.equal(json.code, 0)
  t.match(JSON.parse(json.stdout), { ai: { used: false, reason: /^the API answered 500/ }, errors: 4 })
})

t.test('--ai-errors on another binary asks Claude about that run at exit', async (t) => {
  stub.mode = { status: 200, text: 'Claude: row 2 has an extra comma.' }
  const dir = t.testdir({ 'w.csv': 'id,name\n1,a,extra\n2,b\n' })
  const before = stub.requests.length
  const r = await run('csv-read', ['--ai-errors', `${dir}/w.csv`], { env: { ...env, ANTHROPIC_BASE_URL: stub.url } })
  t.equal(r.code, 1, 'the run still fails')
  t.equal(r.stdout, '{"_id":"2","_source":{"id":"2","name":"b"}}\n', 'stdout holds only records')
  t.match(r.stderr, 'Claude: row 2 has an extra comma.')
  t.match(r.stderr, 'A CSV row has the wrong number of fields [csv-read, 1 record')
  t.equal(stub.requests.length, before + 1)
  t.match(stub.requests[before].body.messages?.[0].content, 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH')
})

t.test('scrubSecrets', async (t) => {
  const env = { MYSQL_URL: 'mysql://app:url%2Fpass@db:3306/x', ES_API_KEY: 'ZXNfa2V5X3ZhbHVl' }
  const cases: Array<[string, string]> = [
    ['mysql://app:pw1@db:3306/x', 'mysql://app:*****@db:3306/x'],
    ['--password=abc123 -u app', '--password=***** -u app'],
    ['MYSQL_PWD=s3cr3t ES_API_KEY: key', 'MYSQL_PWD=***** ES_API_KEY: *****'],
    ['{"api_key":"abc","user":"u"}', '{"api_key":"*****","user":"u"}'],
    ['Authorization: ApiKey Zm9vOmJhcg==', 'Authorization: ApiKey *****'],
    ['key sk-ant-api03-abcDEF_12-x here', 'key ***** here'],
    ["Access denied for user 'root'@'localhost' (using password: YES)", "Access denied for user 'root'@'localhost' (using password: YES)"],
    ['sent url/pass and ZXNfa2V5X3ZhbHVl', 'sent ***** and *****'],
    ['token ' + 'Ab1'.repeat(16), 'token *****'],
    ['/data/exports/customers_final_version_of_the_export_2024', '/data/exports/customers_final_version_of_the_export_2024']
  ]
  for (const [input, want] of cases) t.equal(scrubSecrets(input, [], env), want, input)
})
