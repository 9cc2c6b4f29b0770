// What every engine-suite scenario runs against. test/engine/run.ts runs the suite once per
// real engine (ENGINE_URL: OpenSearch 2.19, Elasticsearch 7.17, OpenSearch 3.3, one at a time)
// and once against the project's test server in its dialects (ENGINE_TEST_SERVERS=1). A scenario
// asserts what a user sees, with the same expectations everywhere except where the engines
// document a difference (see the helpers below), so a place where the test server is not
// faithful, or where es-read or es-write meet an engine they do not handle, fails a test.

import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { isEngineName, startEngine } from './node.js'
import type { EngineName, NodeSettings } from './node.js'

export interface Target {
  name: string
  url: string
  /** Whether this is a real engine. */
  real: boolean
  distribution: 'elasticsearch' | 'opensearch'
  /** `version.number` of `GET /`. */
  version: string
  /** Points in time and scrolls the server holds open now. */
  open: () => Promise<{ pits: number, scrolls: number }>
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** The test server in the dialects the suite compares with the real engines. */
const TEST_SERVER_DIALECTS: Array<{ distribution: 'elasticsearch' | 'opensearch', version: string }> = [
  { distribution: 'elasticsearch', version: '8.19.0' },
  { distribution: 'opensearch', version: '2.19.1' }
]

/** Whether a target's version is at least major.minor. */
export function atLeast (target: Target, major: number, minor = 0): boolean {
  const [a = 0, b = 0] = target.version.split('.').map(Number)
  return a > major || (a === major && b >= minor)
}

/**
 * The error type a document the mappings refuse gets: Elasticsearch 8 renamed it
 * document_parsing_exception; Elasticsearch 7 and OpenSearch kept mapper_parsing_exception.
 */
export function parsingError (target: Target): string {
  return target.distribution === 'elasticsearch' && atLeast(target, 8) ? 'document_parsing_exception' : 'mapper_parsing_exception'
}

/** A test server target in one dialect (closed when the test ends). */
export async function testServer (t: Teardown, distribution: 'elasticsearch' | 'opensearch', version: string): Promise<Target> {
  const server: EsTestServer = await startEsServer({ distribution, version })
  t.teardown(async () => await server.close())
  return {
    name: `test server (${distribution === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'} ${version})`,
    url: server.url,
    real: false,
    distribution,
    version,
    open: async () => ({ pits: server.openPits(), scrolls: server.openScrolls() })
  }
}

/** The real node at `url`, as GET / names it. */
async function realTarget (url: string): Promise<Target> {
  const root = (await (await fetch(url)).json()) as { version: { number: string, distribution?: string } }
  const distribution = root.version.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch'
  const target: Target = {
    name: `${distribution === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'} ${root.version.number} node`,
    url,
    real: true,
    distribution,
    version: root.version.number,
    open: async () => {
      const stats = await call(target, 'GET', '/_nodes/stats/indices/search')
      const nodes = Object.values((stats.json as { nodes: Record<string, { indices: { search: { open_contexts: number, scroll_current: number } } }> }).nodes)
      const held = nodes.reduce((a, n) => a + n.indices.search.open_contexts, 0)
      if (distribution === 'elasticsearch') {
        // Elasticsearch lists no points in time: what it holds beyond its scrolls is theirs.
        const scrolls = nodes.reduce((a, n) => a + n.indices.search.scroll_current, 0)
        return { pits: held - scrolls, scrolls }
      }
      // OpenSearch's point_in_time_current and scroll_current stats were seen stuck at 2 with
      // nothing open (contexts freed by expiry or index deletion): ask the PIT list, and count
      // the reader contexts actually held (scrolls, when no PIT is open).
      const pits = (((await call(target, 'GET', '/_search/point_in_time/_all')).json as { pits: unknown[] }).pits).length
      return { pits, scrolls: pits === 0 ? held : 0 }
    }
  }
  return target
}

/**
 * The targets of this run: the real node test/engine/run.ts started (ENGINE_URL), or the test
 * server in each dialect (ENGINE_TEST_SERVERS=1), or, for a file run alone, a node of ENGINE
 * (default opensearch-2.19) started for it and the test servers beside it. A node that does not
 * start fails the file: the suite never passes without it.
 */
export async function targets (t: Teardown): Promise<Target[]> {
  const url = process.env.ENGINE_URL
  if (url !== undefined && url !== '') return [await realTarget(url)]
  const servers = await Promise.all(TEST_SERVER_DIALECTS.map(async (d) => await testServer(t, d.distribution, d.version)))
  if (process.env.ENGINE_TEST_SERVERS === '1') return servers
  const node = await startEngine((process.env.ENGINE ?? 'opensearch-2.19') as EngineName)
  t.teardown(async () => await node.stop())
  return [await realTarget(node.url), ...servers]
}

export interface Answer { status: number, json: unknown, text: string }

/** One HTTP request as curl would send it (JSON, or NDJSON for _bulk). */
export async function call (target: Target, method: string, path: string, body?: unknown): Promise<Answer> {
  const ndjson = typeof body === 'string'
  const res = await fetch(target.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
    body: body === undefined ? undefined : ndjson ? body : JSON.stringify(body)
  })
  const text = await res.text()
  let json: unknown
  try { json = JSON.parse(text) } catch {}
  return { status: res.status, json, text }
}

