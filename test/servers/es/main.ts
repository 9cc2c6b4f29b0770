// Runs the test server as a process, for benchmarks and demos:
//   node --import tsx test/servers/es/main.ts --port 9200 [--docs N --index NAME] [--load FILE] [--latency MS]
// --load reads records in es-read's shape ({"_index","_id","_source"} per line) into their index.
// --latency delays every response by MS milliseconds (faults.latencyMs, as tests set it): a
// 20 ms page is a cluster that takes 20 ms to answer each search.
// Prints its URL as the first line of stdout and runs until SIGTERM/SIGINT.

import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { generateDocs } from './seed.js'
import { startEsServer } from './server.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    docs: { type: 'string', default: '0' },
    index: { type: 'string', default: 'espipe-demo' },
    load: { type: 'string' },
    latency: { type: 'string', default: '0' },
  },
})

const server = await startEsServer({ port: Number(values.port) })
server.faults.latencyMs = Number(values.latency)
const total = Number(values.docs)
for (let done = 0; done < total; done += 10000) {
  server.addDocs(values.index, generateDocs(Math.min(10000, total - done), done))
}
if (values.load !== undefined) {
  const byIndex = new Map<string, Array<{ _id?: string; _source: Record<string, unknown> }>>()
  for (const line of readFileSync(values.load, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    const hit = JSON.parse(line) as { _index?: string; _id?: string; _source: Record<string, unknown> }
    const index = hit._index ?? values.index
    if (!byIndex.has(index)) byIndex.set(index, [])
    byIndex.get(index)?.push({ _id: hit._id, _source: hit._source })
  }
  for (const [index, docs] of byIndex) server.addDocs(index, docs)
}
process.stdout.write(server.url + '\n')
if (total > 0) process.stderr.write(`seeded ${total} documents into [${values.index}]\n`)
const stop = (): void => {
  server.close().then(() => process.exit(0), () => process.exit(1))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
