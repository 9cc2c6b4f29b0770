// A loopback stand-in for an AWS endpoint of Amazon OpenSearch Service (`es`) or OpenSearch
// Serverless (`aoss`) in front of the project's Elasticsearch test server: it checks each
// request's SigV4 signature with botocore (sigv4_verify.py, an implementation independent of the
// one espipe signs with), answers as AWS does when it is wrong (403 with AWS's body and its
// x-amzn-ErrorType), refuses actions the caller's role may not do (403 security_exception, as a
// domain's fine-grained access control does), and passes the rest on. Serverless has no scroll
// and no `GET /`: the stand-in refuses both there.
// Also here: a container credentials endpoint (what ECS and EKS Pod Identity serve at
// AWS_CONTAINER_CREDENTIALS_FULL_URI), handing out temporary credentials that rotate.

import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { createServer, request as httpRequest } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const HELPER = join(dirname(fileURLToPath(import.meta.url)), 'sigv4_verify.py')

/** Credentials the stand-in knows; a key whose `validUntil` has passed gets AWS's "expired" answer. */
export interface KnownCredential {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  /** ms since the epoch. */
  validUntil?: number
}

export interface StandInOptions {
  /** The test server requests are passed on to. */
  upstream: string
  region: string
  service: 'es' | 'aoss'
  /** Read on each request: the credentials it accepts now. */
  credentials: () => KnownCredential[]
  /** The role's permissions: false refuses the action (403 security_exception). */
  allow?: (req: { method: string, path: string, accessKeyId: string }) => boolean
  /** How far this endpoint's clock is ahead of the machine's (to show a client's clock skew). */
  clockAheadMs?: number
  /** Added before each answer, to make a run last. */
  delayMs?: number
}

export interface Verified {
  method: string
  path: string
  query: string
  accessKeyId?: string
  signedHeaders: string[]
  /** `ok`, or the AWS error type it was refused with. */
  outcome: string
  bodyBytes: number
}

export interface StandIn {
  url: string
  /** Every request, in order, with what became of it. */
  verified: Verified[]
  close: () => Promise<void>
}

/** Whether python3 with botocore is here; the reason when not. */
export function botocoreMissing (): string | undefined {
  const r = spawnSync('python3', ['-c', 'import botocore'], { encoding: 'utf8' })
  if (r.error !== undefined) return `python3 is not installed (${r.error.message})`
  if (r.status !== 0) return `python3 has no botocore (pip install botocore): ${r.stderr.trim().split('\n').pop() ?? ''}`
  return undefined
}

/** botocore as a long-running helper: one JSON line in, one verdict line out, in order. */
class Verifier {
  private readonly child: ChildProcessWithoutNullStreams
  private readonly waiting: Array<(v: { ok: boolean, reason?: string, canonical?: string, stringToSign?: string }) => void> = []
  private buffer = ''

  constructor () {
    this.child = spawn('python3', [HELPER], { stdio: ['pipe', 'pipe', 'pipe'] })
    let stderr = ''
    this.child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    this.child.stdout.on('data', (d: Buffer) => {
      this.buffer += d.toString()
      let nl: number
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl)
        this.buffer = this.buffer.slice(nl + 1)
        this.waiting.shift()?.(JSON.parse(line) as { ok: boolean })
      }
    })
    this.child.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w({ ok: false, reason: `the botocore helper exited (${code ?? '?'}): ${stderr}` })
    })
  }

  async verify (req: object): Promise<{ ok: boolean, reason?: string, canonical?: string, stringToSign?: string }> {
    return await new Promise((resolve) => {
      this.waiting.push(resolve)
      this.child.stdin.write(JSON.stringify(req) + '\n')
    })
  }

  close (): void {
    this.child.stdin.end()
  }
}

