import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { serverFor } from './es/testing.js'

t.test('elasticdump exports every document through the server', async (t) => {
  const { server } = await serverFor(t)
  const ids = Array.from({ length: 250 }, (_, i) => `e${i}`)
  server.addDocs('dump', ids.map((id, i) => ({ _id: id, _source: { i } })))
  const dir = await mkdtemp(join(tmpdir(), 'es-dump-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const out = join(dir, 'out.json')
  await promisify(execFile)('node_modules/.bin/elasticdump', [`--input=${server.url}/dump`, `--output=${out}`, '--limit=100'], { timeout: 60000 })
  const lines = (await readFile(out, 'utf8')).split('\n').filter((l) => l !== '')
  const got = lines.map((l) => (JSON.parse(l) as { _id: string })._id)
  t.strictSame([...got].sort(), [...ids].sort())
  t.ok(server.requests.some((r) => r.method === 'GET' && r.path === '/dump/_search' && r.query.scroll === '10m'))
})
