// es-write at the edges of what it takes: records without an id in a checkpointed pipe (a real
// shell pipe from es-read), and values that are not objects handed in by a library user. Each
// checked where a user would look: exit status and message, the documents on the server, the
// dead-letter file.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createContext } from '../../lib/core/context.js'
import { Logger } from '../../lib/core/events.js'
import { ES_WRITE_COUNTERS, esWrite } from '../../lib/es/write.js'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { runShell, scratchDir } from '../helpers/run.js'

const dir = scratchDir(t)
const N = 50

let server: EsTestServer
t.before(async () => {
  server = await startEsServer()
  server.addDocs('src', Array.from({ length: N }, (_v, i) => ({ _id: `s${i}`, _source: { n: i, big: 9007199254740993 + i } })))
})
t.teardown(async () => await server.close())

t.test('--checkpoint: a record without an id stops es-write at once, naming its line and --id-field; nothing is written', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['an --id-field the records do not have', `es-write --url ${server.url} --index dst1 --id-field doc_id`, /^es-write: error \[ES_CHECKPOINT_NEEDS_ID\] line 1 has no id at 'doc_id': with --checkpoint, every record needs one \(Elasticsearch would give a repeated record a second id after a rerun\); name it with --id-field/m],
    ['a jq stage that drops _id', `jq -c 'del(._id)' | es-write --url ${server.url} --index dst2`, /^es-write: error \[ES_CHECKPOINT_NEEDS_ID\] line 1 has no id at '_id': with --checkpoint/m]
  ]
  let k = 0
  for (const [name, writer, message] of cases) {
    const ckpt = join(dir, `needs-id-${++k}.ckpt`)
    const r = await runShell(`set +o pipefail; es-read -q --url ${server.url} --index src --checkpoint ${ckpt} | ${writer} --checkpoint ${ckpt}; echo "es-write exit $?" >&2`)
    t.match(r.stderr, /es-write exit 1\n$/, `${name}: es-write exits 1`)
    t.match(r.stderr, message, name)
    t.equal(server.storedSources(`dst${k}`).size, 0, `${name}: nothing written`)
    const saved = JSON.parse(readFileSync(ckpt, 'utf8')) as { writer?: { committed: number, complete: boolean } }
    t.hasStrict(saved.writer, { committed: 0, complete: false }, `${name}: the checkpoint acknowledges nothing`)
  }
  // The same pipe with the id where it is: every document, and the checkpoint complete.
  const ckpt = join(dir, 'needs-id-ok.ckpt')
  const ok = await runShell(`es-read -q --url ${server.url} --index src --checkpoint ${ckpt} | es-write -q --url ${server.url} --index dst3 --checkpoint ${ckpt}`)
  t.equal(ok.code, 0, ok.stderr)
  t.strictSame(server.storedSources('dst3'), server.storedSources('src'), 'the same ids and _source bytes')
  t.hasStrict(JSON.parse(readFileSync(ckpt, 'utf8')), { writer: { committed: N, complete: true } })
})

t.test('library: values that are not objects are dead-lettered one by one, the objects written', async (t) => {
  let log = ''
  const logger = new Logger({ tool: 'es-write', stream: new Writable({ write (c: Buffer, _e, cb) { log += c.toString(); cb() } }) })
  const errorsFile = join(dir, 'not-objects.ndjson')
  const ctx = createContext({ tool: 'es-write', counters: ES_WRITE_COUNTERS, logger, errorsFile })
  const input: unknown[] = [
    { _id: 'o1', _source: { a: 1 } },
    'a line of text',
    [{ _id: 'o2', _source: { a: 2 } }],
    42,
    { _id: 'o3', _source: { a: 3 } }
  ]
  try {
    await pipeline(Readable.from(input), await esWrite({ index: 'objs', connection: { url: server.url }, context: ctx }))
  } finally {
    await ctx.cleanup()
  }
  t.strictSame([...server.storedSources('objs')].sort(), [['o1', '{"a":1}'], ['o3', '{"a":3}']], 'the two objects, and only them')
  t.hasStrict(ctx.stats.toJSON(), { read: 5, created: 2, failed: 3 }, 'every value counted as read, the three refused as failed')
  const dead = readFileSync(errorsFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { record: unknown, error: { code: string, message: string } })
  t.strictSame(dead.map((d) => [d.record, d.error.code, d.error.message]), [
    ['a line of text', 'RECORD_NOT_OBJECT', 'record is not a JSON object'],
    [[{ _id: 'o2', _source: { a: 2 } }], 'RECORD_NOT_OBJECT', 'record is not a JSON object'],
    [42, 'RECORD_NOT_OBJECT', 'record is not a JSON object']
  ], 'each refused value in the dead-letter file as it came, with its reason')
  t.match(ctx.stats.describe(), /^5 read, 2 created, .* 3 failed/, 'the summary says so')
  t.match(log, /writing to objs at /)
})