/** A fresh index with real mappings, `docs` bulk-loaded and refreshed. */
export async function seed (target: Target, index: string, mappings: unknown, docs: Array<{ _id: string, source: string }>, shards = 2): Promise<void> {
  await call(target, 'DELETE', `/${index}`)
  const created = await call(target, 'PUT', `/${index}`, { settings: { number_of_shards: shards, number_of_replicas: 0 }, mappings })
  if (created.status !== 200) throw new Error(`creating ${index} on ${target.name}: ${created.status} ${created.text}`)
  for (let i = 0; i < docs.length; i += 1000) {
    const lines = docs.slice(i, i + 1000).map((d) => `{"index":{"_index":"${index}","_id":"${d._id}"}}\n${d.source}\n`).join('')
    const res = await call(target, 'POST', '/_bulk?refresh=true', lines)
    if (res.status !== 200 || (res.json as { errors?: boolean }).errors !== false) throw new Error(`seeding ${index} on ${target.name}: ${res.status} ${res.text.slice(0, 500)}`)
  }
}

/**
 * The limits of a fault target: a request body over 64 KiB is refused (413); a write queue of
 * one behind one write thread refuses shard bulks under concurrent load (429 per item).
 */
export const FAULT_MAX_CONTENT_LENGTH = 64 * 1024

/** A target with small limits, where real failures happen (see faultTargets). */
export interface FaultTarget extends Target {
  /** Until `t` ends, it refuses bulk items under load: a fault node does under concurrent bulks by itself, the test server is told to. */
  overload: (t: Teardown) => void
  /** Bulk work refused so far: a node's write-pool rejections (shard bulks), the test server's refused items. */
  rejected: () => Promise<number>
}

/**
 * Static node settings (read at start only) that make a node's failures happen on demand. The
 * suite's usual node keeps the defaults, so that its scenarios see no rejection and no 413.
 * - http.max_content_length: 413 on a larger request;
 * - thread_pool.write size 1 and queue 1: concurrent shard bulks are refused, however many cores;
 * - search.keep_alive_interval 1s: an expired point in time is reaped within a second (default 1m);
 * - OpenSearch only, point_in_time.init.keep_alive 1s: OpenSearch creates every point in time
 *   with this keep-alive (default 30s) and a search only ever raises it, so a PIT opened with
 *   keep_alive=1s outlived 30 s on a default node (Elasticsearch has no such setting and refuses it).
 */
export function faultNodeSettings (name: EngineName): NodeSettings {
  return {
    cluster: 'espipe-engine-faults',
    settings: {
      'http.max_content_length': `${FAULT_MAX_CONTENT_LENGTH / 1024}kb`,
      'thread_pool.write.size': 1,
      'thread_pool.write.queue_size': 1,
      'search.keep_alive_interval': '1s',
      ...(name.startsWith('opensearch') ? { 'point_in_time.init.keep_alive': '1s' } : {})
    }
  }
}

/** The engine of a running node, from GET /. */
async function engineOf (url: string): Promise<EngineName> {
  const root = (await (await fetch(url)).json()) as { version: { number: string, distribution?: string } }
  const name = `${root.version.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch'}-${root.version.number.split('.').slice(0, 2).join('.')}`
  if (!isEngineName(name)) throw new Error(`${url} runs ${name}, which the engine suite does not know`)
  return name
}

/**
 * The fault targets of this run, beside the usual ones: in a real engine's pass (ENGINE_URL), a
 * second node of that engine started with faultNodeSettings (stopped when the file ends); in
 * the test servers' pass, the test server in each dialect with the same content length and
 * rejections injected; for a file run alone, a fault node of ENGINE and the test servers.
 */
export async function faultTargets (t: Teardown): Promise<FaultTarget[]> {
  const servers = async (): Promise<FaultTarget[]> => await Promise.all(TEST_SERVER_DIALECTS.map(async (d) => {
    const server = await startEsServer({ ...d, maxContentLength: FAULT_MAX_CONTENT_LENGTH })
    t.teardown(async () => await server.close())
    return {
      name: `test server (${d.distribution === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'} ${d.version}, small limits)`,
      url: server.url,
      real: false,
      ...d,
      open: async () => ({ pits: server.openPits(), scrolls: server.openScrolls() }),
      overload: (t: Teardown) => {
        server.faults.rejectBulkItems(0.2, { seed: 30 })
        t.teardown(() => server.faults.reset())
      },
      rejected: async () => server.faults.rejectedItems
    }
  }))
  if (process.env.ENGINE_TEST_SERVERS === '1') return await servers()
  const url = process.env.ENGINE_URL
  const name = url !== undefined && url !== '' ? await engineOf(url) : (process.env.ENGINE ?? 'opensearch-2.19') as EngineName
  const node = await startEngine(name, faultNodeSettings(name))
  t.teardown(async () => await node.stop())
  const real = await realTarget(node.url)
  const fault: FaultTarget = {
    ...real,
    name: `${real.name} (small limits, up in ${node.startSeconds.toFixed(1)} s)`,
    overload: () => {},
    rejected: async () => {
      const stats = await call(real, 'GET', '/_nodes/stats/thread_pool')
      return Object.values((stats.json as { nodes: Record<string, { thread_pool: { write: { rejected: number } } }> }).nodes).reduce((a, n) => a + n.thread_pool.write.rejected, 0)
    }
  }
  return url !== undefined && url !== '' ? [fault] : [fault, ...await servers()]
}
