import { CloudConnectionPool, Diagnostic, HttpConnection, Transport, WeightedConnectionPool, errors } from '@elastic/transport'
import type { BaseConnectionPool, ConnectionPoolOptions } from '@elastic/transport'
import { readFileSync } from 'node:fs'
import type { ClientRequest, RequestOptions } from 'node:http'
import { createRequire } from 'node:module'
import os from 'node:os'
import type { Readable } from 'node:stream'
import { connect as tlsConnect } from 'node:tls'
import type { ConnectionOptions as TlsOptions } from 'node:tls'
import { gunzipSync, inflateSync } from 'node:zlib'
import type { StageContext } from '../core/context.js'
import { EspipeError, UsageError } from '../core/errors.js'
import type { EsWhere } from './errors.js'
import { EsRequestError, describeHttpAnswer, isCertificateCode, notElasticsearch, responseError, transportError } from './errors.js'
import { maskUrl } from '../core/mask.js'
import { identifyPeer } from '../core/peer.js'
import type { AwsService, AwsSigV4Options, RequestToSign } from './aws-sigv4.js'
import { awsSigner, awsTarget, strictQuery } from './aws-sigv4.js'

/** How to reach and authenticate to a cluster (flags and ES_* environment variables). */
export interface EsConnectionOptions {
  /** Node URL; credentials in it (`http://user:pass@host:9200`) are honoured and masked. */
  url?: string
  username?: string
  password?: string
  /** Base64 `id:key` as Kibana shows it, or `id:key`. */
  apiKey?: string
  /** PEM file of the CA that signed the cluster's certificate. */
  caCert?: string
  /** Accept any TLS certificate. */
  insecure?: boolean
  cloudId?: string
  requestTimeoutMs?: number
  /** Sign every request with AWS SigV4 (Amazon OpenSearch Service, OpenSearch Serverless). */
  aws?: AwsSigV4Options
  /** PEM files of a client certificate and its key, for clusters that require one (mutual TLS). */
  cert?: string
  key?: string
}

export const DEFAULT_ES_URL = 'http://localhost:9200'
/** How long one request may take before it counts as lost. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000

/**
 * The original tool took a search URL (`--es_url http://host:9200/idx/_search`): split it into
 * the node URL and the index named in its path. Of a query string, `q=` (a Lucene query, as
 * Elasticsearch reads it there) is returned to be honoured; anything else is refused rather
 * than dropped, since the search it describes is not the one es-read would run. `option` is
 * the name messages give the URL (`--es_url`, `ES_URL`).
 */
export function splitSearchUrl (url: string, option = '--url'): { node: string, index?: string, q?: string } {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new UsageError(`invalid value for ${option}: '${maskUrl(url)}' is not a URL`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`invalid value for ${option}: '${maskUrl(url)}' (http or https)`)
  const parts = u.pathname.split('/').filter((p) => p !== '')
  let index: string | undefined
  if (parts.length > 0 && parts[parts.length - 1] === '_search') {
    parts.pop()
    if (parts.length > 0) index = decodeURIComponent(parts.pop() as string)
  }
  const others = [...new Set([...u.searchParams.keys()].filter((k) => k !== 'q'))]
  if (others.length > 0) throw new UsageError(`${option} has a query string es-read does not follow: ${others.join(', ')} (only q= is taken; use es-read's options, e.g. --limit, --size)`)
  const qs = u.searchParams.getAll('q')
  // Elasticsearch would take the first; a second q= is a query the user meant and would lose.
  if (qs.length > 1) throw new UsageError(`${option} has q= ${qs.length} times (${qs.map((q) => `q=${q}`).join(', ')}): give the query once (join them with AND, or use --q)`)
  const q = qs[0]
  u.pathname = '/' + parts.join('/')
  u.search = ''
  u.hash = ''
  return { node: u.toString().replace(/\/$/, ''), index, q: q === '' ? undefined : q }
}

/** Whether an error body is the engine's "no such index". */
function isNotFoundIndex (text: string): boolean {
  return text.includes('index_not_found_exception')
}

const TLS_ALERT = /\b(?:tlsv1[0-3]?|sslv3) alert (certificate required|unknown ca|bad certificate|certificate unknown|certificate expired|certificate revoked|handshake failure|access denied)\b/i

