import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { ROOT, runShell } from '../helpers/run.js'

t.test('README "Writing your own stage": the webhook sink example receives every record', async (t) => {
  const batches: Array<Array<{ _id: string }>> = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => { body += d.toString() })
    req.on('end', () => { batches.push(JSON.parse(body)); res.end('ok') })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`
  const r = await runShell(`csv-read ${join(ROOT, 'demo', 'people.csv')} | node --import tsx ${join(ROOT, 'examples', 'webhook-sink.ts')} ${url}`, { cwd: ROOT })
  t.equal(r.code, 0, r.stderr)
  t.strictSame(batches.map((b) => b.length), [100], 'one full batch of the 100 sample rows, no empty one')
  t.strictSame(batches.flat().map((rec) => rec._id), Array.from({ length: 100 }, (_, i) => String(i + 1)))
  t.match(r.stderr, /webhook-sink: 100 read, 100 sent, 0 failed/)
})
