// An Elasticsearch-compatible HTTP server for espipe's tests and benchmarks (never shipped).
// It answers the REST subset es-read relies on as ES 8.19 does, refuses the rest with ES's own
// 400s, and injects faults on demand (see faults.ts).

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { TLSSocket } from 'node:tls'
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib'
import { Contexts } from './contexts.js'
import { Documents, type BulkOptions } from './documents.js'
import { EsError, illegalArgument, methodNotAllowed, noHandler, injectedError, searchContextMissing, unauthenticated, xContentParse } from './errors.js'
import { Faults, type FaultAction, type FaultControl } from './faults.js'
import { filterPath } from './filter-path.js'
import { isObject, JsonSyntaxError, parseJson, RawJson, stringify, type Json, type Out } from './json.js'
import { SearchService, type Effects, type Params, type SearchResponse } from './search.js'
import { Store } from './store.js'

export type { FaultControl } from './faults.js'

export interface EsServerOptions {
  auth?: { basic?: { username: string; password: string }; apiKey?: { id: string; key: string } }
  /** Reported by `GET /`; its major decides which `compatible-with` versions are accepted. Default '8.19.0'. */
  version?: string
  /** Port to listen on; default 0 (a free port). */
  port?: number
  /** http.max_content_length: a larger request body gets 413 with an empty body. Default 100 MB. */
  maxContentLength?: number
  /**
   * Answer as OpenSearch (default version 2.19.1): `version.distribution` in `GET /`, no
   * x-elastic-product header, 406 for Elasticsearch's vendored media types, the PIT API under
   * `/_search/point_in_time`, no implicit tiebreaker, `_shard_doc` only from 3.3, `_id` sortable.
   */
  distribution?: 'elasticsearch' | 'opensearch'
  /** Serve HTTPS with this key and certificate (PEM); `url` then starts with https://. */
  tls?: {
    key: string | Buffer
    cert: string | Buffer
    /** Require a client certificate signed by this CA (mutual TLS); without one the handshake fails. */
    clientCa?: string | Buffer
  }
  /**
   * ES's http.compression: gzip every answer to a request whose Accept-Encoding allows it.
   * Default off (ES has it on for plain HTTP). A gzip or deflate request body is read either way.
   */
  httpCompression?: boolean
}

export interface RequestRecord {
  method: string
  path: string
  query: Record<string, string>
  body?: unknown
  status: number
  headers: IncomingHttpHeaders
  /** The TLS version the request came over ('TLSv1.3'); undefined over plain HTTP. */
  tls?: string
  /** The subject CN of the client certificate it came with (mutual TLS). */
  clientCert?: string
}

export interface EsTestServer {
  url: string
  port: number
  close(): Promise<void>
  addDocs(index: string, docs: Array<{ _id?: string; _source: Record<string, unknown> }>): void
  faults: FaultControl
  /** Every request answered; `status` is 0 when the connection was reset. Bodies kept when < 64 KB. */
  requests: RequestRecord[]
  openPits(): number
  openScrolls(): number
  expireAllContexts(): void
  /** The `_source` bytes stored for a document, as they came in (undefined when there is none). */
  storedSource(index: string, id: string): string | undefined
  /** Every stored document of an index: id → `_source` bytes. */
  storedSources(index: string): Map<string, string>
  /** The most requests that were being answered at the same time, since start or the last call. */
  peakConcurrency(): number
}

const MAX_LOGGED_BODY = 64 * 1024
const DEFAULT_MAX_CONTENT_LENGTH = 100 * 1024 * 1024

// The query parameters _bulk takes (besides the common ones); ES refuses any other.
const BULK_PARAMS = new Set([
  'refresh', 'routing', 'timeout', 'wait_for_active_shards', 'pipeline', 'require_alias', 'require_data_stream',
  '_source', '_source_includes', '_source_excludes', 'list_executed_pipelines', 'include_source_on_error',
  'filter_path', 'pretty', 'human', 'error_trace', 'format',
])

interface Req {
  method: string
  segments: string[]
  rawPath: string
  rawUrl: string
  params: Params
  raw: string
  body: Json | undefined
}

interface Reply {
  status: number
  body?: Out
  headers?: Record<string, string>
}

