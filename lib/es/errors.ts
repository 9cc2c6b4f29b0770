import { EspipeError } from '../core/errors.js'
import { CERT_DATE_CODES, CERT_NAME_CODES, CERT_OTHER_CODES, CERT_UNTRUSTED_CODES } from '../core/tls-codes.js'

/** Where a request went: printed in every error so the user knows what failed. */
export interface EsWhere {
  /** The node's URL with any password masked. */
  host: string
  index?: string
}

/** When a failed request could have changed state on the server (a scroll cursor). */
export type FailureStage = 'not-sent' | 'rejected' | 'ambiguous' | 'final'

/**
 * A failed Elasticsearch request, with what es-read needs to decide: the HTTP status, the ES
 * error type, and `stage`: `not-sent` (no connection), `rejected` (429: refused before any
 * work), `ambiguous` (5xx, reset, timeout, shard failure: work may have been done), `final`
 * (a 4xx answer that a retry would only repeat).
 */
export class EsRequestError extends EspipeError {
  readonly status?: number
  readonly type?: string
  readonly stage: FailureStage

  constructor (code: string, message: string, opts: { status?: number, type?: string, stage: FailureStage, where: EsWhere, cause?: unknown }) {
    super(code, message, { context: { host: opts.where.host, index: opts.where.index, status: opts.status }, cause: opts.cause })
    this.name = 'EsRequestError'
    this.status = opts.status
    this.type = opts.type
    this.stage = opts.stage
  }
}

interface EsErrorBody {
  error?: string | { type?: string, reason?: string, root_cause?: Array<{ type?: string, reason?: string }>, caused_by?: { type?: string, reason?: string } }
  status?: number
}

/** The error type and reason of an ES error body; the root cause says more when it differs. */
function describeBody (text: string): { type?: string, reason?: string, rootType?: string } {
  let body: EsErrorBody
  try {
    body = JSON.parse(text) as EsErrorBody
  } catch {
    const t = text.trim()
    return { reason: t === '' ? undefined : t.slice(0, 200) }
  }
  const e = body.error
  if (typeof e === 'string') return { reason: e }
  if (e === undefined) return {}
  const root = e.root_cause?.[0]
  let reason = e.reason ?? e.caused_by?.reason
  if (root?.reason !== undefined && root.reason !== reason) reason = reason === undefined ? root.reason : `${reason}: ${root.reason}`
  return { type: e.type, reason, rootType: root?.type }
}

type Headers = Record<string, unknown>

/** An error body Elasticsearch (or OpenSearch) writes: JSON with an `error` member. */
function isEsErrorBody (text: string): boolean {
  try {
    const body = JSON.parse(text) as unknown
    return body !== null && typeof body === 'object' && 'error' in body
  } catch {
    return false
  }
}

/** What answered, from the headers and the page: `nginx/1.24.0, text/html "404 Not Found"`. */
export function describeHttpAnswer (headers: Headers, text = ''): string {
  const server = typeof headers.server === 'string' && headers.server !== '' ? headers.server : 'a server that does not name itself'
  const type = typeof headers['content-type'] === 'string' ? headers['content-type'].split(';')[0].trim() : undefined
  const title = /<title[^>]*>([^<]{1,80})<\/title>/i.exec(text)?.[1]?.replace(/\s+/g, ' ').trim()
  return [server, type !== undefined && type !== '' ? type : undefined, title !== undefined && title !== '' ? `"${title}"` : undefined].filter((p) => p !== undefined).join(', ')
}

/**
 * An answer of AWS's own front end (Amazon OpenSearch Service, OpenSearch Serverless), not of the
 * engine: `x-amzn-ErrorType` and a body `{"message": …}`. Its type and first paragraph (a wrong
 * signature's answer goes on with the canonical request AWS computed).
 */
function awsAnswer (headers: Headers, text: string): { type?: string, message?: string } | undefined {
  const header = typeof headers['x-amzn-errortype'] === 'string' ? headers['x-amzn-errortype'].split(':')[0] : undefined
  let message: string | undefined
  try {
    const body = JSON.parse(text) as { message?: unknown, Message?: unknown }
    const m = body.message ?? body.Message
    if (typeof m === 'string') message = m.split('\n\n')[0]?.replace(/\s+/g, ' ').trim()
  } catch {}
  if (header === undefined && message === undefined) return undefined
  if (header === undefined && headers['x-amzn-requestid'] === undefined) return undefined
  return { type: header, message }
}