/**
 * What a server does about our client certificate, seen on a connection of its own: over TLS 1.3
 * it checks the certificate after the handshake, and a request already on its way meets a bare
 * reset ("socket hang up"). Here nothing is sent: the server's alert is read, or a close right
 * after the handshake (what a server does that drops the connection without an alert, as
 * Node's does) is reported as such. Undefined when the connection stays up for two seconds.
 */
async function tlsAlert (url: URL, tls: TlsOptions): Promise<string | undefined> {
  return await new Promise((resolve) => {
    const socket = tlsConnect({ ...tls, host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port !== '' ? url.port : 443) })
    let secure = false
    const done = (alert: string | undefined): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(alert)
    }
    const timer = setTimeout(() => done(undefined), 2000)
    socket.on('secureConnect', () => { secure = true })
    socket.on('error', (err) => done(TLS_ALERT.exec(err.message)?.[0]?.toLowerCase() ?? (secure ? 'the connection was closed right after the TLS handshake' : undefined)))
    socket.on('close', () => done(secure ? 'the connection was closed right after the TLS handshake' : undefined))
    socket.resume()
  })
}

/**
 * node:http's connection, except that an answer that is not HTTP at all fails the request.
 * The transport ignores the HTTP parser's "Expected HTTP/" error (it can follow the response
 * to a HEAD), so against a port that speaks another protocol first (MySQL's 3306) the request
 * never settled and the process ended with status 13 and no word.
 * And a refused certificate keeps its code: the transport passes on only the message
 * ("self-signed certificate"), so the code goes in front of it for transportError to read.
 */
class StrictHttpConnection extends HttpConnection {
  constructor (opts: ConstructorParameters<typeof HttpConnection>[0]) {
    super(opts)
    const make = this.makeRequest as unknown as (params: RequestOptions) => ClientRequest
    const strict = (params: RequestOptions): ClientRequest => {
      const req = make(params)
      req.prependListener('error', (err: NodeJS.ErrnoException) => {
        if (isCertificateCode(err.code)) {
          err.message = `${err.code}: ${err.message}`
        } else if (err.code === 'HPE_INVALID_CONSTANT' && params.method !== 'HEAD') {
          err.code = 'ENOTHTTP'
          err.message = `ENOTHTTP: the answer is not HTTP (${err.message})`
        }
      })
      return req
    }
    this.makeRequest = strict as unknown as typeof this.makeRequest
  }
}

type ConnectionParams = Parameters<HttpConnection['request']>[0]
type ConnectionOptions = Parameters<HttpConnection['request']>[1]

/**
 * A connection that signs each request as it leaves, with the bytes it is sent with: the path
 * under the node's URL, the query string (sent in its canonical encoding), every header and the
 * body, `_bulk`'s included (its hash is in `x-amz-content-sha256`). Signing here, after the
 * transport has serialized and (for Cloud) compressed the body, means nothing is signed that
 * is not what goes out.
 */
function signingConnection (sign: (req: RequestToSign) => Promise<Record<string, string>>): typeof HttpConnection {
  return class SigV4Connection extends StrictHttpConnection {
    override async request (params: ConnectionParams, options: ConnectionOptions): Promise<never> {
      const query = strictQuery(params.querystring ?? undefined).text
      const url = new URL(this.url.toString())
      url.pathname = url.pathname.endsWith('/') && params.path.startsWith('/') ? url.pathname + params.path.slice(1) : url.pathname + params.path
      const body = params.body as string | Buffer | undefined
      const headers = await sign({ method: params.method, url, querystring: query, headers: { ...this.headers, ...params.headers }, body })
      return await (super.request as (p: ConnectionParams, o: ConnectionOptions) => Promise<never>)({ ...params, querystring: query, headers }, options)
    }
  }
}

const JSON_TYPE = 'application/vnd.elasticsearch+json; compatible-with=8'
/** What OpenSearch and Elasticsearch 7 understand (OpenSearch answers the vendored type with 406). */
const PLAIN_JSON = 'application/json'
/** What the Elasticsearch client itself sends with a _bulk body. */
const NDJSON_TYPE = 'application/vnd.elasticsearch+x-ndjson; compatible-with=8'
/** The same for OpenSearch and Elasticsearch 7 (the vendored type gets 406 there too). */
const PLAIN_NDJSON = 'application/x-ndjson'