type Handler = (req: Req, fx: Effects) => Reply | Promise<Reply>

interface Route {
  pattern: string[]
  methods: Record<string, Handler>
}

function match(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined
  const vars: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string
    const s = segments[i] as string
    if (p.startsWith(':')) {
      // Variables never swallow API names: `/_search` is not an index called `_search`.
      if (s.startsWith('_') && p === ':index' && i === 0 && pattern.length > 1) return undefined
      vars[p.slice(1)] = s
    } else if (p !== s) return undefined
  }
  return vars
}

function acceptedCompat(version: string): number[] {
  const major = Number(version.split('.')[0])
  return [major - 1, major]
}

export async function startEsServer(opts: EsServerOptions = {}): Promise<EsTestServer> {
  const opensearch = opts.distribution === 'opensearch'
  const version = opts.version ?? (opensearch ? '2.19.1' : '8.19.0')
  const [major, minor] = version.split('.').map(Number) as [number, number]
  const maxContentLength = opts.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH
  const store = new Store()
  const contexts = new Contexts()
  const search = new SearchService(store, contexts, { opensearch, shardDoc: !opensearch || major > 3 || (major === 3 && minor >= 3), idSort: opensearch || major < 8 })
  const docs = new Documents(store, opensearch)
  const faults = new Faults()
  const requests: RequestRecord[] = []
  const ok = (body: Out): Reply => ({ status: 200, body })
  const idx = (r: Req, n = 0): string => r.segments[n] as string
  const bulk = (r: Req, pathIndex?: string): Reply => {
    for (const k of Object.keys(r.params)) {
      if (!BULK_PARAMS.has(k)) throw illegalArgument(`request [${r.rawPath}] contains unrecognized parameter: [${k}]`)
    }
    const refresh = r.params.refresh
    if (refresh !== undefined && !['', 'true', 'false', 'wait_for'].includes(refresh)) throw illegalArgument(`Unknown value for refresh: [${refresh}].`)
    const opts: BulkOptions = { pipeline: r.params.pipeline, routing: r.params.routing, reject: () => faults.rejectItem() }
    const answer = docs.bulk(pathIndex, r.raw, opts)
    if (refresh !== undefined && refresh !== 'false') refreshAll(store.resolve(undefined))
    return ok(answer)
  }
  const refreshAll = (names: string[]): Out => {
    for (const name of names) store.get(name).refresh()
    return refreshed(names.length)
  }
  /** `?refresh=true|wait_for` on a single-document write makes its index searchable at once. */
  const withRefresh = <T>(r: Req, reply: T): T => {
    const refresh = r.params.refresh
    if (refresh !== undefined && refresh !== 'false' && store.indices.has(idx(r))) store.get(idx(r)).refresh()
    return reply
  }
  const docParams = (r: Req): { routing?: string; pipeline?: string; ifSeqNo?: string; ifPrimaryTerm?: string } => ({ routing: r.params.routing, pipeline: r.params.pipeline, ifSeqNo: r.params.if_seq_no, ifPrimaryTerm: r.params.if_primary_term })
  const routes: Route[] = [
    {
      pattern: [],
      methods: {
        GET: () => ok(opensearch ? openSearchInfo(version) : info(version)),
        HEAD: () => ({ status: 200 }),
      },
    },
    { pattern: ['_bulk'], methods: { POST: (r) => bulk(r), PUT: (r) => bulk(r) } },
    {
      pattern: ['_ingest', 'pipeline', ':id'],
      methods: {
        PUT: (r) => ok(docs.pipelines.put(idx(r, 2), r.body)),
        GET: (r) => docs.pipelines.get(idx(r, 2)),
        DELETE: (r) => ok(docs.pipelines.delete(idx(r, 2))),
      },
    },
    {
      pattern: ['_search'],
      methods: {
        GET: (r, fx) => ok(search.search(undefined, r.params, r.body, fx)),
        POST: (r, fx) => ok(search.search(undefined, r.params, r.body, fx)),
      },
    },
    {
      pattern: ['_search', 'scroll'],
      methods: {
        GET: (r, fx) => ok(search.scroll(r.params, r.body, fx)),
        POST: (r, fx) => ok(search.scroll(r.params, r.body, fx)),
        DELETE: (r) => search.clearScroll(r.params, r.body, undefined),
      },
    },
    {
      pattern: ['_search', 'scroll', ':id'],
      methods: {
        GET: (r, fx) => ok(search.scroll({ ...r.params, scroll_id: idx(r, 2) }, r.body, fx)),
        POST: (r, fx) => ok(search.scroll({ ...r.params, scroll_id: idx(r, 2) }, r.body, fx)),
        DELETE: (r) => search.clearScroll(r.params, r.body, idx(r, 2)),
      },
    },
    { pattern: ['_pit'], methods: { DELETE: (r) => search.closePit(r.body) } },
    {
      pattern: ['_count'],
      methods: { GET: (r) => ok(search.count(undefined, r.params, r.body)), POST: (r) => ok(search.count(undefined, r.params, r.body)) },
    },
    { pattern: ['_refresh'], methods: { POST: () => ok(refreshAll(store.resolve(undefined))), GET: () => ok(refreshAll(store.resolve(undefined))) } },
    {
      pattern: ['_cluster', 'health'],
      methods: { GET: () => ok({ cluster_name: 'espipe-test', status: 'green', timed_out: false, number_of_nodes: 1, number_of_data_nodes: 1 }) },
    },
    {
      pattern: [':index'],
      methods: {
        PUT: (r) => ok(docs.createIndex(idx(r), r.body)),
        DELETE: (r) => ok(docs.deleteIndex(idx(r))),
        GET: (r) => ok(docs.getIndex(idx(r))),
        HEAD: (r) => ({ status: store.resolve(idx(r), true).length > 0 && !missingConcrete(store, idx(r)) ? 200 : 404 }),
      },
    },
    { pattern: [':index', '_doc'], methods: { POST: (r) => withRefresh(r, docs.indexDoc(idx(r), undefined, r.raw, false, docParams(r))) } },
    {
      pattern: [':index', '_doc', ':id'],
      methods: {
        PUT: (r) => withRefresh(r, docs.indexDoc(idx(r), idx(r, 2), r.raw, r.params.op_type === 'create', docParams(r))),
        POST: (r) => withRefresh(r, docs.indexDoc(idx(r), idx(r, 2), r.raw, r.params.op_type === 'create', docParams(r))),
        GET: (r) => docs.getDoc(idx(r), idx(r, 2)),
        HEAD: (r) => ({ status: docs.getDoc(idx(r), idx(r, 2)).status }),
        DELETE: (r) => withRefresh(r, docs.deleteDoc(idx(r), idx(r, 2))),
      },
    },
    {
      pattern: [':index', '_create', ':id'],
      methods: {
        PUT: (r) => withRefresh(r, docs.indexDoc(idx(r), idx(r, 2), r.raw, true, docParams(r))),
        POST: (r) => withRefresh(r, docs.indexDoc(idx(r), idx(r, 2), r.raw, true, docParams(r))),
      },
    },
    { pattern: [':index', '_bulk'], methods: { POST: (r) => bulk(r, idx(r)), PUT: (r) => bulk(r, idx(r)) } },
    {
      pattern: [':index', '_search'],
      methods: {
        GET: (r, fx) => ok(search.search(idx(r), r.params, r.body, fx)),
        POST: (r, fx) => ok(search.search(idx(r), r.params, r.body, fx)),
      },
    },
    { pattern: [':index', '_pit'], methods: { POST: (r) => ok(search.openPit(idx(r), r.params)) } },
    {
      pattern: [':index', '_count'],
      methods: { GET: (r) => ok(search.count(idx(r), r.params, r.body)), POST: (r) => ok(search.count(idx(r), r.params, r.body)) },
    },
    {
      pattern: [':index', '_refresh'],
      methods: {
        POST: (r) => ok(refreshAll(store.resolve(idx(r)))),
        GET: (r) => ok(refreshAll(store.resolve(idx(r)))),
      },
    },
    { pattern: [':index', '_mapping'], methods: { GET: (r) => ok(docs.getMapping(idx(r))) } },
    { pattern: [':index', '_alias'], methods: { GET: (r) => ok(docs.getAliases(idx(r))) } },
    { pattern: ['_cat', 'aliases', ':name'], methods: { GET: (r) => ok(docs.catAliases(idx(r, 2))) } },
    { pattern: [':index', '_settings'], methods: { GET: (r) => ok(docs.getSettings(idx(r), r.params.flat_settings === 'true')) } },
    { pattern: [':index', '_settings', ':name'], methods: { GET: (r) => ok(docs.getSettings(idx(r), r.params.flat_settings === 'true', idx(r, 2))) } },
  ]

  if (opensearch) {
    const pitApi = (p: string[]): boolean => p[p.length - 1] === '_pit'
    routes.splice(0, routes.length, ...routes.filter((r) => !pitApi(r.pattern)))
    // The point-in-time API came with OpenSearch 2.4.
    if (major > 2 || (major === 2 && minor >= 4)) {
      routes.push(
        { pattern: ['_search', 'point_in_time'], methods: { DELETE: (r) => search.closePits(r.body) } },
        { pattern: [':index', '_search', 'point_in_time'], methods: { POST: (r) => ok(search.openPit(idx(r), r.params)) } },
      )
    }
  }

  function route(req: Req): { handler: Handler } {
    const allowed = new Set<string>()
    for (const r of routes) {
      if (match(r.pattern, req.segments) === undefined) continue
      const h = r.methods[req.method]
      if (h !== undefined) return { handler: h }
      for (const m of Object.keys(r.methods)) allowed.add(m)
    }
    if (allowed.size > 0) throw methodNotAllowed(req.method, req.rawPath, [...allowed])
    throw noHandler(req.method, req.rawPath)
  }

  function checkAuth(header: string | undefined, rawUrl: string): void {
    const auth = opts.auth
    if (auth === undefined || (auth.basic === undefined && auth.apiKey === undefined)) return
    if (header === undefined) throw unauthenticated(`missing authentication credentials for REST request [${rawUrl}]`)
    const [scheme, value = ''] = header.split(' ', 2)
    const decoded = Buffer.from(value, 'base64').toString()
    const colon = decoded.indexOf(':')
    const [user, secret] = colon < 0 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)]
    if (scheme === 'Basic') {
      if (auth.basic !== undefined && user === auth.basic.username && secret === auth.basic.password) return
      throw unauthenticated(`unable to authenticate user [${user}] for REST request [${rawUrl}]`)
    }
    if (scheme === 'ApiKey' && auth.apiKey !== undefined && user === auth.apiKey.id && secret === auth.apiKey.key) return
    throw unauthenticated('unable to authenticate with provided credentials and anonymous access is not allowed for this request')
  }

  function checkMediaTypes(req: IncomingMessage): void {
    const type = req.headers['content-type'] ?? ''
    if (opensearch && type.includes('application/vnd.elasticsearch')) {
      throw new EsError(406, { type: 'media_type', reason: `Content-Type header [${type}] is not supported` }, undefined, {}, true)
    }
    const accepted = acceptedCompat(version)
    for (const name of ['accept', 'content-type'] as const) {
      const m = /compatible-with=(\d+)/.exec(req.headers[name] ?? '')
      if (m !== null && !accepted.includes(Number(m[1]))) {
        const reason = 'Invalid media-type value on headers [Accept, Content-Type]'
        throw new EsError(400, {
          type: 'media_type_header_exception',
          reason,
          caused_by: {
            type: 'status_exception',
            reason: `A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match. Content-Type=${req.headers['content-type'] ?? 'null'}, Accept=${req.headers.accept ?? 'null'}`,
          },
        })
      }
    }
  }

  function parseBody(req: IncomingMessage, raw: string, segments: string[]): Json | undefined {
    if (raw === '') return undefined
    const type = req.headers['content-type'] ?? ''
    const isBulk = segments[segments.length - 1] === '_bulk'
    if (isBulk && /ndjson|json/.test(type)) return undefined
    if (!type.includes('application/json') && !type.includes('application/vnd.elasticsearch+json')) {
      throw new EsError(406, { type: 'content_type', reason: `Content-Type header [${type}] is not supported` }, undefined, {}, true)
    }
    try {
      return parseJson(raw)
    } catch (e) {
      if (e instanceof JsonSyntaxError) throw xContentParse(`Unexpected character: ${e.message}`)
      throw e
    }
  }

  function namedContext(segments: string[], body: Json | undefined, params: Params): unknown {
    if (isObject(body) && isObject(body.pit)) return body.pit.id
    if (segments[0] === '_search' && segments[1] === 'scroll') {
      return (isObject(body) ? body.scroll_id : undefined) ?? segments[2] ?? params.scroll_id
    }
    return undefined
  }

  let concurrent = 0
  let peak = 0
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    concurrent++
    peak = Math.max(peak, concurrent)
    try {
      await answer(req, res)
    } finally {
      concurrent--
    }
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const c of req) {
      size += (c as Buffer).length
      // Past the limit the rest is read and dropped, as ES's HTTP layer does before its 413.
      if (size <= maxContentLength) chunks.push(c as Buffer)
    }
    const rawUrl = req.url ?? '/'
    const tls = req.socket instanceof TLSSocket ? req.socket.getProtocol() ?? undefined : undefined
    if (size > maxContentLength) {
      requests.push({ method: req.method ?? 'GET', path: new URL(rawUrl, 'http://localhost').pathname, query: {}, status: 413, headers: req.headers, tls })
      // Netty answers this one, not the REST layer: no body, no product header.
      res.writeHead(413, { 'content-length': 0 }).end()
      return
    }
    const bytes = Buffer.concat(chunks)
    const encoding = req.headers['content-encoding']
    const raw = (encoding === 'gzip' ? gunzipSync(bytes) : encoding === 'deflate' ? inflateSync(bytes) : bytes).toString('utf8')
    const url = new URL(rawUrl, 'http://localhost')
    const params: Params = Object.fromEntries(url.searchParams)
    const record: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query: params, status: 0, headers: req.headers, tls }
    if (req.socket instanceof TLSSocket) {
      const cn = req.socket.getPeerCertificate().subject?.CN
      if (typeof cn === 'string') record.clientCert = cn
    }
    if (raw.length > 0 && raw.length < MAX_LOGGED_BODY) record.body = raw
    requests.push(record)
    const compat = /compatible-with=(\d+)/.exec(req.headers.accept ?? '')
    const contentType = opensearch ? 'application/json; charset=UTF-8' : compat !== null ? `application/vnd.elasticsearch+json;compatible-with=${compat[1]}` : 'application/json'
    const send = async (reply: Reply, cut: boolean): Promise<void> => {
      if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs))
      const filter = params.filter_path
      const body = filter !== undefined && reply.status < 400 && reply.body !== undefined ? filterPath(reply.body, filter) : reply.body
      const text = body === undefined || req.method === 'HEAD' ? '' : stringify(body)
      const gzip = opts.httpCompression === true && text !== '' && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')
      const out = gzip ? gzipSync(text) : text
      record.status = cut ? 0 : reply.status
      res.writeHead(reply.status, {
        ...(opensearch ? {} : { 'x-elastic-product': 'Elasticsearch' }),
        'content-type': contentType,
        'content-length': Buffer.byteLength(out),
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        ...reply.headers,
      })
      if (cut) {
        // Headers and part of the body reach the client, then the connection drops.
        res.write(out.slice(0, Math.max(1, Math.floor(out.length / 2))), () => res.socket?.destroy())
        return
      }
      res.end(out)
    }
    let fault: FaultAction | undefined
    try {
      const segments = url.pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s))
      checkAuth(req.headers.authorization, rawUrl)
      checkMediaTypes(req)
      const body = parseBody(req, raw, segments)
      if (body !== undefined && raw.length < MAX_LOGGED_BODY) record.body = body
      const context = namedContext(segments, body, params)
      fault = faults.take({ path: url.pathname, isSearch: segments.includes('_search'), namesContext: context !== undefined })
      if (fault?.kind === 'fail') throw injectedError(fault.status, fault.type)
      if (fault?.kind === 'reset' && !fault.midBody) {
        if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs))
        req.socket.destroy()
        return
      }
      if (fault?.kind === 'expire') {
        const n = contexts.expire(context)
        throw searchContextMissing(n ?? 0)
      }
      const { handler } = route({ method: req.method ?? 'GET', segments, rawPath: url.pathname, rawUrl, params, raw, body })
      const fx: Effects = { advance: fault === undefined, register: fault?.kind !== 'reset' }
      const reply = await handler({ method: req.method ?? 'GET', segments, rawPath: url.pathname, rawUrl, params, raw, body }, fx)
      if (fault?.kind === 'shardFailure' && reply.status === 200) failOneShard(reply.body as unknown as SearchResponse)
      await send(reply, fault?.kind === 'reset')
    } catch (e) {
      const err = e instanceof EsError ? e : new EsError(500, { type: 'exception', reason: (e as Error).message ?? String(e) })
      await send({ status: err.status, body: err.body(), headers: err.headers }, fault?.kind === 'reset')
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((e: unknown) => {
      res.destroy(e instanceof Error ? e : new Error(String(e)))
    })
  }
  const tlsOptions = opts.tls === undefined
    ? undefined
    : { key: opts.tls.key, cert: opts.tls.cert, ...(opts.tls.clientCa !== undefined ? { ca: opts.tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}) }
  const server = tlsOptions === undefined ? createServer({ keepAlive: true }, onRequest) : createHttpsServer({ ...tlsOptions, keepAlive: true }, onRequest)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    faults,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
    addDocs: (index, list) => docs.addDocs(index, list),
    openPits: () => contexts.openPits(),
    openScrolls: () => contexts.openScrolls(),
    expireAllContexts: () => contexts.expireAll(),
    storedSource: (index, id) => store.indices.get(index)?.docs.get(id)?.sourceJson,
    peakConcurrency: () => {
      const p = peak
      peak = concurrent
      return p
    },
    storedSources: (index) => new Map([...(store.indices.get(index)?.docs.values() ?? [])].map((d) => [d.id, d.sourceJson])),
  }
}

