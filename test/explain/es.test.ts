import http from 'node:http'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Client } from '@elastic/elasticsearch'
import t from 'tap'
import { explainText } from '../../lib/explain/explain.js'
import { loggedError } from '../helpers/explain-run.js'
import { TOOLS } from '../../lib/cli.js'

// Real failures of the real @elastic/elasticsearch client, against a tiny HTTP server that
// answers with Elasticsearch's error bodies (ES-NOTES.md "Errors"), written to stderr the way
// our Logger writes them, then explained.

type Mode = { status: number, type: string, reason: string, rootType?: string, product?: boolean } | 'no-product' | 'hang'
let mode: Mode = 'hang'

const server = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    if (mode === 'hang') return
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (mode === 'no-product') {
      res.writeHead(200, headers)
      res.end('{"hits":{"hits":[]}}')
      return
    }
    headers['x-elastic-product'] = 'Elasticsearch'
    if (mode.status === 401) headers['www-authenticate'] = 'Basic realm="security" charset="UTF-8"'
    const root = { type: mode.rootType ?? mode.type, reason: mode.reason }
    res.writeHead(mode.status, headers)
    res.end(JSON.stringify({ error: { root_cause: [root], type: mode.type, reason: mode.type === root.type ? mode.reason : 'all shards failed' }, status: mode.status }))
  })
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const port = (server.address() as AddressInfo).port
const node = `http://127.0.0.1:${port}`
t.teardown(() => { server.closeAllConnections(); server.close() })

async function esFailure (m: Mode, opts: { node?: string } = {}): Promise<Error> {
  mode = m
  const client = new Client({ node: opts.node ?? node, auth: { username: 'reader', password: 'Es-Secret-123' }, requestTimeout: 300, maxRetries: 0 })
  try {
    await client.search({ index: 'logs', size: 10 })
  } catch (err) {
    return err as Error
  } finally {
    await client.close()
  }
  throw new Error('expected a failure')
}

const closed = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as AddressInfo).port
    s.close(() => resolve(p))
  })
})

interface Case { name: string, err: Error, rule: string, what: string, command?: string, context?: Record<string, string | number> }
const ctx = { url: node, index: 'logs' }
const cases: Case[] = [
  {
    name: '401 security_exception',
    err: await esFailure({ status: 401, type: 'security_exception', reason: 'unable to authenticate user [reader] for REST request [/logs/_search]' }),
    rule: 'es-unauthorized',
    what: `Elasticsearch at ${node} did not accept the credentials (user 'reader').`,
    command: `curl -u reader ${node}/_security/_authenticate?pretty`
  },
  {
    name: '403 security_exception',
    err: await esFailure({ status: 403, type: 'security_exception', reason: 'action [indices:data/read/search] is unauthorized for user [reader] with effective roles [viewer] on indices [logs], this action is granted by the index privileges [read,all]' }),
    rule: 'es-forbidden',
    what: `Elasticsearch at ${node} authenticated user 'reader' but refused action indices:data/read/search on index logs.`
  },
  {
    name: '404 index_not_found_exception',
    err: await esFailure({ status: 404, type: 'index_not_found_exception', reason: 'no such index [logs]' }),
    rule: 'es-index-not-found',
    what: `Elasticsearch at ${node} has no index 'logs'.`,
    command: `curl -u USER '${node}/_cat/indices?v&s=index'`
  },
  {
    name: '429 es_rejected_execution_exception',
    err: await esFailure({ status: 429, type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1024, max_coordinating_and_primary_bytes=0]' }),
    rule: 'es-rejected',
    what: `Elasticsearch at ${node} rejected requests`
  },
  {
    name: '429 circuit_breaking_exception',
    err: await esFailure({ status: 429, type: 'circuit_breaking_exception', reason: '[parent] Data too large, data for [<http_request>] would be [1020/1kb], which is larger than the limit of [1000/1kb]' }),
    rule: 'es-circuit-breaker',
    what: `Elasticsearch at ${node} refused a request that would use more heap`
  },
  {
    name: '404 expired point in time',
    err: await esFailure({ status: 404, type: 'search_phase_execution_exception', rootType: 'search_context_missing_exception', reason: 'No search context found for id [12]' }),
    rule: 'es-search-context-missing',
    what: `Elasticsearch at ${node} no longer knows the point in time (or scroll) the read was paging through on index logs.`
  },
  {
    name: '400 shard failures',
    err: await esFailure({ status: 400, type: 'search_phase_execution_exception', rootType: 'query_shard_exception', reason: 'No mapping found for [title] in order to sort on' }),
    rule: 'es-shard-failure',
    what: `The search on index logs at ${node} failed on its shards.`
  },
  {
    name: 'no X-Elastic-Product header',
    err: await esFailure('no-product'),
    rule: 'es-not-elasticsearch',
    what: `The server at ${node} answered, but neither as Elasticsearch`,
    command: `curl -s -i ${node}/ | head -20`
  },
  {
    name: 'request timeout',
    err: await esFailure('hang'),
    rule: 'timeout',
    what: `No answer from 127.0.0.1:${port} in time.`,
    command: `nc -vz -w 5 127.0.0.1 ${port}`
  },
  {
    name: 'connection refused',
    err: await esFailure('hang', { node: `http://127.0.0.1:${closed}` }),
    rule: 'connection-refused',
    what: `Nothing accepted a connection at 127.0.0.1:${closed}.`,
    command: `curl -u USER http://127.0.0.1:${closed}/`,
    context: { url: `http://127.0.0.1:${closed}`, index: 'logs' }
  },
  {
    name: 'https against a plain HTTP port',
    err: await esFailure('hang', { node: `https://127.0.0.1:${port}` }),
    rule: 'tls-error',
    what: `The secure connection to 127.0.0.1:${port} could not be set up.`,
    command: `openssl s_client -connect 127.0.0.1:${port}`,
    context: { url: `https://127.0.0.1:${port}`, index: 'logs' }
  }
]

for (const c of cases) {
  for (const format of ['text', 'json'] as const) {
    t.test(`${c.name}, ${format}`, async (t) => {
      const log = loggedError('es-read', format, c.err, c.context ?? ctx)
      t.notMatch(log, 'Es-Secret-123')
      const r = await explainText(log, TOOLS)
      t.equal(r.problems.length, 1, 'one problem, also when the message spans several lines')
      const p = r.problems[0]
      t.equal(p.rule, c.rule)
      t.equal(p.tool, 'es-read')
      t.match(p.what, c.what)
      if (c.command !== undefined) t.ok(p.commands.some((x) => x.startsWith(c.command ?? '')), `suggests ${c.command}`)
      t.notOk(p.commands.some((x) => x.startsWith('mariadb')), 'no MySQL command for an Elasticsearch failure')
    })
  }
}
