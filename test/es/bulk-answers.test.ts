// A _bulk answer es-write cannot match to what it sent (lib/es/bulk-result.ts): a proxy between
// es-write and the ES test server mangles one answer, as a misbehaving gateway would. es-write
// cannot tell what was written, so it sends the batch again (writes by id repeat safely): every
// document lands once, and the log says what came back.
import t from 'tap'
import { createServer } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { runTool } from '../helpers/run.js'

const N = 120

interface Proxy { url: string, bulks: number, close: () => Promise<void> }

/** Forwards every request to `target`; the answer to the `nth` POST /_bulk is replaced by `body` (status 200 kept). */
async function mangling (target: string, nth: number, body: string): Promise<Proxy> {
  const proxy: Proxy = { url: '', bulks: 0, close: async () => {} }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const bulk = req.method === 'POST' && (req.url ?? '').split('?')[0] === '/_bulk'
      const mangle = bulk && ++proxy.bulks === nth
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers as IncomingHttpHeaders)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v
      fetch(`${target}${req.url ?? '/'}`, { method: req.method, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined }).then(async (answer) => {
        const text = mangle ? body : await answer.text()
        const out: Record<string, string> = {}
        answer.headers.forEach((v, k) => { if (!['content-length', 'transfer-encoding', 'content-encoding', 'connection'].includes(k)) out[k] = v })
        res.writeHead(answer.status, out).end(text)
      }, (err: Error) => { res.writeHead(502).end(err.message) })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  proxy.close = async () => await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  return proxy
}

let es: EsTestServer
t.before(async () => { es = await startEsServer() })
t.teardown(async () => await es.close())

const input = Array.from({ length: N }, (_v, i) => `{"_id":"r${i}","_source":{"n":${i},"big":${9007199254740993n + BigInt(i * 2)}}}`).join('\n') + '\n'

t.test('an answer that is not JSON, or that answers for other items than were sent: the batch sent again, every document once', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['a gateway page', '<html><body><h1>502 Bad Gateway</h1></body></html>', /_bulk at http:\/\/127\.0\.0\.1:\d+ answered with something that is not JSON: '<html><body><h1>502 Bad Gateway/],
    ['items filtered out', '{"errors":false}', /_bulk at http:\/\/127\.0\.0\.1:\d+ answered for no items, not the 40 sent/],
    ['too few items', '{"errors":false,"items":[{"index":{"status":201,"result":"created"}}]}', /_bulk at http:\/\/127\.0\.0\.1:\d+ answered for 1 items, not the 40 sent/]
  ]
  let k = 0
  for (const [name, body, said] of cases) {
    const index = `mangled${++k}`
    const proxy = await mangling(es.url, 2, body)
    const r = await runTool('es-write', ['--url', proxy.url, '--index', index, '--batch-size', '40', '--concurrency', '1', '--retry-max-wait', '50ms'], { input })
    await proxy.close()
    t.equal(r.code, 0, `${name}: exit 0`)
    t.match(r.stderr, said, `${name}: the log says what came back`)
    t.match(r.stderr, new RegExp(`es-write: ${N} read, ${N} created, 0 updated, 0 deleted, 0 skipped, 0 failed, 1 retry in `), `${name}: counted once each, one retry`)
    t.equal(proxy.bulks, 4, `${name}: three batches and the one sent again`)
    const stored = es.storedSources(index)
    t.equal(stored.size, N, `${name}: ${N} documents`)
    const wrong = [...Array(N).keys()].filter((i) => stored.get(`r${i}`) !== `{"n":${i},"big":${9007199254740993n + BigInt(i * 2)}}`)
    t.strictSame(wrong, [], `${name}: each the bytes of its line`)
  }
})
