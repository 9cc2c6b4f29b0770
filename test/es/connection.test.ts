// How es-read reaches a cluster, as the cluster sees it: the Authorization header each way of
// giving credentials produces, TLS with --ca-cert and --insecure, an Elastic Cloud id, and the
// identification headers. es-read as a user runs it, against the ES test server over
// loopback HTTP and HTTPS.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsServerOptions, EsTestServer, RequestRecord } from '../servers/es/server.js'
import { binPath, collect, lines, scratchDir } from '../helpers/run.js'
import type { RunResult } from '../helpers/run.js'

const dir = scratchDir(t)
const CERT = join(dir, 'cert.pem')
const DOCS = [{ _id: 'a', _source: { n: 1 } }, { _id: 'b', _source: { n: 2 } }]
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

// Before any server starts: a spawnSync would stop this process's servers answering.
const openssl = spawnSync('openssl', [
  'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', CERT, '-days', '1',
  '-subj', '/CN=es.test', '-addext', 'subjectAltName=IP:127.0.0.1'
], { encoding: 'utf8' })
if (openssl.status !== 0) throw new Error(`openssl could not make a certificate: ${openssl.stderr}`)
const TLS = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(CERT) }

async function run (args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return await collect(spawn(process.execPath, [binPath('es-read'), '--index', 'docs', ...args], { env: { ...process.env, ...env }, stdio: 'pipe' }))
}

async function server (opts: EsServerOptions = {}): Promise<EsTestServer> {
  const s = await startEsServer(opts)
  t.teardown(async () => await s.close())
  s.addDocs('docs', DOCS)
  return s
}

/** The requests of one run, from where the server's log stood before it. */
function since (s: EsTestServer, from: number): RequestRecord[] {
  return s.requests.slice(from)
}

t.test('credentials reach the server as the Authorization header the client sent', async (t) => {
  const s = await server({ auth: { basic: { username: 'elastic', password: 'p@ss:w%rd' }, apiKey: { id: 'kid', key: 'k3y-value' } } })
  const host = s.url.replace('http://', '')
  const cases: Array<[string, string[], NodeJS.ProcessEnv, string]> = [
    ['in the URL, percent-encoded', ['--url', `http://elastic:p%40ss%3Aw%25rd@${host}`], {}, basic('elastic', 'p@ss:w%rd')],
    ['--username/--password', ['--url', s.url, '--username', 'elastic', '--password', 'p@ss:w%rd'], {}, basic('elastic', 'p@ss:w%rd')],
    ['ES_USERNAME/ES_PASSWORD', ['--url', s.url], { ES_USERNAME: 'elastic', ES_PASSWORD: 'p@ss:w%rd' }, basic('elastic', 'p@ss:w%rd')],
    ['the URL\'s over --username/--password', ['--url', `http://elastic:p%40ss%3Aw%25rd@${host}`, '--username', 'bob', '--password', 'wrong'], {}, basic('elastic', 'p@ss:w%rd')],
    ['--api-key id:key', ['--url', s.url, '--api-key', 'kid:k3y-value'], {}, 'ApiKey ' + Buffer.from('kid:k3y-value').toString('base64')],
    ['--api-key in base64', ['--url', s.url, '--api-key', Buffer.from('kid:k3y-value').toString('base64')], {}, 'ApiKey ' + Buffer.from('kid:k3y-value').toString('base64')],
    ['--api-key over a URL\'s user and password', ['--url', `http://elastic:wrong@${host}`, '--api-key', 'kid:k3y-value'], {}, 'ApiKey ' + Buffer.from('kid:k3y-value').toString('base64')]
  ]
  for (const [name, args, env, header] of cases) {
    const from = s.requests.length
    const r = await run(args, env)
    t.equal(r.code, 0, `${name}: ${r.stderr}`)
    t.equal(lines(r.stdout).length, DOCS.length, `${name}: every document`)
    const seen = since(s, from)
    t.ok(seen.length > 0 && seen.every((q) => q.headers.authorization === header), `${name}: ${header.split(' ')[0]} on every request`)
    t.notMatch(r.stderr, /p@ss|w%rd|k3y-value/, `${name}: no secret on stderr`)
  }
  const none = await run(['--url', s.url])
  t.equal(none.code, 1)
  t.match(none.stderr, /authentication failed|missing authentication credentials/, 'no credentials: refused, in one line')
})

