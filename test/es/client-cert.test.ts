// Mutual TLS: a cluster that requires a client certificate, as Elasticsearch with
// xpack.security.http.ssl.client_authentication: required and OpenSearch's security plugin with
// clientauth_mode REQUIRE do. es-read and es-write present one with --cert/--key (ES_CERT,
// ES_KEY); the test server requires one signed by a CA made here with openssl.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { explainText } from '../../lib/explain/explain.js'
import { TOOLS } from '../../lib/cli.js'
import { binPath, collect, scratchDir } from '../helpers/run.js'
import type { RunResult } from '../helpers/run.js'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'

const dir = scratchDir(t)

// Before any server starts: a spawnSync would stop this process's servers answering.
function openssl (...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`)
}
writeFileSync(join(dir, 'ext.cnf'), '[server]\nsubjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n[client]\nextendedKeyUsage = clientAuth\n')
/** A CA; `name`.pem and `name`-key.pem. */
function ca (name: string): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.pem`, '-days', '1', '-subj', `/CN=${name}`)
}
/** A certificate for `cn` signed by `by`, with the server's or a client's extensions. */
function issue (name: string, cn: string, by: string, ext: 'server' | 'client'): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`)
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${by}.pem`, '-CAkey', `${by}-key.pem`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', 'ext.cnf', '-extensions', ext)
}
ca('espipe-test-ca')
ca('rogue-ca')
issue('server', 'es.test', 'espipe-test-ca', 'server')
issue('client', 'espipe-exporter', 'espipe-test-ca', 'client')
issue('rogue', 'espipe-exporter', 'rogue-ca', 'client')
const f = (name: string): string => join(dir, name)
const CA = f('espipe-test-ca.pem')

async function server (): Promise<EsTestServer> {
  const s = await startEsServer({ tls: { key: readFileSync(f('server-key.pem')), cert: readFileSync(f('server.pem')), clientCa: readFileSync(CA) } })
  s.addDocs('docs', [{ _id: 'a', _source: { n: 1 } }, { _id: 'b', _source: { n: 2 } }])
  t.teardown(async () => await s.close())
  return s
}

async function tool (name: 'es-read' | 'es-write', args: string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<RunResult> {
  const child = spawn(process.execPath, [binPath(name), ...args], { env: { ...process.env, ...env }, stdio: 'pipe' })
  child.stdin.end(input)
  return await collect(child)
}

t.test('--cert/--key: the cluster sees the client certificate, reads and writes go through', async (t) => {
  const s = await server()
  const read = await tool('es-read', ['--url', s.url, '--index', 'docs', '--ca-cert', CA, '--cert', f('client.pem'), '--key', f('client-key.pem')])
  t.equal(read.code, 0, read.stderr)
  t.equal(read.stdout.split('\n').filter((l) => l !== '').length, 2)
  t.ok(s.requests.length > 0 && s.requests.every((r) => r.clientCert === 'espipe-exporter'), 'every request came with the certificate')
  const env = await tool('es-read', ['--url', s.url, '--index', 'docs', '--ca-cert', CA], { ES_CERT: f('client.pem'), ES_KEY: f('client-key.pem') })
  t.equal(env.code, 0, `ES_CERT and ES_KEY: ${env.stderr}`)
  const write = await tool('es-write', ['--url', s.url, '--index', 'copy', '--ca-cert', CA, '--cert', f('client.pem'), '--key', f('client-key.pem'), '--refresh'], {}, read.stdout)
  t.equal(write.code, 0, write.stderr)
  t.same([...s.storedSources('copy').entries()].sort(), [['a', '{"n":1}'], ['b', '{"n":2}']], 'es-write too')
})

t.test('without a client certificate, or with one of another CA: one line, exit 1, not retried', async (t) => {
  const s = await server()
  const none = await tool('es-read', ['--url', s.url, '--index', 'docs', '--ca-cert', CA])
  t.equal(none.code, 1)
  t.match(none.stderr, /es-read: error \[ES_CLIENT_CERT_REQUIRED\] https:\/\/127\.0\.0\.1:\d+ requires a client certificate \(.*certificate required.*\): give --cert FILE --key FILE/)
  t.notMatch(none.stderr, /retry/, 'not retried')
  const rogue = await tool('es-read', ['--url', s.url, '--index', 'docs', '--ca-cert', CA, '--cert', f('rogue.pem'), '--key', f('rogue-key.pem')])
  t.equal(rogue.code, 1)
  t.match(rogue.stderr, /es-read: error \[ES_CLIENT_CERT_REFUSED\] https:\/\/127\.0\.0\.1:\d+ refused the client certificate in .*rogue\.pem \((?:tlsv1[0-3]? alert (?:unknown ca|bad certificate|certificate unknown)|the connection was closed right after the TLS handshake)\): give one signed by a CA the cluster trusts/)
  t.notMatch(rogue.stderr, /retry/, 'not retried')
  t.equal(s.requests.length, 0, 'no request got through')
  t.equal((await explainText(none.stderr, TOOLS)).problems[0]?.rule, 'tls-client-certificate')
  t.equal((await explainText(rogue.stderr, TOOLS)).problems[0]?.rule, 'tls-client-certificate')
})

t.test('--cert without --key (and the other way), an unreadable file: usage errors', async (t) => {
  const s = await server()
  const noKey = await tool('es-read', ['--url', s.url, '--index', 'docs', '--cert', f('client.pem')])
  t.equal(noKey.code, 2)
  t.match(noKey.stderr, /--cert needs --key: the certificate's private key \(env ES_KEY\)/)
  const noCert = await tool('es-read', ['--url', s.url, '--index', 'docs'], { ES_KEY: f('client-key.pem') })
  t.equal(noCert.code, 2)
  t.match(noCert.stderr, /--key needs --cert/)
  const missing = await tool('es-read', ['--url', s.url, '--index', 'docs', '--cert', f('nope.pem'), '--key', f('client-key.pem')])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /es-read: error \[ENOENT\] cannot read --cert .*nope\.pem/)
})
