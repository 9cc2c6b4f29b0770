// How es-read reaches a cluster, as the cluster sees it: the Authorization header each way of
// giving credentials produces, TLS with --ca-cert and --insecure, an Elastic Cloud id, and the
// identification headers. es-read as a user runs it, against the ES test server over
// loopback HTTP and HTTPS.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { explainText } from '../../lib/explain/explain.js'
import { startEsServer } from '../servers/es/server.js'
import type { EsServerOptions, EsTestServer, RequestRecord } from '../servers/es/server.js'
import { binPath, collect, lines, runTool, scratchDir } from '../helpers/run.js'
import type { RunResult } from '../helpers/run.js'
import { TOOLS } from '../../lib/cli.js'

const dir = scratchDir(t)
const CERT = join(dir, 'cert.pem')
const DOCS = [{ _id: 'a', _source: { n: 1 } }, { _id: 'b', _source: { n: 2 } }]
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

// Before any server starts: a spawnSync would stop this process's servers answering.
function openssl (...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`)
}
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', CERT, '-days', '1', '-subj', '/CN=es.test', '-addext', 'subjectAltName=IP:127.0.0.1')
const TLS = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(CERT) }

// A CA, and certificates it signed: one for this server, one for another name, one that
// expired in 2020 (`openssl ca`, since `openssl req` cannot date a certificate in the past).
const CA = join(dir, 'ca.pem')
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', CA, '-days', '1', '-subj', '/CN=espipe test CA')
writeFileSync(join(dir, 'index.txt'), '')
writeFileSync(join(dir, 'serial'), '01\n')
writeFileSync(join(dir, 'ca.cnf'), [
  '[ca]', 'default_ca = test',
  '[test]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial', 'policy = any', 'default_md = sha256', 'unique_subject = no',
  '[any]', 'commonName = supplied',
  '[ip]', 'subjectAltName = IP:127.0.0.1',
  '[dns]', 'subjectAltName = DNS:es.test'
].join('\n') + '\n')
function signed (name: string, san: 'ip' | 'dns', dates: string[]): { key: Buffer, cert: Buffer } {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', '/CN=es.test')
  openssl('ca', '-batch', '-notext', '-config', 'ca.cnf', '-extensions', san, '-cert', CA, '-keyfile', 'ca-key.pem', '-in', `${name}.csr`, '-out', `${name}.pem`, ...dates)
  return { key: readFileSync(join(dir, `${name}-key.pem`)), cert: readFileSync(join(dir, `${name}.pem`)) }
}
const SIGNED = signed('signed', 'ip', ['-days', '1'])
const OTHER_NAME = signed('other-name', 'dns', ['-days', '1'])
const EXPIRED = signed('expired', 'ip', ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'])

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
  for (const [name, args, env] of [['--ca-cert', ['--url', s.url, '--ca-cert', CERT], {}], ['ES_CA_CERT', ['--url', s.url], { ES_CA_CERT: CERT }]] as const) {
    const from = s.requests.length
    const r = await run([...args], env)
    t.equal(r.code, 0, `${name}: ${r.stderr}`)
    t.equal(lines(r.stdout).length, DOCS.length, `${name}: every document`)
    t.notMatch(r.stderr, /--insecure/)
    const seen = since(s, from)
    t.ok(seen.length > 0 && seen.every((q) => q.tls === 'TLSv1.3'), `${name}: over TLS 1.3, nothing pinned (${seen.length} requests)`)
  }

  const insecure = await run(['--url', s.url, '--insecure'])
  t.equal(insecure.code, 0, insecure.stderr)
  t.equal(lines(insecure.stdout).length, DOCS.length)
  t.match(insecure.stderr, /--insecure: the server's TLS certificate is not checked/)

  const missing = await run(['--url', s.url, '--ca-cert', join(dir, 'no-such.pem')])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /cannot read --ca-cert .*no-such\.pem/)
})

/** The lines of a run's stderr that report an error. */
const errorLines = (r: RunResult): string[] => lines(r.stderr).filter((l) => l.includes(' error ['))

t.test('a certificate the client does not accept fails at once, in one line that says what to do, for es-read and es-write', async (t) => {
  const self = await server({ tls: TLS })
  const signedBy = await server({ tls: SIGNED })
  const otherName = await server({ tls: OTHER_NAME })
  const expired = await server({ tls: EXPIRED })
  const skip = 'or --insecure to skip the check'
  // [case, URL, options, the error line without the tool's name and context, explain-errors' rule]
  const cases: Array<[string, string, string[], string, string]> = [
    ['self-signed', self.url, [], `[DEPTH_ZERO_SELF_SIGNED_CERT] ${self.url}: the server's TLS certificate is not trusted (self-signed certificate); give its CA with --ca-cert FILE, ${skip}`, 'tls-untrusted-certificate'],
    ['signed by a CA not given', signedBy.url, [], `[UNABLE_TO_VERIFY_LEAF_SIGNATURE] ${signedBy.url}: the server's TLS certificate is not trusted (unable to verify the first certificate); give its CA with --ca-cert FILE, ${skip}`, 'tls-untrusted-certificate'],
    ['signed by another CA than --ca-cert\'s', signedBy.url, ['--ca-cert', CERT], `[UNABLE_TO_VERIFY_LEAF_SIGNATURE] ${signedBy.url}: the server's TLS certificate is not signed by the CA in ${CERT} (unable to verify the first certificate); give the CA that signed it with --ca-cert FILE, ${skip}`, 'tls-untrusted-certificate'],
    // The CA is given, so only the name is wrong: the URL says localhost, the certificate es.test.
    ['for another name', `https://localhost:${otherName.port}`, ['--ca-cert', CA], `[ERR_TLS_CERT_ALTNAME_INVALID] https://localhost:${otherName.port}: the server's TLS certificate does not name localhost (Host: localhost. is not in the cert's altnames: DNS:es.test); give --url a host name the certificate holds, ${skip}`, 'tls-hostname-mismatch'],
    ['expired', expired.url, ['--ca-cert', CA], `[CERT_HAS_EXPIRED] ${expired.url}: the server's TLS certificate has expired (certificate has expired); renew it on the server (or set this machine's clock right), ${skip}`, 'tls-certificate-expired']
  ]
  for (const [name, url, args, error, rule] of cases) {
    await Promise.all(['es-read', 'es-write'].map(async (tool) => {
      // No --retries 0: the default retries must not be spent on a certificate (no retry line,
      // 0 retries counted, below; a time bound would only measure the machine's load).
      const r = await runTool(tool, ['--url', url, '--index', 'docs', ...args], { input: '{"_id":"z","_source":{"n":3}}\n' })
      t.equal(r.code, 1, `${tool}, ${name}: exit status 1`)
      t.strictSame(errorLines(r), [`${tool}: error ${error} (host=${url}, index=docs)`], `${tool}, ${name}: one line naming the problem and the fix`)
      t.notMatch(r.stderr, /retry/, `${tool}, ${name}: no retry`)
      t.match(r.stderr, / 0 retries/, `${tool}, ${name}: the summary counts none`)
      t.equal(r.stdout, '')
      t.equal((await explainText(r.stderr, TOOLS)).problems[0]?.rule, rule, `${tool}, ${name}: explain-errors explains it as ${rule}`)
    }))
  }
  for (const s of [self, signedBy, otherName, expired]) t.equal(s.requests.length, 0, 'no request got through')

  // What fixes each: the CA for the first two, --insecure for any.
  const trusted = await run(['--url', signedBy.url, '--ca-cert', CA])
  t.equal(trusted.code, 0, trusted.stderr)
  t.equal(lines(trusted.stdout).length, DOCS.length, 'with the CA that signed it, every document')
  const insecure = await runTool('es-write', ['--url', expired.url, '--index', 'docs', '--insecure'], { input: '{"_id":"z","_source":{"n":3}}\n' })
  t.equal(insecure.code, 0, insecure.stderr)
  t.match(insecure.stderr, /^es-write: 1 read, 1 created, /m, '--insecure writes past an expired certificate')
})

