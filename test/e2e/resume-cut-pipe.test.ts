// A stage between the reader and the writer that ends early (a killed jq, here `head`) ends the
// writer's input as a clean end would, with records of a reader that had already written its
// whole read still inside it. The writer cannot tell; the rerun must: it reads again after what
// the writer committed, and the file ends with every record once.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import { byId } from '../helpers/resume-destinations.js'
import { makeIndex } from '../helpers/resume-matrix.js'
import { runShell, scratchDir } from '../helpers/run.js'

const N = 300

t.test('es-read --checkpoint C | a stage that passes 100 lines and ends | jsonl-write --checkpoint C, then the pipe without it: every record once', async (t) => {
  const es = await startEsServer()
  t.teardown(async () => { await es.close() })
  await makeIndex(es, 'src')
  const bulk: string[] = []
  for (let i = 0; i < N; i++) bulk.push(JSON.stringify({ index: { _index: 'src', _id: `d${i}` } }), `{"n":${i},"big":${18446744073709551615n - BigInt(i)}}`)
  const res = await fetch(`${es.url}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: bulk.join('\n') + '\n' })
  t.ok(res.ok)
  const dir = scratchDir(t)
  const ckpt = join(dir, 'C')
  const out = join(dir, 'out.jsonl')
  const read = `es-read --url ${es.url} --index src --size 50 --checkpoint ${ckpt}`
  const write = `jsonl-write -o ${out} --checkpoint ${ckpt}`

  // The middle stage passes 100 lines on, then holds its input open without reading it for a
  // while: the whole read fits in the pipe, so es-read writes all of it and says so before the
  // stage ends, and the writer's input ends with 200 records lost on the way.
  const cut = await runShell(`${read} | { head -n 100; sleep 2; } | ${write}`)
  t.equal(cut.code, 0, cut.stderr)
  t.match(cut.stderr, /es-read: 300 read, 300 emitted/, 'es-read wrote its whole read into the pipe')
  t.equal(readFileSync(out, 'utf8').split('\n').filter((l) => l !== '').length, 100, 'the writer got and committed the 100 lines let through')

  const rerun = await runShell(`${read} | ${write}`)
  t.equal(rerun.code, 0, rerun.stderr)
  t.match(rerun.stderr, /es-read: 200 read, 200 emitted/, 'the rerun reads the 200 records the writer never had')
  const lines = readFileSync(out, 'utf8').split('\n').filter((l) => l !== '')
  const ids = byId(lines)
  t.equal(lines.length, N, 'every record once')
  t.strictSame([...ids.keys()].sort(), Array.from({ length: N }, (_, i) => `d${i}`).sort(), 'the very ids')

  const again = await runShell(`${read} | ${write}`)
  t.equal(again.code, 0, again.stderr)
  t.match(again.stderr, /nothing to do/, 'now complete: a third run reads nothing')
})
