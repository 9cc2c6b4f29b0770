// Runs the test server as a process, for benchmarks and demos:
//   node --import tsx test/es-server/main.ts --port 9200 [--docs N --index NAME]
// Prints its URL as the first line of stdout and runs until SIGTERM/SIGINT.

import { parseArgs } from 'node:util'
import { generateDocs } from './seed.js'
import { startEsServer } from './server.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    docs: { type: 'string', default: '0' },
    index: { type: 'string', default: 'espipe-demo' },
  },
})

const server = await startEsServer({ port: Number(values.port) })
const total = Number(values.docs)
for (let done = 0; done < total; done += 10000) {
  server.addDocs(values.index, generateDocs(Math.min(10000, total - done), done))
}
process.stdout.write(server.url + '\n')
if (total > 0) process.stderr.write(`seeded ${total} documents into [${values.index}]\n`)
const stop = (): void => {
  server.close().then(() => process.exit(0), () => process.exit(1))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