export interface EsRequest {
  method: string
  path: string
  querystring?: Record<string, string>
  body?: string
  /** The body is NDJSON (_bulk), not one JSON document. */
  ndjson?: boolean
}

export interface RawResponse { status: number, text: string }
export interface ByteResponse { status: number, bytes: Buffer }

/** Which engine answers, from `GET /`. */
export interface ClusterInfo {
  distribution: 'elasticsearch' | 'opensearch'
  /** `version.number`; undefined when `GET /` was forbidden to this user. */
  version?: string
  /** OpenSearch Serverless (--aws-service aoss): no `GET /`, no version, no scroll. */
  serverless?: boolean
}

/** Whether `version` is at least `major.minor` (an unknown version is not). */
export function versionAtLeast (version: string | undefined, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '')
  if (m === null) return false
  const [a, b] = [Number(m[1]), Number(m[2])]
  return a > major || (a === major && b >= minor)
}

/**
 * Who is asking, for a cluster's logs and audit trail: espipe by name and version, over
 * Elastic's transport. Not the client's own `elasticsearch-js/…` agent and
 * `x-elastic-client-meta` (Elastic's usage statistics of that client): espipe does not use it.
 */
function userAgent (): string {
  const require = createRequire(import.meta.url)
  const transport = (require('@elastic/transport/package.json') as { version: string }).version
  return `espipe/${ownVersion(require)} (${os.platform()} ${os.release()}-${os.arch()}; Node.js ${process.versions.node}; elastic-transport-js ${transport})`
}

/** espipe's version from its package.json, found from this module in lib/ or in dist/lib/. */
function ownVersion (require: NodeJS.Require): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(up) as { name?: string, version?: string }
      if (pkg.name === 'espipe' && pkg.version !== undefined) return pkg.version
    } catch {}
  }
  return 'unknown'
}

/**
 * The node an Elastic Cloud id names, decoded as @elastic/elasticsearch 8.19 decodes it (and
 * refused with its messages): `name:base64("host[:port]$es-id[$kibana-id]")` is
 * `https://es-id.host[:port]`, port 443 unless the host part carries one.
 */
function cloudNode (id: string): URL {
  const parts = id.split(':')
  if (parts.length !== 2 || parts[1] === '') throw new errors.ConfigurationError('Cloud ID must be in the format "name:base64string".')
  const urls = Buffer.from(parts[1] as string, 'base64').toString().split('$')
  if (urls.length < 2 || urls[0] === '' || urls[1] === '') {
    throw new errors.ConfigurationError('Cloud ID base64 must contain at least two "$" separated parts: "<cloudUrl>$<esId>[$<kibanaId>]".')
  }
  return new URL(`https://${urls[1] as string}.${urls[0] as string}`)
}

/**
 * One cluster connection: Elastic's transport, the part of @elastic/elasticsearch that sends
 * requests (the client's ~400 API modules and ES|QL helpers cost ~0.3 s of CPU per process to
 * load and es-read calls none of them), with its own retries switched off (es-read decides
 * retries in one place, lib/core/retry.ts) and request helpers that return the raw body, as text
 * or as bytes.
 */
export class EsConnection {
  private readonly transport: Transport
  private readonly pool: BaseConnectionPool
  /** The node as printed in messages: password masked. */
  readonly host: string
  /** The node's URL (not for messages: it may hold a password). */
  private readonly node: URL | undefined
  /** Whether any HTTP answer came from the node: a reset after that is not a wrong scheme. */
  private answered = false
  private mediaType = JSON_TYPE
  private identified: Promise<ClusterInfo> | undefined
  /** The --ca-cert file, named when the server's certificate is not of its CA. */
  private readonly caCert: string | undefined
  /** The AWS service requests are signed for, when they are. */
  private readonly awsService: AwsService | undefined
  /** The --cert file, named when the cluster refuses it. */
  private readonly clientCert: string | undefined
  /** The TLS options connections use (to read the cluster's alert about a client certificate). */
  private readonly tls: TlsOptions | undefined

