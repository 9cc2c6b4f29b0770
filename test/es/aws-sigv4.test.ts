// es-read and es-write with --aws-sigv4 against a loopback stand-in of an AWS endpoint
// (test/servers/aws/): every request's signature is checked by botocore's SigV4Auth, an
// implementation independent of the AWS SDK for JavaScript espipe signs with, and the stand-in
// answers as AWS does when something is wrong. Credentials come from the SDK's default chain:
// environment variables, a shared credentials file with AWS_PROFILE, and a container
// credentials endpoint on loopback whose temporary credentials rotate during a run. The
// instance metadata service is switched off for every run: nothing here leaves the machine.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { awsTarget } from '../../lib/es/aws-sigv4.js'
import { explainText } from '../../lib/explain/explain.js'
import { TOOLS } from '../../lib/cli.js'
import { binPath, collect, scratchDir } from '../helpers/run.js'
import type { RunResult } from '../helpers/run.js'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { botocoreMissing, startCredentialsEndpoint, startSigV4StandIn } from '../servers/aws/sigv4-stand-in.js'
import type { KnownCredential, StandIn, StandInOptions } from '../servers/aws/sigv4-stand-in.js'

const missing = botocoreMissing()
if (missing !== undefined) throw new Error(`these tests check signatures with botocore: ${missing}; .ci/run installs it`)

const dir = scratchDir(t)
const N = 240
const KEY: KnownCredential = { accessKeyId: 'AKIAESPIPETEST000001', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }
const REGION = 'eu-west-1'

/** The environment of every run: no AWS settings of this machine, no instance metadata. */
function awsEnv (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('ES_')) env[k] = v
  return {
    ...env,
    HOME: dir,
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra
  }
}
const keyEnv = (k: KnownCredential = KEY): NodeJS.ProcessEnv => ({ AWS_ACCESS_KEY_ID: k.accessKeyId, AWS_SECRET_ACCESS_KEY: k.secretAccessKey, ...(k.sessionToken !== undefined ? { AWS_SESSION_TOKEN: k.sessionToken } : {}) })

async function tool (name: 'es-read' | 'es-write', args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  const child = spawn(process.execPath, [binPath(name), ...args], { env, stdio: 'pipe' })
  child.stdin.end(input ?? '')
  return await collect(child)
}

const docs = Array.from({ length: N }, (_v, i) => ({ _id: `d${i}`, _source: { n: i, big: '12345678901234567890123', tag: `t${i % 3}` } }))

async function upstream (t: Test, distribution: 'elasticsearch' | 'opensearch' = 'opensearch'): Promise<EsTestServer> {
  const s = await startEsServer({ distribution })
  s.addDocs('docs', docs)
  s.addDocs('more', docs.slice(0, 10).map((d) => ({ ...d, _id: `m${d._id}` })))
  t.teardown(async () => await s.close())
  return s
}

async function standIn (t: Test, server: EsTestServer, opts: Partial<StandInOptions> = {}): Promise<StandIn> {
  const s = await startSigV4StandIn({ upstream: server.url, region: REGION, service: 'es', credentials: () => [KEY], ...opts })
  t.teardown(async () => await s.close())
  return s
}

const ids = (r: RunResult): string[] => r.stdout.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { _id: string })._id)

t.test('es-read: every request signed, each signature as botocore computes it', async (t) => {
  const server = await upstream(t)
  const aws = await standIn(t, server)
  const r = await tool('es-read', ['--url', aws.url, '--index', 'docs,mo*', '--size', '50', '--aws-sigv4', '--aws-region', REGION], awsEnv(keyEnv()))
  t.equal(r.code, 0, r.stderr)
  t.same(ids(r).sort(), [...docs.map((d) => d._id), ...docs.slice(0, 10).map((d) => `m${d._id}`)].sort(), 'every document of both indices once')
  t.ok(aws.verified.length >= 7, `${aws.verified.length} requests`)
  t.same(aws.verified.filter((v) => v.outcome !== 'ok'), [], 'botocore agreed with every signature')
  t.ok(aws.verified.every((v) => v.accessKeyId === KEY.accessKeyId && v.signedHeaders.includes('host') && v.signedHeaders.includes('x-amz-content-sha256')), 'signed with the key, over host and the payload hash')
  t.ok(aws.verified.some((v) => v.path.startsWith('/docs%2Cmo*/')), 'the index list went out percent-encoded and was signed so')
  t.ok(aws.verified.some((v) => v.method === 'DELETE' && v.bodyBytes > 0), 'a request with a body (closing the PIT) signed with its hash')
})