function missingConcrete(store: Store, expr: string): boolean {
  return expr.split(',').some((n) => !n.includes('*') && n !== '_all' && !store.indices.has(n))
}

function refreshed(n: number): Out {
  return { _shards: { total: n * 2, successful: n, failed: 0 } }
}

function info(version: string): Out {
  const major = Number(version.split('.')[0])
  return {
    name: 'espipe-test-node',
    cluster_name: 'espipe-test',
    cluster_uuid: 'espipe-test-cluster-uuid0',
    version: {
      number: version,
      build_flavor: 'default',
      build_type: 'tar',
      build_hash: '0000000000000000000000000000000000000000',
      build_date: '2025-01-01T00:00:00.000Z',
      build_snapshot: false,
      lucene_version: major >= 9 ? '10.2.2' : '9.12.2',
      minimum_wire_compatibility_version: major >= 9 ? '8.19.0' : '7.17.0',
      minimum_index_compatibility_version: major >= 9 ? '8.0.0' : '7.0.0',
    },
    tagline: 'You Know, for Search',
  }
}

function openSearchInfo(version: string): Out {
  return {
    name: 'espipe-test-node',
    cluster_name: 'espipe-test',
    cluster_uuid: 'espipe-test-cluster-uuid0',
    version: {
      distribution: 'opensearch',
      number: version,
      build_type: 'tar',
      build_hash: '0000000000000000000000000000000000000000',
      build_date: '2025-01-01T00:00:00.000Z',
      build_snapshot: false,
      lucene_version: '9.12.1',
      minimum_wire_compatibility_version: '7.10.0',
      minimum_index_compatibility_version: '7.0.0',
    },
    tagline: 'The OpenSearch Project: https://opensearch.org/',
  }
}

/** Turns a search page into ES's partial-failure shape: one of two shards failed, its hits lost. */
function failOneShard(res: SearchResponse): void {
  const first = res.hits.hits[0]
  const m = first instanceof RawJson ? /^\{"_index":("(?:[^"\\]|\\.)*")/.exec(first.json) : null
  const index = m === null ? null : (JSON.parse(m[1] as string) as string)
  res._shards = {
    total: 2,
    successful: 1,
    skipped: 0,
    failed: 1,
    failures: [
      {
        shard: 1,
        index,
        node: 'espipe-test-node',
        reason: { type: 'node_not_connected_exception', reason: '[espipe-test-node][127.0.0.1:9300] Node not connected' },
      },
    ],
  }
  res.hits.hits = res.hits.hits.filter((_h, i) => i % 2 === 0)
}
