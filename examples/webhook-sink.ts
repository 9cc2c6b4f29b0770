#!/usr/bin/env -S node --import tsx
// A custom sink in a few lines: POST records to a webhook in batches of 100.
//   es-read --index logs | node --import tsx examples/webhook-sink.ts http://hooks.local/ingest
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createContext, openInput, parseNdjson } from 'espipe'
import type { ParsedLine } from 'espipe'

const url = process.argv[2] ?? 'http://127.0.0.1:8080/ingest'
const ctx = createContext({ tool: 'webhook-sink', counters: ['read', 'sent'] })
// Each record's line as it came: JSON.stringify of the parsed value would round 2^53+1 and 1.0.
const post = async (batch: string[]): Promise<void> => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `[${batch.join(',')}]` })
  if (!res.ok) throw new Error(`${url} answered ${res.status}`)
  ctx.stats.add('sent', batch.length)
}
let batch: string[] = []
await pipeline(openInput('-'), parseNdjson(ctx), new Writable({
  objectMode: true,
  write (rec: ParsedLine, _enc, done) {
    batch.push(rec.text)
    if (batch.length < 100) return done()
    post(batch.splice(0)).then(() => done(), done)
  },
  final (done) { if (batch.length === 0) return done(); post(batch).then(() => done(), done) }
}))
ctx.logger.summary(ctx.stats)