t.test('es-write: _bulk bodies signed with their payload hash, the query string canonical', async (t) => {
  const server = await upstream(t)
  const aws = await standIn(t, server)
  const input = docs.slice(0, 100).map((d) => JSON.stringify({ _id: `w${d._id}`, _source: d._source })).join('\n') + '\n'
  const r = await tool('es-write', ['--url', aws.url, '--index', 'written', '--batch-size', '30', '--aws-sigv4', '--aws-region', REGION], awsEnv(keyEnv()), input)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /100 read, 100 created/)
  t.equal(server.storedSources('written').size, 100, 'every document written')
  t.equal(server.storedSource('written', 'wd7'), '{"n":7,"big":"12345678901234567890123","tag":"t1"}', 'byte for byte')
  const bulks = aws.verified.filter((v) => v.path === '/_bulk')
  t.equal(bulks.length, 4, 'four batches')
  t.ok(bulks.every((v) => v.outcome === 'ok' && v.bodyBytes > 0), 'each _bulk body signed and verified')
  t.match(bulks[0]?.query, /^filter_path=errors%2Citems\.%2A\.status/, "filter_path's * sent percent-encoded, as SigV4 canonicalizes it")
})

t.test('credentials from a shared credentials file and AWS_PROFILE; the region from AWS_REGION', async (t) => {
  const server = await upstream(t)
  const session: KnownCredential = { accessKeyId: 'ASIAPROFILE000000001', secretAccessKey: 'profile-secret', sessionToken: 'profile-session-token' }
  const aws = await standIn(t, server, { credentials: () => [session] })
  const file = join(dir, 'credentials')
  writeFileSync(file, `[default]\naws_access_key_id = AKIAWRONGDEFAULT0001\naws_secret_access_key = nope\n\n[exporter]\naws_access_key_id = ${session.accessKeyId}\naws_secret_access_key = ${session.secretAccessKey}\naws_session_token = ${session.sessionToken ?? ''}\n`)
  const r = await tool('es-read', ['--url', aws.url, '--index', 'docs', '--limit', '5', '--aws-sigv4'], awsEnv({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'exporter', AWS_REGION: REGION }))
  t.equal(r.code, 0, r.stderr)
  t.equal(ids(r).length, 5)
  t.ok(aws.verified.length > 0 && aws.verified.every((v) => v.outcome === 'ok' && v.accessKeyId === session.accessKeyId), 'the profile\'s session credentials, token included')
})

t.test('temporary credentials that rotate during a run are fetched again before they expire', async (t) => {
  const server = await upstream(t)
  // Each set is good at the stand-in for 2.5 s; the SDK refreshes what expires within 5 minutes,
  // so advertised 5 min + 1 s ahead it fetches again one second after each fetch.
  const endpoint = await startCredentialsEndpoint({ lifetimeMs: 2500, advertisedMs: 301_000 })
  t.teardown(async () => await endpoint.close())
  const aws = await standIn(t, server, { credentials: () => endpoint.issued, delayMs: 120 })
  const r = await tool('es-read', ['--url', aws.url, '--index', 'docs', '--size', '8', '--aws-sigv4', '--aws-region', REGION], awsEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url }))
  t.equal(r.code, 0, r.stderr)
  t.equal(new Set(ids(r)).size, N, 'every document once')
  const keys = [...new Set(aws.verified.map((v) => v.accessKeyId))]
  t.ok(keys.length >= 3, `signed with ${keys.length} successive credentials (${aws.verified.length} requests)`)
  t.same(aws.verified.filter((v) => v.outcome !== 'ok'), [], 'no request was refused: each was signed with credentials still good')
  t.ok(endpoint.issued.length >= keys.length, 'every one of them came from the endpoint')
})