/** Statuses a proxy or load balancer in front of a cluster gives while the cluster is away. */
const PROXY_TRANSIENT = new Set([429, 502, 503, 504])

/**
 * Turns an error status and body into a message that names host, index, status, type and
 * reason. An answer that is not Elasticsearch's (an HTML page, no product header) is named by
 * what sent it and never quoted: final, unless it is a proxy's "try later" (429, 502-504).
 */
export function responseError (status: number, text: string, where: EsWhere, what: string, headers: Headers = {}): EsRequestError {
  if (headers['x-elastic-product'] === undefined && !isEsErrorBody(text)) {
    const aws = awsAnswer(headers, text)
    if (aws !== undefined) {
      const detail = `${status}${aws.type !== undefined ? ` ${aws.type}` : ''}${aws.message !== undefined ? `: ${aws.message}` : ''}`
      const stage: FailureStage = status === 429 ? 'rejected' : status >= 500 ? 'ambiguous' : 'final'
      return new EsRequestError(aws.type ?? `HTTP_${status}`, `AWS refused the request to ${what} at ${where.host} (${detail})`, { status, type: aws.type, stage, where })
    }
    const from = describeHttpAnswer(headers, text)
    if (PROXY_TRANSIENT.has(status)) {
      return new EsRequestError(`HTTP_${status}`, `${what} failed at ${where.host}: ${status} from ${from}`, { status, stage: status === 429 ? 'rejected' : 'ambiguous', where })
    }
    if (status === 401) return new EsRequestError(`HTTP_${status}`, `authentication failed at ${where.host} (401 from ${from}); check --username/--password or --api-key`, { status, stage: 'final', where })
    return notElasticsearch(where, `it answered the request to ${what} with ${status} from ${from}`, status)
  }
  const { type, reason, rootType } = describeBody(text)
  const at = `${where.host}${where.index !== undefined ? ` index ${where.index}` : ''}`
  const detail = `${status}${type !== undefined ? ` ${type}` : ''}${reason !== undefined ? `: ${reason}` : ''}`
  const code = rootType === 'search_context_missing_exception' ? rootType : type ?? `HTTP_${status}`
  let message: string
  if (status === 401) message = `authentication failed at ${where.host} (${detail}); check --username/--password or --api-key`
  else if (status === 403) message = `authorization failed: the user may not ${what} on ${at} (${detail})`
  else if (type === 'index_not_found_exception') message = `index not found at ${where.host}: ${reason ?? where.index ?? ''} (${status} ${type})`
  else message = `${what} failed at ${at}: ${detail}`
  const stage: FailureStage = status === 429 ? 'rejected' : status >= 500 ? 'ambiguous' : 'final'
  return new EsRequestError(code, message, { status, type: rootType === 'search_context_missing_exception' ? rootType : type, stage, where })
}

/** The server at the URL answered, but it is not Elasticsearch: final, and says what it is. */
export function notElasticsearch (where: EsWhere, how: string, status?: number): EsRequestError {
  return new EsRequestError('ES_NOT_ELASTICSEARCH', `${where.host} is neither Elasticsearch nor OpenSearch: ${how}; check --url`, { status, stage: 'final', where })
}

/** A retry gets the same certificate: these are final. */
const CERT_UNTRUSTED = new Set<string>(CERT_UNTRUSTED_CODES)
const CERT_DATES = new Set<string>(CERT_DATE_CODES)
const CERT_NAME = new Set<string>(CERT_NAME_CODES)
const CERT_OTHER = new Set<string>(CERT_OTHER_CODES)

/** Whether `code` is Node's word for a server certificate it refused. */
export function isCertificateCode (code: unknown): code is string {
  return typeof code === 'string' && (CERT_UNTRUSTED.has(code) || CERT_DATES.has(code) || CERT_NAME.has(code) || CERT_OTHER.has(code))
}

/**
 * A certificate the client refused: final, coded as Node codes it, and saying what fixes it.
 * `caCert` is the CA file the user gave, if any: a certificate it did not sign is named so.
 */
