// The kill matrix of issue 23 (see test/helpers/resume-matrix.ts) with es-read as the reader,
// from an index whose documents hold bytes JSON.parse would change: a number beyond 2^64's
// half (kept in _source, not indexed), 1.50, escapes, non-ASCII.
import t from 'tap'
import { killMatrix, makeIndex } from '../helpers/resume-matrix.js'

const N = 1500
const SIZE = 40

killMatrix(t, {
  tool: 'es-read',
  records: N,
  slices: [1, 4],
  setup: async ({ es }) => {
    await makeIndex(es, 'src')
    const bulk: string[] = []
    for (let i = 0; i < N; i++) {
      bulk.push(JSON.stringify({ index: { _index: 'src', _id: `d${i}` } }))
      bulk.push(`{"n":${i},"big":${18446744073709551615n - BigInt(i)},"price":1.50,"s":"caf\\u00e9 ✓ \\"${i}\\"","tags":["a",2.0,null],"at":"2024-03-31T02:30:00.${String(i % 1000).padStart(3, '0')}Z"}`)
    }
    const res = await fetch(`${es.url}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: bulk.join('\n') + '\n' })
    const answer = await res.json() as { errors?: boolean }
    if (!res.ok || answer.errors !== false) throw new Error(`seeding failed: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`)
    // Slow enough that a kill lands while pages are still coming.
    es.faults.latencyMs = 20
  },
  reader: ({ es }, ckpt, slices) => `es-read --url ${es.url} --index src --size ${SIZE} --slices ${slices} --checkpoint ${ckpt}`,
  clean: ({ es }, slices) => `es-read --url ${es.url} --index src --size ${SIZE} --slices ${slices} -q`
})