interface Refusal { name: string, opts: Partial<StandInOptions>, args?: string[], env?: NodeJS.ProcessEnv, code: string, message: RegExp, rule: string }

const REFUSALS: Refusal[] = [
  { name: 'a wrong secret key', opts: {}, env: keyEnv({ ...KEY, secretAccessKey: 'not-the-secret' }), code: 'InvalidSignatureException', message: /403 InvalidSignatureException: The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key/, rule: 'aws-signature-mismatch' },
  { name: 'a clock 10 minutes behind (a stale signature)', opts: { clockAheadMs: 10 * 60_000 }, code: 'InvalidSignatureException', message: /403 InvalidSignatureException: Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)/, rule: 'aws-clock-skew' },
  { name: 'expired session credentials', opts: { credentials: () => [{ ...KEY, sessionToken: 'old-token', validUntil: Date.now() - 1000 }] }, env: keyEnv({ ...KEY, sessionToken: 'old-token' }), code: 'ExpiredTokenException', message: /403 ExpiredTokenException: The security token included in the request is expired/, rule: 'aws-expired-token' },
  { name: 'an unknown access key', opts: { credentials: () => [] }, code: 'UnrecognizedClientException', message: /403 UnrecognizedClientException: The security token included in the request is invalid/, rule: 'aws-invalid-token' },
  { name: 'the wrong region', opts: {}, args: ['--aws-region', 'us-east-2'], code: 'InvalidSignatureException', message: /Credential should be scoped to a valid region, not 'us-east-2'/, rule: 'aws-wrong-region' },
  { name: 'the wrong service', opts: {}, args: ['--aws-service', 'aoss'], code: 'InvalidSignatureException', message: /Credential should be scoped to correct service: 'es'/, rule: 'aws-wrong-service' },
  { name: 'a role without read permission', opts: { allow: ({ path }) => !path.includes('_search') }, code: 'security_exception', message: /authorization failed: the user may not .* \(403 security_exception: no permissions for \[indices:data\/read\/search\] and User \[name=arn:aws:iam::111122223333:role\/espipe-reader/, rule: 'es-forbidden' }
]

t.test('what AWS refuses: one line each, exit 1, nothing retried, and explain-errors names the fix', async (t) => {
  const server = await upstream(t)
  for (const c of REFUSALS) {
    await t.test(c.name, async (t) => {
      const aws = await standIn(t, server, c.opts)
      const r = await tool('es-read', ['--url', aws.url, '--index', 'docs', '--aws-sigv4', '--aws-region', REGION, ...(c.args ?? []), '--log-format', 'json'], awsEnv(c.env ?? keyEnv()))
      t.equal(r.code, 1)
      const error = r.stderr.split('\n').map((l) => { try { return JSON.parse(l) as { event?: string, code?: string, message?: string } } catch { return {} } }).find((e) => e.event === 'error')
      t.equal(error?.code, c.code, 'the error code')
      t.match(error?.message, c.message, 'the message')
      t.notMatch(error?.message, /\n/, 'one line')
      t.ok(aws.verified.length >= 1 && aws.verified.length <= 2, `refused at once, not retried (${aws.verified.length} requests)`)
      t.equal((await explainText(r.stderr, TOOLS)).problems[0]?.rule, c.rule, `explain-errors: ${c.rule}`)
    })
  }
})

t.test('no credentials anywhere: one line saying where the chain looked', async (t) => {
  const server = await upstream(t)
  const aws = await standIn(t, server)
  const r = await tool('es-read', ['--url', aws.url, '--index', 'docs', '--aws-sigv4', '--aws-region', REGION], awsEnv())
  t.equal(r.code, 1)
  t.match(r.stderr, /es-read: error \[AWS_NO_CREDENTIALS\] --aws-sigv4: no AWS credentials: .*AWS_ACCESS_KEY_ID/)
  t.equal(aws.verified.length, 0, 'nothing was sent unsigned')
  t.equal((await explainText(r.stderr, TOOLS)).problems[0]?.rule, 'aws-no-credentials')
})

t.test('OpenSearch Serverless (aoss): no GET /, no scroll; a point in time, and it says so', async (t) => {
  const server = await upstream(t)
  const aws = await standIn(t, server, { service: 'aoss' })
  const args = ['--url', aws.url, '--index', 'docs', '--size', '64', '--aws-sigv4', '--aws-region', REGION, '--aws-service', 'aoss']
  const r = await tool('es-read', args, awsEnv(keyEnv()))
  t.equal(r.code, 0, r.stderr)
  t.equal(new Set(ids(r)).size, N, 'every document once')
  t.match(r.stderr, /reading docs from http:\/\/127\.0\.0\.1:\d+ \(OpenSearch Serverless, point in time\)/)
  t.same(aws.verified.filter((v) => v.outcome !== 'ok'), [], 'every request signed for aoss and accepted')
  t.notOk(aws.verified.some((v) => v.path === '/' || v.path.includes('scroll')), 'no GET /, no scroll')
  const scroll = await tool('es-read', [...args, '--scroll'], awsEnv(keyEnv()))
  t.equal(scroll.code, 1)
  t.match(scroll.stderr, /es-read: error \[ES_NO_SCROLL\] OpenSearch Serverless has no scroll API: drop --scroll/)
  const sliced = await tool('es-read', [...args, '--slices', '3'], awsEnv(keyEnv()))
  t.equal(sliced.code, 0, sliced.stderr)
  t.equal(new Set(ids(sliced)).size, N, '--slices 3: a sliced point in time, every document once')
})

t.test('flags: --aws-sigv4 refuses other credentials; the region is needed; --aws-service without it is refused', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--aws-sigv4', '--aws-region', REGION, '--api-key', 'id:key'], /--aws-sigv4 signs each request with AWS credentials: drop --api-key/],
    [['--aws-sigv4', '--aws-region', REGION, '--username', 'u', '--password', 'p'], /drop --username\/--password/],
    [['--aws-sigv4'], /--aws-sigv4 needs the region the domain is in: --aws-region \(env AWS_REGION\)/],
    [['--aws-service', 'aoss'], /--aws-service needs --aws-sigv4/],
    [['--aws-sigv4', '--aws-region', REGION, '--aws-service', 'ec2'], /invalid value for --aws-service: 'ec2' \(choose es, aoss\)/]
  ]
  for (const [args, message] of cases) {
    const r = await tool('es-read', ['--url', 'http://127.0.0.1:9', '--index', 'docs', ...args], awsEnv(keyEnv()))
    t.equal(r.code, 2, `${args.join(' ')}: a usage error`)
    t.match(r.stderr, message)
  }
  // An AWS endpoint's host name says region and service.
  t.same(awsTarget({}, new URL('https://search-logs-abc123.eu-central-1.es.amazonaws.com')), { region: 'eu-central-1', service: 'es' })
  t.same(awsTarget({}, new URL('https://k2x9.us-east-1.aoss.amazonaws.com')), { region: 'us-east-1', service: 'aoss' })
  t.same(awsTarget({ region: 'ap-south-1', service: 'es' }, new URL('https://k2x9.us-east-1.aoss.amazonaws.com')), { region: 'ap-south-1', service: 'es' }, 'the flags win')
  t.throws(() => awsTarget({}, new URL('http://127.0.0.1:9200')), { message: /--aws-sigv4 needs the region/ })
})