function certificateError (code: string, reason: string, where: EsWhere, caCert: string | undefined, err: unknown): EsRequestError {
  let problem: string
  let fix: string
  if (CERT_UNTRUSTED.has(code)) {
    problem = caCert === undefined ? 'is not trusted' : `is not signed by the CA in ${caCert}`
    fix = caCert === undefined ? 'give its CA with --ca-cert FILE' : 'give the CA that signed it with --ca-cert FILE'
  } else if (code === 'CERT_HAS_EXPIRED') {
    problem = 'has expired'
    fix = 'renew it on the server (or set this machine\'s clock right)'
  } else if (code === 'CERT_NOT_YET_VALID') {
    problem = 'is not valid yet'
    fix = 'set this machine\'s clock right (or the certificate\'s start date)'
  } else if (CERT_NAME.has(code)) {
    let name: string | undefined
    try {
      name = new URL(where.host).hostname
    } catch {}
    problem = name === undefined ? 'is for another name' : `does not name ${name}`
    fix = name === undefined ? 'reach the server by a name the certificate holds' : 'give --url a host name the certificate holds'
    reason = reason.replace(/^Hostname\/IP does not match certificate's altnames: /, '')
  } else {
    problem = 'is refused'
    fix = 'check the certificate the server presents'
  }
  return new EsRequestError(code, `${where.host}: the server's TLS certificate ${problem} (${reason}); ${fix}, or --insecure to skip the check`, { stage: 'final', where, cause: err })
}

/**
 * Client-side failures: no connection, a reset (also mid-body), a timeout, a certificate
 * refused. The transport keeps only the message of what failed: a certificate's code comes as
 * the message's prefix (`DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate`), which the
 * connection in client.ts puts there.
 */
export function transportError (err: unknown, where: EsWhere, what: string, opts: { midBody?: boolean, caCert?: string } = {}): EsRequestError {
  const midBody = opts.midBody === true
  const e = err as { name?: string, message?: string, code?: string }
  // The transport appends the socket's ends to a reset ("- Local: …, Remote: …"): noise here.
  const msg = (e.message ?? String(err)).replace(/ - Local: \S+, Remote: \S+$/, '')
  const cert = /^([A-Z][A-Z_]+): ([\s\S]*)$/.exec(msg)
  if (cert !== null && isCertificateCode(cert[1])) return certificateError(cert[1], cert[2], where, opts.caCert, err)
  if (isCertificateCode(e.code)) return certificateError(e.code, msg, where, opts.caCert, err)
  const errno = /\b(E[A-Z]{3,}|UND_ERR_[A-Z_]+)\b/.exec(msg)?.[1] ?? e.code
  if (e.name === 'TimeoutError') {
    return new EsRequestError('ETIMEDOUT', `${what} timed out at ${where.host}`, { stage: 'ambiguous', where, cause: err })
  }
  const notSent = !midBody && (errno === 'ECONNREFUSED' || errno === 'ENOTFOUND' || errno === 'EAI_AGAIN' || errno === 'EHOSTUNREACH')
  const how = errno === 'ECONNREFUSED'
    ? 'connection refused'
    : errno === 'ENOTFOUND' ? 'host not found' : midBody ? `connection lost while reading the response (${msg})` : msg
  return new EsRequestError(errno ?? 'ECONNECTION', `cannot ${what} at ${where.host}: ${how}`, { stage: notSent ? 'not-sent' : 'ambiguous', where, cause: err })
}

/** A response whose shards did not all answer: a page with holes must never be passed on. */
export function shardFailureError (shards: { total: number, failed: number, failures?: Array<{ reason?: { type?: string, reason?: string } }> }, where: EsWhere, what: string): EsRequestError {
  const first = shards.failures?.[0]?.reason
  const why = first !== undefined ? `: ${first.type ?? ''}${first.reason !== undefined ? ` ${first.reason}` : ''}` : ''
  return new EsRequestError(first?.type ?? 'shard_failure', `${what} at ${where.host} index ${where.index ?? ''}: ${shards.failed} of ${shards.total} shards failed${why}`, { stage: 'ambiguous', where })
}

export function isContextMissing (err: unknown): boolean {
  return err instanceof EsRequestError && err.type === 'search_context_missing_exception'
}
