// PitPager asks for the next page before it parses the current one (a guess at search_after).
// A loopback server answers with hits laid out as the test says, so that the guess is right
// (Elasticsearch's layout: `sort` after `_source`) or wrong (`sort` first, and a `_source` that
// ends in a key named "sort"); either way every hit comes once, in order.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EsConnection } from '../../lib/es/client.js'
import { PitPager, PitSession } from '../../lib/es/pit.js'

const TOTAL = 950

interface Loopback { url: string, afters: string[], close: () => Promise<void> }

/** Hits n = after+1 … as search_after pages over TOTAL documents; `sortFirst` puts sort before _source. */
async function loopback (sortFirst: boolean): Promise<Loopback> {
  const afters: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (c: string) => { body += c }).on('end', () => {
      const q = JSON.parse(body) as { size: number, search_after?: [number] }
      afters.push(JSON.stringify(q.search_after ?? null))
      const from = (q.search_after?.[0] ?? 0) + 1
      const hits: string[] = []
      for (let n = from; n < from + q.size && n <= TOTAL; n++) {
        // A key named "sort" inside _source: the last one in the text when sort comes first.
        const source = `{"n":${n},"sort":[-1]}`
        hits.push(sortFirst
          ? `{"_index":"i","_id":"d${n}","_score":null,"sort":[${n}],"_source":${source}}`
          : `{"_index":"i","_id":"d${n}","_score":null,"_source":${source},"sort":[${n}]}`)
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' })
      res.end(`{"pit_id":"p","took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"max_score":null,"hits":[${hits.join(',')}]}}`)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, afters, close: async () => await new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }) }
}

/** Reads every page with a pager that may always guess; returns the ids in order. */
async function readAll (url: string, size: number): Promise<string[]> {
  const conn = new EsConnection({ url })
  const where = { host: url, index: 'i' }
  const pager = new PitPager(conn, new PitSession(conn, where, 'p', '1m'), where, { body: {}, sort: [] })
  const ids: string[] = []
  const signal = new AbortController().signal
  try {
    // Bounded: a pager that went wrong would otherwise read forever.
    for (let pages = 0; pages < 3 * TOTAL / size; pages++) {
      const page = await pager.fetch(size, signal, () => true)
      if (page.lines.length === 0) break
      for (const line of page.lines) ids.push((JSON.parse(line) as { _id: string })._id)
      pager.accept(page, page.lines.length)
    }
  } finally {
    await pager.release()
    await conn.close()
  }
  return ids
}

const every = Array.from({ length: TOTAL }, (_v, i) => `d${i + 1}`)

t.test('a right guess is the next page: one request per page, none wasted', async (t) => {
  const server = await loopback(false)
  t.teardown(server.close)
  t.strictSame(await readAll(server.url, 100), every, 'every hit once, in order')
  // 10 pages of hits and the empty one that ends the read.
  t.strictSame(server.afters, ['null', ...Array.from({ length: 10 }, (_v, k) => `[${(k + 1) * 100 > TOTAL ? TOTAL : (k + 1) * 100}]`)])
})

t.test('a wrong guess is dropped: the page after the real cursor is asked for', async (t) => {
  const server = await loopback(true)
  t.teardown(server.close)
  t.strictSame(await readAll(server.url, 100), every, 'every hit once, in order')
  const real = server.afters.filter((a) => a !== '[-1]')
  t.strictSame(real, ['null', ...Array.from({ length: 10 }, (_v, k) => `[${(k + 1) * 100 > TOTAL ? TOTAL : (k + 1) * 100}]`)], 'each real cursor asked for once')
  t.ok(server.afters.includes('[-1]'), 'the guesses went out, and were not used')
})