  constructor (opts: EsConnectionOptions, ctx?: StageContext) {
    const url = opts.url ?? DEFAULT_ES_URL
    this.caCert = opts.caCert
    this.clientCert = opts.cert
    const masker = ctx?.logger.masker
    masker?.add(opts.password, opts.apiKey)
    const cloud = opts.cloudId !== undefined
    let node: URL
    if (opts.cloudId !== undefined) {
      node = cloudNode(opts.cloudId)
      this.host = `cloud ${opts.cloudId.split(':')[0]}`
    } else {
      try {
        node = new URL(url)
      } catch {
        throw new UsageError(`invalid value for --url: '${maskUrl(url)}' is not a URL`)
      }
      if (node.password !== '') masker?.add(decodeURIComponent(node.password))
      this.host = maskUrl(url)
      this.node = node
    }
    let auth: ConnectionPoolOptions['auth']
    if (opts.aws !== undefined) {
      // One Authorization header: the signature's.
      const other = [opts.apiKey !== undefined && '--api-key', (opts.username !== undefined || opts.password !== undefined) && '--username/--password', node.username !== '' && 'a user in --url', cloud && '--cloud-id'].filter((x) => x !== false)
      if (other.length > 0) throw new UsageError(`--aws-sigv4 signs each request with AWS credentials: drop ${other.join(' and ')}`)
    }
    if (opts.apiKey !== undefined) {
      const k = opts.apiKey
      const colon = k.indexOf(':')
      auth = colon > 0 && !/^[A-Za-z0-9+/=]+$/.test(k) ? { apiKey: { id: k.slice(0, colon), api_key: k.slice(colon + 1) } } : { apiKey: k }
      if (colon > 0) masker?.add(k.slice(colon + 1), Buffer.from(k).toString('base64'))
    } else if (opts.username !== undefined || opts.password !== undefined) {
      auth = { username: opts.username ?? 'elastic', password: opts.password ?? '' }
    }
    // As the client had it: a user and password in the URL replace --username/--password, and
    // an API key still goes first (the transport sends ApiKey when both are there).
    if (node.username !== '' && node.password !== '') {
      auth = { ...auth, username: decodeURIComponent(node.username), password: decodeURIComponent(node.password) }
    }
    let tls: ConnectionPoolOptions['tls']
    const pem = (file: string, flag: string): Buffer => {
      try {
        return readFileSync(file)
      } catch (err) {
        throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot read ${flag} ${file}: ${(err as Error).message}`, { context: { file } })
      }
    }
    if ((opts.cert === undefined) !== (opts.key === undefined)) {
      throw new UsageError(opts.cert === undefined ? '--key needs --cert: the client certificate the key belongs to (env ES_CERT)' : '--cert needs --key: the certificate\'s private key (env ES_KEY)')
    }
    if (opts.caCert !== undefined || opts.insecure === true || opts.cert !== undefined) {
      tls = { rejectUnauthorized: opts.insecure !== true }
      if (opts.caCert !== undefined) tls.ca = pem(opts.caCert, '--ca-cert')
      if (opts.cert !== undefined && opts.key !== undefined) {
        tls.cert = pem(opts.cert, '--cert')
        tls.key = pem(opts.key, '--key')
      }
    }
    this.tls = tls === undefined ? undefined : { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized } as TlsOptions
    // The client pins TLS 1.2 for Elastic Cloud.
    if (cloud) tls = { ...tls, secureProtocol: 'TLSv1_2_method' }
    if (opts.insecure === true) ctx?.logger.warn('--insecure: the server\'s TLS certificate is not checked')
    const requestTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    // One object for the pool's connection and the transport, in this order, as the client
    // builds them: the connection adds the Authorization header to it.
    const headers = { 'user-agent': userAgent() }
    const diagnostic = new Diagnostic()
    let Connection: typeof HttpConnection = StrictHttpConnection
    if (opts.aws !== undefined) {
      const { region, service } = awsTarget(opts.aws, node)
      this.awsService = service
      Connection = signingConnection(awsSigner(region, service))
    }
    const poolOptions: ConnectionPoolOptions = {
      // node:http rather than undici: undici compiles its WebAssembly HTTP parser on the first
      // request, a ~30 MB peak of RSS that is a quarter of es-read's memory budget.
      Connection,
      auth,
      tls,
      diagnostic
    }
    // The pools the client picks: the cloud one always hands out its one connection.
    this.pool = cloud ? new CloudConnectionPool(poolOptions) : new WeightedConnectionPool(poolOptions)
    this.pool.addConnection({ url: node, tls, headers, auth, timeout: requestTimeout })
    // No productCheck (the client asks for one, which rejects every 2xx answer lacking
    // `x-elastic-product: Elasticsearch`, so every OpenSearch cluster): identify() asks `GET /`
    // once instead, and one code path above serves both engines. No sniffing, the transport's
    // default: reading one index needs one node, and sniffing sends requests we never asked for.
    this.transport = new Transport({
      connectionPool: this.pool,
      diagnostic,
      headers,
      maxRetries: 0,
      requestTimeout,
      // Off, as the client has it for a URL; on for Elastic Cloud, as the client turns it on
      // there: request bodies gzipped, and gzip or deflate answers accepted.
      compression: cloud,
      // What the client sends when a request names no media type (each of ours names one).
      vendoredHeaders: { jsonContentType: JSON_TYPE, ndjsonContentType: NDJSON_TYPE, accept: `${JSON_TYPE},text/plain` }
    })
  }

  /**
   * Asks `GET /` which engine this is (once; later calls share the answer) and speaks its
   * dialect from then on: plain JSON media types for OpenSearch and Elasticsearch 7. A server
   * that is neither fails here, before any search. A user forbidden `GET /` (403) on a cluster
   * that is not Elasticsearch is taken as OpenSearch of unknown version.
   */
  async identify (where: EsWhere, signal?: AbortSignal): Promise<ClusterInfo> {
    if (this.awsService === 'aoss') {
      // Serverless answers no GET / and has no version: it speaks OpenSearch's API.
      this.mediaType = PLAIN_JSON
      return { distribution: 'opensearch', serverless: true }
    }
    this.identified ??= this.askRoot(where, signal)
    this.identified.catch(() => { this.identified = undefined })
    return await this.identified
  }

  private async askRoot (where: EsWhere, signal?: AbortSignal): Promise<ClusterInfo> {
    let status: number
    let headers: Record<string, unknown>
    let text: string
    try {
      const res = await this.transport.request<string>({ method: 'GET', path: '/' }, { meta: true, signal, headers: { accept: PLAIN_JSON } })
      status = res.statusCode ?? 0
      headers = res.headers ?? {}
      text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body)
    } catch (err) {
      if ((err as Error).name === 'RequestAbortedError') throw err
      const meta = (err as { meta?: { statusCode?: number, headers?: Record<string, unknown>, body?: unknown } }).meta
      if ((err as Error).name !== 'ResponseError' || meta?.statusCode === undefined) throw await this.diagnose(err, where, 'reach the cluster')
      status = meta.statusCode
      headers = meta.headers ?? {}
      text = typeof meta.body === 'string' ? meta.body : JSON.stringify(meta.body ?? '')
    }
    this.answered = true
    const elastic = headers['x-elastic-product'] === 'Elasticsearch'
    let body: { version?: { number?: unknown, distribution?: unknown }, tagline?: unknown } | undefined
    try {
      body = JSON.parse(text) as typeof body
    } catch {}
    const number = typeof body?.version?.number === 'string' ? body.version.number : undefined
    if (number === undefined && (status < 400 || status === 404)) this.refusePath(status, headers, text, body)
    let info: ClusterInfo | undefined
    if (status === 403 || status === 401) {
      if (status === 401) throw responseError(status, text, where, 'reach the cluster', headers)
      info = { distribution: elastic ? 'elasticsearch' : 'opensearch' }
    } else if (status >= 400) {
      throw responseError(status, text, where, 'reach the cluster', headers)
    } else if (body?.version?.distribution === 'opensearch') {
      info = { distribution: 'opensearch', version: number }
    } else if (elastic || (number !== undefined && body?.tagline === 'You Know, for Search' && body.version?.distribution === undefined)) {
      // Elasticsearch before 7.14 sends no x-elastic-product header.
      info = { distribution: 'elasticsearch', version: number }
    }
    if (info === undefined) {
      throw notElasticsearch(where, `GET / answered ${status} from ${describeHttpAnswer(headers, text)}, with no x-elastic-product header and no OpenSearch version`, status)
    }
    if (info.distribution === 'opensearch' || !versionAtLeast(info.version ?? '8.0', 8, 0)) this.mediaType = PLAIN_JSON
    return info
  }

  /**
   * A --url with a path is a node behind a proxy that serves it there, or, more often, an index
   * written where es-read and es-write take a node (`http://host:9200/logs`): `GET /logs` then
   * answers the index (or 404), which is no node's root. Say so, with the URL to give instead,
   * rather than blame the server. Returns when the URL has no path.
   */
  private refusePath (status: number, headers: Record<string, unknown>, text: string, body: unknown): void {
    const node = this.node
    if (node === undefined) return
    const path = node.pathname.replace(/\/+$/, '')
    if (path === '') return
    const root = `${node.protocol}//${node.host}`
    const last = decodeURIComponent(path.split('/').pop() as string)
    const defined = body !== null && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length > 0 &&
      Object.values(body).every((v) => v !== null && typeof v === 'object' && ('mappings' in v || 'settings' in v))
    const indexNamed = defined ? Object.keys(body as object).join(',') : last
    const answered = defined ? `the definition of index ${indexNamed}` : status === 404 && isNotFoundIndex(text) ? `404 (no index ${last})` : `${status} from ${describeHttpAnswer(headers, text)}`
    throw new UsageError(`--url ${maskUrl(node.toString())} has a path (${path}), and GET ${path} answered ${answered}, not a node's root: give the node's URL and the index apart, --url ${root} --index ${indexNamed} (or --url ${root}/${indexNamed}/_search); keep a path only for a proxy that serves the cluster under it`)
  }

  /**
   * Sends one request and reads the whole body as text. Any status ≥ 400 becomes an
   * EsRequestError naming host, index, status, type and reason; a connection lost while the
   * body streams in is an error too (never a short page).
   */
  async request (req: EsRequest, where: EsWhere, what: string, signal?: AbortSignal): Promise<RawResponse> {
    const { status, bytes } = await this.requestBytes(req, where, what, signal)
    return { status, text: bytes.toString('utf8') }
  }

  /** As request(), with the body as bytes (a search page is read from them without decoding it). */
  async requestBytes (req: EsRequest, where: EsWhere, what: string, signal?: AbortSignal): Promise<ByteResponse> {
    let status: number
    let headers: Record<string, unknown>
    let stream: Readable
    try {
      const res = await this.transport.request<Readable>(
        { method: req.method, path: req.path, querystring: req.querystring, body: req.body },
        { asStream: true, meta: true, signal, headers: req.body !== undefined ? { 'content-type': req.ndjson === true ? this.ndjsonType() : this.mediaType, accept: this.mediaType } : { accept: this.mediaType } }
      )
      status = res.statusCode ?? 0
      headers = res.headers ?? {}
      stream = res.body
    } catch (err) {
      if ((err as Error).name === 'RequestAbortedError') throw err
      throw await this.diagnose(err, where, what)
    }
    this.answered = true
    const encoding = String(headers['content-encoding'] ?? '')
    const chunks: Buffer[] = []
    // The transport stops watching the signal once headers are in: a body still streaming
    // must stop too when the read is aborted.
    const abort = (): void => { stream.destroy(new Error('Request aborted')) }
    signal?.addEventListener('abort', abort, { once: true })
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer)
    } catch (err) {
      if (signal?.aborted === true) throw err
      throw transportError(err, where, what, { midBody: true })
    } finally {
      signal?.removeEventListener('abort', abort)
    }
    let bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
    if (encoding.includes('gzip')) bytes = gunzipSync(bytes)
    else if (encoding.includes('deflate')) bytes = inflateSync(bytes)
    if (status >= 400) throw responseError(status, bytes.toString('utf8'), where, what, headers)
    const type = headers['content-type']
    if (typeof type === 'string' && !/json/i.test(type)) {
      throw new EsRequestError('ES_BAD_RESPONSE', `${where.host} answered the request to ${what} with something other than JSON: ${describeHttpAnswer(headers, bytes.toString('utf8'))}`, { status, stage: 'final', where })
    }
    return { status, bytes }
  }

  /** The NDJSON type in the dialect identify() chose. */
  private ndjsonType (): string {
    return this.mediaType === PLAIN_JSON ? PLAIN_NDJSON : NDJSON_TYPE
  }

  /**
   * A connection failure, named by what answered when that says more than the error: a port
   * that is not HTTP, https to a plain HTTP port, http to a TLS port. Those are final (a retry
   * would get the same), as is a refused certificate; anything else keeps transportError's
   * retry stage.
   */
  private async diagnose (err: unknown, where: EsWhere, what: string): Promise<EsRequestError> {
    // Signing failed (no AWS credentials): nothing was sent, and a retry finds none either.
    if (err instanceof EspipeError && !(err instanceof EsRequestError)) return new EsRequestError(err.code, err.message, { stage: 'final', where, cause: err })
    // The cluster's TLS alert about our certificate (mutual TLS): a retry gets the same.
    const message = (err as Error).message ?? ''
    let alert = TLS_ALERT.exec(message)?.[0]?.toLowerCase()
    if (alert === undefined && this.clientCert !== undefined && this.tls !== undefined && this.node?.protocol === 'https:' && !this.answered && /socket hang up|ECONNRESET/.test(message)) {
      alert = await tlsAlert(this.node, this.tls)
    }
    if (alert !== undefined && (this.clientCert !== undefined || /certificate required|handshake failure/.test(alert))) {
      if (this.clientCert === undefined) return new EsRequestError('ES_CLIENT_CERT_REQUIRED', `${where.host} requires a client certificate (${alert}): give --cert FILE --key FILE (env ES_CERT, ES_KEY)`, { stage: 'final', where, cause: err })
      return new EsRequestError('ES_CLIENT_CERT_REFUSED', `${where.host} refused the client certificate in ${this.clientCert} (${alert}): give one signed by a CA the cluster trusts, for client authentication, and not expired`, { stage: 'final', where, cause: err })
    }
    const base = transportError(err, where, what, { caCert: this.caCert })
    const u = this.node
    if (u === undefined || base.stage === 'final') return base
    const msg = (err as Error).message ?? ''
    const notHttp = /ENOTHTTP|Parse Error/.test(msg)
    const tlsToPlain = u.protocol === 'https:' && /wrong version number|packet length too long|unknown protocol|ERR_SSL|EPROTO/i.test(msg)
    const plainToTls = u.protocol === 'http:' && !this.answered && /socket hang up|ECONNRESET/.test(msg)
    if (!notHttp && !tlsToPlain && !plainToTls) return base
    const port = Number(u.port !== '' ? u.port : u.protocol === 'https:' ? 443 : 80)
    const peer = await identifyPeer(u.hostname.replace(/^\[|\]$/g, ''), port)
    const final = (code: string, message: string): EsRequestError => new EsRequestError(code, message, { stage: 'final', where, cause: err })
    if (notHttp) return final('ENOTHTTP', `${where.host} does not speak HTTP: it is ${peer?.description ?? 'some other service'}; check the port of --url (Elasticsearch listens on 9200)`)
    if (tlsToPlain) {
      if (peer?.protocol === 'http') return final('ES_WRONG_SCHEME', `${where.host} does not speak TLS: it is ${peer.description}; use http://`)
      return final('EPROTO', `${where.host} does not speak TLS (${/wrong version number|packet length too long|unknown protocol/i.exec(msg)?.[0] ?? 'handshake failed'}): it is ${peer?.description ?? 'some other service'}; check the scheme and port of --url`)
    }
    if (peer?.protocol === 'tls') return final('ES_WRONG_SCHEME', `${where.host} speaks TLS${peer.detail !== undefined ? ` (${peer.detail})` : ''}: use https://`)
    return base
  }

  async close (): Promise<void> {
    await this.pool.empty()
  }
}
