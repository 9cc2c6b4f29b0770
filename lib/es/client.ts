import { Client, HttpConnection } from '@elastic/elasticsearch'
import type { ClientOptions } from '@elastic/elasticsearch'
import { readFileSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { gunzipSync, inflateSync } from 'node:zlib'
import type { StageContext } from '../core/context.js'
import { EspipeError, UsageError } from '../core/errors.js'
import type { EsWhere } from './errors.js'
import { responseError, transportError } from './errors.js'
import { maskUrl } from '../core/mask.js'

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
}

export const DEFAULT_ES_URL = 'http://localhost:9200'

/**
 * The original tool took a search URL (`--es_url http://host:9200/idx/_search`): split it into
 * the node URL and the index named in its path.
 */
export function splitSearchUrl (url: string): { node: string, index?: string } {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new UsageError(`invalid value for --url: '${maskUrl(url)}' is not a URL`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`invalid value for --url: '${maskUrl(url)}' (http or https)`)
  const parts = u.pathname.split('/').filter((p) => p !== '')
  let index: string | undefined
  if (parts.length > 0 && parts[parts.length - 1] === '_search') {
    parts.pop()
    if (parts.length > 0) index = decodeURIComponent(parts.pop() as string)
  }
  u.pathname = '/' + parts.join('/')
  u.search = ''
  return { node: u.toString().replace(/\/$/, ''), index }
}

const JSON_TYPE = 'application/vnd.elasticsearch+json; compatible-with=8'
/** What the client itself sends with a _bulk body. */
const NDJSON_TYPE = 'application/vnd.elasticsearch+x-ndjson; compatible-with=8'

export interface EsRequest {
  method: string
  path: string
  querystring?: Record<string, string>
  body?: string
  /** The body is NDJSON (_bulk), not one JSON document. */
  ndjson?: boolean
}

export interface RawResponse { status: number, text: string }

/**
 * One cluster connection: the real client with its own retries switched off (es-read decides
 * retries in one place, lib/core/retry.ts) and a request helper that returns the raw body text.
 */
export class EsConnection {
  readonly client: Client
  /** The node as printed in messages: password masked. */
  readonly host: string

  constructor (opts: EsConnectionOptions, ctx?: StageContext) {
    const url = opts.url ?? DEFAULT_ES_URL
    const masker = ctx?.logger.masker
    masker?.add(opts.password, opts.apiKey)
    const options: ClientOptions = {
      maxRetries: 0,
      requestTimeout: opts.requestTimeoutMs ?? 120_000,
      // Reading one index needs one node: sniffing would send requests we never asked for.
      sniffOnStart: false,
      // node:http rather than undici: undici compiles its WebAssembly HTTP parser on the first
      // request, a ~30 MB peak of RSS that is a quarter of es-read's memory budget.
      Connection: HttpConnection
    }
    if (opts.cloudId !== undefined) {
      options.cloud = { id: opts.cloudId }
      this.host = `cloud ${opts.cloudId.split(':')[0]}`
    } else {
      let parsed: URL
      try {
        parsed = new URL(url)
      } catch {
        throw new UsageError(`invalid value for --url: '${maskUrl(url)}' is not a URL`)
      }
      if (parsed.password !== '') masker?.add(decodeURIComponent(parsed.password))
      options.node = url
      this.host = maskUrl(url)
    }
    if (opts.apiKey !== undefined) {
      const k = opts.apiKey
      const colon = k.indexOf(':')
      options.auth = colon > 0 && !/^[A-Za-z0-9+/=]+$/.test(k) ? { apiKey: { id: k.slice(0, colon), api_key: k.slice(colon + 1) } } : { apiKey: k }
      if (colon > 0) masker?.add(k.slice(colon + 1), Buffer.from(k).toString('base64'))
    } else if (opts.username !== undefined || opts.password !== undefined) {
      options.auth = { username: opts.username ?? 'elastic', password: opts.password ?? '' }
    }
    if (opts.caCert !== undefined || opts.insecure === true) {
      let ca: Buffer | undefined
      if (opts.caCert !== undefined) {
        try {
          ca = readFileSync(opts.caCert)
        } catch (err) {
          throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot read --ca-cert ${opts.caCert}: ${(err as Error).message}`, { context: { file: opts.caCert } })
        }
      }
      options.tls = { ca, rejectUnauthorized: opts.insecure !== true }
    }
    if (opts.insecure === true) ctx?.logger.warn('--insecure: the server\'s TLS certificate is not checked')
    this.client = new Client(options)
  }

  /**
   * Sends one request and reads the whole body as text. Any status ≥ 400 becomes an
   * EsRequestError naming host, index, status, type and reason; a connection lost while the
   * body streams in is an error too (never a short page).
   */
  async request (req: EsRequest, where: EsWhere, what: string, signal?: AbortSignal): Promise<RawResponse> {
    let status: number
    let headers: Record<string, unknown>
    let stream: Readable
    try {
      const res = await this.client.transport.request<Readable>(
        { method: req.method, path: req.path, querystring: req.querystring, body: req.body },
        { asStream: true, meta: true, signal, headers: req.body !== undefined ? { 'content-type': req.ndjson === true ? NDJSON_TYPE : JSON_TYPE, accept: JSON_TYPE } : { accept: JSON_TYPE } }
      )
      status = res.statusCode ?? 0
      headers = res.headers ?? {}
      stream = res.body
    } catch (err) {
      if ((err as Error).name === 'RequestAbortedError') throw err
      if ((err as Error).name === 'ProductNotSupportedError') {
        throw new EspipeError('ES_NOT_ELASTICSEARCH', `${where.host} did not answer as Elasticsearch (no x-elastic-product header)`, { context: { host: where.host } })
      }
      throw transportError(err, where, what)
    }
    const encoding = String(headers['content-encoding'] ?? '')
    const compressed = encoding.includes('gzip') || encoding.includes('deflate')
    // Decoded as it arrives: a page is then one string, without an extra Buffer copy of it.
    if (!compressed) stream.setEncoding('utf8')
    let text = ''
    const chunks: Buffer[] = []
    // The transport stops watching the signal once headers are in: a body still streaming
    // must stop too when the read is aborted.
    const abort = (): void => { stream.destroy(new Error('Request aborted')) }
    signal?.addEventListener('abort', abort, { once: true })
    try {
      for await (const chunk of stream) {
        if (compressed) chunks.push(chunk as Buffer)
        else text += chunk as string
      }
    } catch (err) {
      if (signal?.aborted === true) throw err
      throw transportError(err, where, what, true)
    } finally {
      signal?.removeEventListener('abort', abort)
    }
    if (compressed) {
      const bytes = Buffer.concat(chunks)
      text = (encoding.includes('gzip') ? gunzipSync(bytes) : inflateSync(bytes)).toString('utf8')
    }
    if (status >= 400) throw responseError(status, text, where, what)
    return { status, text }
  }

  async close (): Promise<void> {
    await this.client.close()
  }
}
