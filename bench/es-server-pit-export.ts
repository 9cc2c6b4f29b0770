// Times a full PIT + search_after export through the test server with the real client.
//   node --import tsx bench/es-server-pit-export.ts [docs=500000] [size=1000]
import { Client } from '@elastic/elasticsearch'
import { startEsServer } from '../test/servers/es/server.js'
import { generateDocs } from '../test/servers/es/seed.js'

const n = Number(process.argv[2] ?? 500000)
const size = Number(process.argv[3] ?? 1000)
const server = await startEsServer()
let t0 = Date.now()
for (let d = 0; d < n; d += 10000) server.addDocs('logs', generateDocs(Math.min(10000, n - d), d))
console.log(`seeded ${n} docs in ${Date.now() - t0} ms`)
const client = new Client({ node: server.url })
t0 = Date.now()
let id = (await client.openPointInTime({ index: 'logs', keep_alive: '1m' })).id
let after: Array<string | number> | undefined
let count = 0
const seen = new Set<string>()
for (;;) {
  const res = await client.search({
    pit: { id, keep_alive: '1m' }, sort: [{ '@timestamp': 'asc' }], size, search_after: after, track_total_hits: false,
  })
  id = res.pit_id ?? id
  const hits = res.hits.hits
  if (hits.length === 0) break
  for (const h of hits) seen.add(h._id as string)
  count += hits.length
  after = hits[hits.length - 1]?.sort as Array<string | number>
}
const ms = Date.now() - t0
await client.closePointInTime({ id })
console.log(`exported ${count} hits (${seen.size} distinct) at size ${size} in ${ms} ms (${Math.round((count / ms) * 1000)} docs/s)`)
await server.close()
