// What every engine-suite scenario runs against. test/engine/run.ts runs the suite once per
// real engine (ENGINE_URL: OpenSearch 2.19, Elasticsearch 7.17, OpenSearch 3.3, one at a time)
// and once against the project's test server in its dialects (ENGINE_TEST_SERVERS=1). A scenario
// asserts what a user sees, with the same expectations everywhere except where the engines
// document a difference (see the helpers below), so a place where the test server is not
// faithful, or where es-read or es-write meet an engine they do not handle, fails a test.

import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { startEngine } from './node.js'
import type { EngineName } from './node.js'

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