t.test('TLS: --ca-cert trusts the cluster\'s CA, nothing else does, and --insecure skips the check with a warning', async (t) => {
  const s = await server({ tls: TLS })
  const untrusted = await run(['--url', s.url, '--retries', '0'])
  t.equal(untrusted.code, 1, 'a certificate no CA of ours signed is refused')
  t.match(untrusted.stderr, /self[- ]signed certificate/)
  t.equal(s.requests.length, 0, 'no request got through')

  for (const [name, args, env] of [['--ca-cert', ['--url', s.url, '--ca-cert', CERT], {}], ['ES_CA_CERT', ['--url', s.url], { ES_CA_CERT: CERT }]] as const) {
    const from = s.requests.length
    const r = await run([...args], env)
    t.equal(r.code, 0, `${name}: ${r.stderr}`)
    t.equal(lines(r.stdout).length, DOCS.length, `${name}: every document`)
    t.notMatch(r.stderr, /--insecure/)
    t.ok(since(s, from).every((q) => q.tls === 'TLSv1.3'), `${name}: over TLS 1.3, nothing pinned`)
  }

  const insecure = await run(['--url', s.url, '--insecure'])
  t.equal(insecure.code, 0, insecure.stderr)
  t.equal(lines(insecure.stdout).length, DOCS.length)
  t.match(insecure.stderr, /--insecure: the server's TLS certificate is not checked/)

  const missing = await run(['--url', s.url, '--ca-cert', join(dir, 'no-such.pem')])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /cannot read --ca-cert .*no-such\.pem/)
})

t.test('an Elastic Cloud id: https to <es-id>.<host>:<port>, TLS 1.2 and gzip as the client had them', async (t) => {
  const s = await server({ tls: TLS, httpCompression: true, auth: { apiKey: { id: 'kid', key: 'k3y-value' } } })
  // The decoded URL is https://<es-id>.<host>: an es-id of "127.0.0" and a host of
  // "1:<port>" name this loopback server, so the decoding is checked by where the requests land.
  const cloudId = `my-deployment:${Buffer.from(`1:${s.port}$127.0.0$kibana-id`).toString('base64')}`
  const r = await run(['--cloud-id', cloudId, '--ca-cert', CERT, '--api-key', 'kid:k3y-value', '--size', '1'])
  t.equal(r.code, 0, r.stderr)
  t.same(lines(r.stdout).map((l) => (JSON.parse(l) as { _id: string })._id).sort(), ['a', 'b'], 'every document, through gzipped answers')
  t.match(r.stderr, /from cloud my-deployment \(Elasticsearch/, 'messages name the deployment')
  t.ok(s.requests.length >= 3, 'GET /, a PIT and its pages')
  for (const q of s.requests) {
    t.equal(q.headers.host, `127.0.0.1:${s.port}`, `${q.method} ${q.path}: Host`)
    t.equal(q.tls, 'TLSv1.2', `${q.method} ${q.path}: TLS 1.2, as the client pins it for Cloud`)
    t.equal(q.headers['accept-encoding'], 'gzip,deflate', `${q.method} ${q.path}: gzip answers accepted`)
    t.equal(q.headers.authorization, 'ApiKey ' + Buffer.from('kid:k3y-value').toString('base64'))
  }
  const searches = s.requests.filter((q) => q.path.endsWith('/_search'))
  t.ok(searches.length > 0 && searches.every((q) => q.headers['content-encoding'] === 'gzip' && typeof q.body === 'object'), 'search bodies sent gzipped, and JSON inside')

  for (const [id, message] of [
    ['no-colon', 'Cloud ID must be in the format "name:base64string".'],
    [`name:${Buffer.from('only-a-host').toString('base64')}`, 'Cloud ID base64 must contain at least two "$" separated parts: "<cloudUrl>$<esId>[$<kibanaId>]".']
  ]) {
    const bad = await run(['--cloud-id', id])
    t.equal(bad.code, 1, `${id}: refused`)
    t.equal(lines(bad.stderr).filter((l) => l.includes(' error [')).length, 1)
    t.match(bad.stderr, `es-read: error [ConfigurationError] ${message}`)
  }
})

t.test('requests say they come from espipe, and are not compressed for a URL', async (t) => {
  const s = await server()
  const from = s.requests.length
  const r = await run(['--url', s.url])
  t.equal(r.code, 0, r.stderr)
  const ours = since(s, from)
  t.ok(ours.length > 0)
  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  for (const q of ours) {
    t.match(q.headers['user-agent'], new RegExp(`^espipe/${version.replace(/\./g, '\\.')} \\(.*; Node\\.js ${process.versions.node}; elastic-transport-js \\d+\\.\\d+`), `${q.method} ${q.path}: user-agent`)
    t.equal(q.headers['x-elastic-client-meta'], undefined, `${q.method} ${q.path}: no client statistics header (espipe is not the client)`)
  }
  t.notOk(ours.some((q) => q.headers['accept-encoding'] !== undefined || q.headers['content-encoding'] !== undefined), 'no compression for a URL')
})
