import t from 'tap'
import { PassThrough } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { toNdjson } from '../../lib/core/ndjson.js'

t.test('toNdjson: a trickle of records flows line by line; queued records are coalesced', async (t) => {
  const source = new PassThrough({ objectMode: true })
  const writes: string[] = []
  const done = pipeline(source, toNdjson(), async function * (lines) { for await (const l of lines) writes.push(String(l)) })
  source.write({ a: 1 })
  await new Promise((resolve) => setImmediate(resolve))
  t.strictSame(writes, ['{"a":1}\n'], 'the first line is out before the next record comes')
  for (let i = 2; i <= 4; i++) source.write({ a: i })
  await new Promise((resolve) => setImmediate(resolve))
  source.end()
  await done
  t.equal(writes.join(''), '{"a":1}\n{"a":2}\n{"a":3}\n{"a":4}\n')
  t.ok(writes.length < 4, `records written together were coalesced (${writes.length} writes)`)
})