const amzTime = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
const fromAmzTime = (s: string): number => Date.parse(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`)

/** The action a request asks for, as OpenSearch's security plugin names it. */
function actionOf (method: string, path: string): string {
  if (path.endsWith('/_bulk')) return 'indices:data/write/bulk'
  if (path.includes('point_in_time') || path.endsWith('/_pit')) return method === 'DELETE' ? 'indices:data/read/point_in_time/delete' : 'indices:data/read/point_in_time/create'
  if (path.includes('_search')) return 'indices:data/read/search'
  return method === 'GET' || method === 'HEAD' ? 'indices:admin/get' : 'indices:admin/create'
}

export async function startSigV4StandIn (opts: StandInOptions): Promise<StandIn> {
  const verifier = new Verifier()
  const verified: Verified[] = []
  const upstream = new URL(opts.upstream)

  const answer = (res: ServerResponse, status: number, errorType: string | undefined, body: unknown): void => {
    const text = JSON.stringify(body)
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': '11111111-2222-3333-4444-555555555555' }
    if (errorType !== undefined) headers['x-amzn-errortype'] = errorType
    res.writeHead(status, headers)
    res.end(text)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    const url = new URL(req.url ?? '/', 'http://stand-in')
    const record: Verified = { method: req.method ?? 'GET', path: url.pathname, query: url.search.slice(1), signedHeaders: [], outcome: 'ok', bodyBytes: body.length }
    verified.push(record)
    if (opts.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, opts.delayMs))
    const refuse = (status: number, type: string | undefined, body: unknown): void => {
      record.outcome = type ?? `HTTP_${status}`
      answer(res, status, type, body)
    }
    const auth = req.headers.authorization
    const m = auth === undefined ? null : /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth)
    if (m === null) return refuse(403, 'MissingAuthenticationTokenException', { message: 'Missing Authentication Token' })
    const [, keyId, day, region, service, signedList, signature] = m as unknown as [string, string, string, string, string, string, string]
    record.accessKeyId = keyId
    record.signedHeaders = signedList.split(';')
    if (region !== opts.region) return refuse(403, 'InvalidSignatureException', { message: `Credential should be scoped to a valid region, not '${region}'. ` })
    if (service !== opts.service) return refuse(403, 'InvalidSignatureException', { message: `Credential should be scoped to correct service: '${opts.service}'. ` })
    const amzDate = String(req.headers['x-amz-date'] ?? '')
    if (!/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(day)) return refuse(400, 'IncompleteSignatureException', { message: 'Date must be in ISO-8601 \'basic format\'. Got \'' + amzDate + '\'. See http://en.wikipedia.org/wiki/ISO_8601' })
    const now = Date.now() + (opts.clockAheadMs ?? 0)
    const signedAt = fromAmzTime(amzDate)
    const FIVE_MIN = 5 * 60_000
    if (signedAt < now - FIVE_MIN) return refuse(403, 'InvalidSignatureException', { message: `Signature expired: ${amzDate} is now earlier than ${amzTime(now - FIVE_MIN)} (${amzTime(now)} - 5 min.)` })
    if (signedAt > now + FIVE_MIN) return refuse(403, 'InvalidSignatureException', { message: `Signature not yet current: ${amzDate} is still later than ${amzTime(now + FIVE_MIN)} (${amzTime(now)} + 5 min.)` })
    const known = opts.credentials().find((c) => c.accessKeyId === keyId)
    const token = req.headers['x-amz-security-token']
    if (known === undefined || (known.sessionToken ?? undefined) !== (typeof token === 'string' ? token : undefined)) {
      return refuse(403, 'UnrecognizedClientException', { message: 'The security token included in the request is invalid.' })
    }
    if (known.validUntil !== undefined && known.validUntil < Date.now()) return refuse(403, 'ExpiredTokenException', { message: 'The security token included in the request is expired' })
    const headers: Record<string, string> = {}
    for (const name of record.signedHeaders) {
      const v = req.headers[name]
      if (v === undefined) return refuse(403, 'InvalidSignatureException', { message: `Signed header ${name} is missing from the request` })
      headers[name] = Array.isArray(v) ? v.join(',') : v
    }
    const verdict = await verifier.verify({
      method: record.method,
      url: `http://${String(req.headers.host)}${req.url ?? '/'}`,
      headers,
      body: body.toString('base64'),
      region,
      service,
      accessKey: known.accessKeyId,
      secretKey: known.secretAccessKey,
      token: known.sessionToken,
      amzDate,
      signature
    })
    if (!verdict.ok) {
      // AWS quotes what it computed, so a client's mistake can be found.
      const message = verdict.reason === 'signature mismatch'
        ? `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'${verdict.canonical ?? ''}'\n\nThe String-to-Sign should have been\n'${verdict.stringToSign ?? ''}'\n`
        : `The request signature we calculated does not match the signature you provided (${verdict.reason ?? '?'})`
      return refuse(403, 'InvalidSignatureException', { message })
    }
    if (opts.service === 'aoss' && (url.pathname === '/' || url.pathname.includes('/_search/scroll') || url.searchParams.has('scroll'))) {
      return refuse(404, undefined, { error: { root_cause: [{ type: 'illegal_argument_exception', reason: `no handler found for uri [${url.pathname}] and method [${record.method}]` }], type: 'illegal_argument_exception', reason: 'not supported by OpenSearch Serverless' }, status: 404 })
    }
    if (opts.allow !== undefined && !opts.allow({ method: record.method, path: url.pathname, accessKeyId: keyId })) {
      const action = actionOf(record.method, url.pathname)
      const reason = `no permissions for [${action}] and User [name=arn:aws:iam::111122223333:role/espipe-reader, backend_roles=[arn:aws:iam::111122223333:role/espipe-reader], requestedTenant=null]`
      return refuse(403, undefined, { error: { root_cause: [{ type: 'security_exception', reason }], type: 'security_exception', reason }, status: 403 })
    }
    // Passed on as it came, less what only the stand-in reads.
    const forward = { ...req.headers, host: upstream.host }
    delete forward.authorization
    await new Promise<void>((resolve) => {
      const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: record.method, path: req.url, headers: forward }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
        answer.on('end', resolve)
      })
      up.on('error', (err) => {
        record.outcome = `upstream: ${err.message}`
        res.destroy(err)
        resolve()
      })
      up.end(body)
    })
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((err: Error) => { res.destroy(err) })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    verified,
    close: async () => {
      verifier.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    }
  }
}

export interface CredentialsEndpoint {
  url: string
  /** Every set of credentials it handed out, in order. */
  issued: KnownCredential[]
  close: () => Promise<void>
}

/**
 * A container credentials endpoint on loopback: each call hands out new temporary credentials,
 * valid at the stand-in for `lifetimeMs`, whose advertised Expiration is `advertisedMs` ahead.
 */
export async function startCredentialsEndpoint (opts: { lifetimeMs: number, advertisedMs: number }): Promise<CredentialsEndpoint> {
  const issued: KnownCredential[] = []
  const server = createServer((_req, res) => {
    const n = issued.length + 1
    const now = Date.now()
    const cred: KnownCredential = { accessKeyId: `ASIAROTATED${String(n).padStart(9, '0')}`, secretAccessKey: `rotated-secret-${n}`, sessionToken: `rotated-token-${n}`, validUntil: now + opts.lifetimeMs }
    issued.push(cred)
    const body = JSON.stringify({ AccessKeyId: cred.accessKeyId, SecretAccessKey: cred.secretAccessKey, Token: cred.sessionToken, Expiration: new Date(now + opts.advertisedMs).toISOString() })
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/credentials`,
    issued,
    close: async () => await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