t.test('an Elastic Cloud id: https to <es-id>.<host>:<port>, TLS 1.2 and gzip as the client had them', async (t) => {
  const s = await server({ tls: TLS, httpCompression: true, auth: { apiKey: { id: 'kid', key: 'k3y-value' } } })
  // The decoded URL is https://<es-id>.<host>: an es-id of "127.0.0" and a host of
  // "1:<port>" name this loopback server, so the decoding is checked by where the requests land.
  const cloudId = `my-deployment:${Buffer.from(`1:${s.port}$127.0.0$kibana-id`).toString('base64')}`
  const r = await run(['--cloud-id', cloudId, '--ca-cert', CERT, '--api-key', 'kid:k3y-value', '--size', '1'])
  t.equal(r.code, 0, r.stderr)
  t.strictSame(lines(r.stdout).map((l) => (JSON.parse(l) as { _id: string })._id).sort(), ['a', 'b'], 'every document, through gzipped answers')
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
  t.ok(ours.length > 0, `${ours.length} requests`)
  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  for (const q of ours) {
    t.match(q.headers['user-agent'], new RegExp(`^espipe/${version.replace(/\./g, '\\.')} \\(.*; Node\\.js ${process.versions.node}; elastic-transport-js \\d+\\.\\d+`), `${q.method} ${q.path}: user-agent`)
    t.equal(q.headers['x-elastic-client-meta'], undefined, `${q.method} ${q.path}: no client statistics header (espipe is not the client)`)
  }
  t.notOk(ours.some((q) => q.headers['accept-encoding'] !== undefined || q.headers['content-encoding'] !== undefined), 'no compression for a URL')
})
