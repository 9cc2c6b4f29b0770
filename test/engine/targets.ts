// The engines every engine-suite scenario runs against: the real OpenSearch node, and the
// project's test server in both of its dialects. A scenario asserts what a user sees, the same
// on all three, so a place where the test server is not faithful shows as a failing test.

import { startEsServer } from '../servers/es/server.js'
import { startEngine } from './node.js'

export interface Target {
  name: string
  url: string
  /** Whether this is the real engine. */
  real: boolean
  /** Whose dialect it speaks (error types differ: Elasticsearch 8 says document_parsing_exception). */
  dialect: 'elasticsearch' | 'opensearch'
  /** Points in time and scrolls the server holds open now. */
  open: () => Promise<{ pits: number, scrolls: number }>
}

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * The real node (ENGINE_URL from test/engine/run.ts, or one started for this file alone) and two
 * test servers. A node that does not start fails the file: the suite never passes without it.
 */
export async function targets (t: Teardown): Promise<Target[]> {
  let url = process.env.ENGINE_URL
  if (url === undefined || url === '') {
    const node = await startEngine()
    t.teardown(async () => await node.stop())
    url = node.url
  }
  const es = await startEsServer()
  const os = await startEsServer({ distribution: 'opensearch' })
  t.teardown(async () => { await es.close(); await os.close() })
  const node: Target = {
    name: 'OpenSearch node',
    url,
    real: true,
    dialect: 'opensearch',
    open: async () => {
      // The node's point_in_time_current and scroll_current stats were seen stuck at 2 with
      // nothing open (contexts freed by expiry or index deletion): ask the PIT list, and count
      // the reader contexts actually held (scrolls, when no PIT is open).
      const pits = (((await call(node, 'GET', '/_search/point_in_time/_all')).json as { pits: unknown[] }).pits).length
      const stats = await call(node, 'GET', '/_nodes/stats/indices/search')
      const nodes = (stats.json as { nodes: Record<string, { indices: { search: { open_contexts: number } } }> }).nodes
      const held = Object.values(nodes).reduce((a, n) => a + n.indices.search.open_contexts, 0)
      return { pits, scrolls: pits === 0 ? held : 0 }
    }
  }
  const held = (server: typeof es) => async () => ({ pits: server.openPits(), scrolls: server.openScrolls() })
  return [
    node,
    { name: 'test server (Elasticsearch 8.19)', url: es.url, real: false, dialect: 'elasticsearch', open: held(es) },
    { name: 'test server (OpenSearch 2.19)', url: os.url, real: false, dialect: 'opensearch', open: held(os) }
  ]
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
