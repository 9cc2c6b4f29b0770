// es-write as a library: the real client over real HTTP against the project's ES test server,
// every document checked on the server side (stored bytes, counts), never through our reader.
import t from 'tap'
import type { Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createContext } from '../../lib/core/context.js'
import { Logger } from '../../lib/core/events.js'
import { parseNdjson } from '../../lib/core/ndjson.js'
import { ES_WRITE_COUNTERS, esWrite } from '../../lib/es/write.js'
import type { EsWriteOptions } from '../../lib/es/write.js'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer, RequestRecord } from '../servers/es/server.js'
import { scratchDir } from '../helpers/run.js'
import { settled, waitFor } from '../helpers/wait.js'

declare namespace Tap { type Test = typeof t }

interface Run { stats: Record<string, number>, summary: string, log: string, dead: Array<{ record: unknown, line?: number, error: { code: string, message: string } }>, deadText: string, error?: Error }

const dir = scratchDir(t)
let runs = 0
const FAST = { retries: 6, maxWaitMs: 40, baseWaitMs: 5 }

/** Writes NDJSON `lines` (or objects) through esWrite into `server`; collects counters, log and dead letters. */
async function write (server: EsTestServer, input: string[] | object[], opts: Partial<EsWriteOptions> = {}): Promise<Run> {
  let log = ''
  const stream = new Writable({ write (c: Buffer, _e, cb) { log += c.toString(); cb() } })
  const logger = new Logger({ tool: 'es-write', stream })
  const errorsFile = join(dir, `errors-${++runs}.ndjson`)
  const ctx = createContext({ tool: 'es-write', counters: ES_WRITE_COUNTERS, logger, errorsFile })
  let error: Error | undefined
  try {
    const writer = await esWrite({ connection: { url: server.url }, retry: FAST, context: ctx, ...opts })
    const lines = typeof input[0] === 'string'
    await pipeline(lines ? [Readable.from([(input as string[]).join('\n') + '\n']), parseNdjson(ctx), writer] : [Readable.from(input as object[]), writer])
  } catch (err) {
    error = err as Error
  } finally {
    await ctx.cleanup()
  }
  const deadText = readFileSync(errorsFile, 'utf8')
  const dead = deadText.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Run['dead'][number])
  return { stats: ctx.stats.toJSON(), summary: ctx.stats.describe(), log, dead, deadText, error }
}

function records (n: number, prefix = 'd', from = 0): string[] {
  return Array.from({ length: n }, (_v, k) => {
    const i = from + k
    return `{"_index":"src","_id":"${prefix}${i}","_source":{"n":${i},"text":"record ${i} é 𝄞","nested":{"tags":["a","b"],"ratio":${i / 8}}}}`
  })
}

/** The _source bytes of each input line, by id: what the server must hold afterwards. */
function expectedSources (lines: string[]): Map<string, string> {
  return new Map(lines.map((l) => [JSON.parse(l)._id as string, l.slice(l.indexOf('"_source":') + 10, -1)]))
}

function expectStored (t: Test, server: EsTestServer, index: string, lines: string[]): void {
  const want = expectedSources(lines)
  const got = server.storedSources(index)
  t.equal(got.size, want.size, `${want.size} documents in ${index}`)
  let same = 0
  for (const [id, src] of want) if (got.get(id) === src) same++
  t.equal(same, want.size, 'every document holds exactly the bytes of its _source')
}

let server: EsTestServer
t.before(async () => { server = await startEsServer() })
t.teardown(async () => await server.close())
t.afterEach(() => { server.faults.reset() })

t.test('every record written once, as the bytes of its _source; a rerun replaces (index) or skips (create)', async (t) => {
  const lines = records(2500)
  const first = await write(server, lines, { index: 'copy', batchSize: 300 })
  t.equal(first.error, undefined)
  t.hasStrict(first.stats, { read: 2500, created: 2500, updated: 0, failed: 0, retries: 0 })
  expectStored(t, server, 'copy', lines)
  t.match(first.log, /es-write: writing to copy at http:\/\/127\.0\.0\.1:\d+ \(Elasticsearch 8\.19\.0\): --op index, batches of up to 300 records or 5 MB, 3 in flight/)
  const again = await write(server, lines, { index: 'copy' })
  t.hasStrict(again.stats, { created: 0, updated: 2500 }, 'index: the last write wins')
  const create = await write(server, lines, { index: 'copy', op: 'create' })
  t.hasStrict(create.stats, { created: 0, skipped: 2500, failed: 0 }, 'create: existing ids are skipped')
  t.equal(create.dead.length, 0)
  const bulks = server.requests.filter((r) => r.path === '/_bulk')
  t.ok(bulks.length > 0 && bulks.every((r) => r.query.filter_path === 'errors,items.*.status,items.*.result,items.*._version,items.*.error'), `responses trimmed with filter_path (${bulks.length} requests)`)
})

t.test('records name their own index; routing passes through; ids may be numbers, kept to the digit', async (t) => {
  const lines = [
    '{"_index":"own-a","_id":"1","_routing":"u1","_source":{"a":1}}',
    '{"_index":"own-b","_id":12345678901234567890,"_source":{"b":2}}',
    '{"_index":"own-b","_id":7,"_source":{"b":3}}'
  ]
  const run = await write(server, lines)
  t.hasStrict(run.stats, { created: 3, failed: 0 })
  t.equal(server.storedSource('own-a', '1'), '{"a":1}')
  t.equal(server.storedSource('own-b', '12345678901234567890'), '{"b":2}')
  t.equal(server.storedSource('own-b', '7'), '{"b":3}')
  const hits = await (await fetch(`${server.url}/own-a/_search`)).json() as { hits: { hits: Array<{ _routing?: string }> } }
  t.equal(hits.hits.hits[0]?._routing, 'u1')
})

t.test('big numbers, huge exponents and -0 arrive byte for byte (mapped as Elasticsearch would take them)', async (t) => {
  const mappings = '{"properties":{"big":{"type":"unsigned_long"},"huge":{"type":"keyword"},"zero":{"type":"long"},"precise":{"type":"double"},"list":{"type":"keyword"}}}'
  const lines = [
    '{"_id":"n1","_source":{"big":18446744073709551615,"huge":1e400,"zero":-0,"precise":0.1000000000000000055511151231257827,"list":[9007199254740993,-1E-400]}}',
    '{"_id":"n2","_source":{"big":9007199254740993,"huge":-1.5e-999,"zero":0,"precise":1.0,"list":[]}}'
  ]
  const run = await write(server, lines, { index: 'exact', createIndex: true, mappings })
  t.hasStrict(run.stats, { created: 2, failed: 0 })
  expectStored(t, server, 'exact', lines)
  t.match(run.log, /created index exact/)
})

t.test('--content-field . writes the whole record; nested id and content paths are re-serialised exactly', async (t) => {
  const whole = ['{"id":"w1","v":9007199254740993}', '{"id":"w2","v":2}']
  const run = await write(server, whole, { index: 'whole', idField: 'id', contentField: '.' })
  t.hasStrict(run.stats, { created: 2 })
  t.equal(server.storedSource('whole', 'w1'), whole[0])
  const nested = ['{"meta":{"key":"k1"},"body":{"doc":{"v":9007199254740993,"s":"x"}}}']
  await write(server, nested, { index: 'nested', idField: 'meta.key', contentField: 'body.doc' })
  t.equal(server.storedSource('nested', 'k1'), '{"v":9007199254740993,"s":"x"}')
})

t.test('a key given twice: the document lands with the last value (the engines would refuse the bytes as they came)', async (t) => {
  const lines = [
    '{"_id":"top","_source":{"a":1},"_source":{"b":2}}',
    '{"_id":"inner","_source":{"a":1,"n":9007199254740993,"a":2}}',
    '{"_id":"deep","_source":{"o":{"q":[{"z":1,"z":"last"}]},"k":-0}}',
    '{"_id":"meta","_id":"meta2","_source":{"a":1}}',
    '{"_id":"plain","_source":{"p":{"p":1}}}'
  ]
  const run = await write(server, lines, { index: 'dup' })
  t.hasStrict(run.stats, { created: 5, failed: 0 })
  t.equal(server.storedSource('dup', 'top'), '{"b":2}', 'a repeated _source: the last')
  t.equal(server.storedSource('dup', 'inner'), '{"a":2,"n":9007199254740993}', 'a repeated key inside: its last value, every digit kept')
  t.equal(server.storedSource('dup', 'deep'), '{"o":{"q":[{"z":"last"}]},"k":-0}')
  t.equal(server.storedSource('dup', 'meta2'), '{"a":1}', 'a repeated id: the last')
  t.equal(server.storedSource('dup', 'plain'), '{"p":{"p":1}}', 'one key in two objects is no duplicate: the bytes as they came')
  const upsert = await write(server, ['{"_id":"inner","_source":{"b":1,"b":2}}'], { index: 'dup', op: 'upsert' })
  t.hasStrict(upsert.stats, { updated: 1, failed: 0 }, 'an update body with a repeated key would fail the whole request')
  t.equal(server.storedSource('dup', 'inner'), '{"a":2,"n":9007199254740993,"b":2}')
})

t.test('a record that cannot be written is dead-lettered with its reason and the run goes on', async (t) => {
  const lines = [
    '{"_id":"ok1","_source":{"a":1}}',
    'not json',
    '[1,2]',
    '{"_id":"","_source":{"a":1}}',
    '{"_id":{"x":1},"_source":{"a":1}}',
    '{"_id":"noc"}',
    '{"_id":"arr","_source":[1]}',
    '{"_id":"big","_source":{"n":12345678901234567890123}}',
    '{"_id":"ok2","_source":{"a":2}}'
  ]
  const run = await write(server, lines, { index: 'bad' })
  t.hasStrict(run.stats, { read: 9, created: 2, failed: 7 })
  t.strictSame(run.dead.map((d) => d.error.code), ['NDJSON_INVALID_JSON', 'NDJSON_NOT_OBJECT', 'RECORD_EMPTY_ID', 'RECORD_BAD_ID', 'RECORD_MISSING_CONTENT', 'RECORD_CONTENT_NOT_OBJECT', 'document_parsing_exception'])
  t.strictSame(run.dead.map((d) => d.line), [2, 3, 4, 5, 6, 7, 8], 'each with its input line')
  t.match(run.deadText, /"record":\{"_id":"big","_source":\{"n":12345678901234567890123\}\}/, 'the dead letter keeps every digit')
  const noIndex = await write(server, ['{"_id":"x","_source":{}}'])
  t.strictSame(noIndex.dead.map((d) => d.error.code), ['RECORD_MISSING_INDEX'])
  const update = await write(server, ['{"_source":{"a":1}}'], { index: 'bad', op: 'update' })
  t.strictSame(update.dead.map((d) => d.error.message), ["record has no id at '_id' (--op update needs one)"])
})

t.test('a mapping conflict is dead-lettered with the Elasticsearch reason, the rest indexed', async (t) => {
  const lines = records(500, 'm').map((l, i) => i === 123 ? '{"_id":"m123","_source":{"n":"not a number"}}' : l)
  const run = await write(server, lines, { index: 'conflict', batchSize: 100 })
  t.hasStrict(run.stats, { created: 499, failed: 1 })
  t.equal(run.dead[0]?.error.code, 'document_parsing_exception')
  t.match(run.dead[0]?.error.message, /failed to parse field \[n\] of type \[long\] in document with id 'm123'.*caused by illegal_argument_exception: For input string: "not a number"/)
  t.strictSame(run.dead[0]?.record, { _id: 'm123', _source: { n: 'not a number' } })
  t.equal(server.storedSources('conflict').size, 499)
  const strict = await write(server, ['{"_id":"s1","_source":{"a":"x"}}', '{"_id":"s2","_source":{"a":"y","extra":1}}'], { index: 'strict', createIndex: true, mappings: '{"mappings":{"dynamic":"strict","properties":{"a":{"type":"keyword"}}}}' })
  t.hasStrict(strict.stats, { created: 1, failed: 1 })
  t.equal(strict.dead[0]?.error.code, 'strict_dynamic_mapping_exception')
})

t.test('per-item 429 on a share of items: only those are sent again, with backoff; every id exactly once', async (t) => {
  const lines = records(3000, 'r')
  server.faults.rejectBulkItems(0.3, { seed: 42 })
  const before = server.requests.length
  // 30% refused on every attempt: 15 retries make an item out of retries a one in 10^8 event.
  const run = await write(server, lines, { index: 'rejected', batchSize: 500, retry: { retries: 15, maxWaitMs: 20, baseWaitMs: 2 } })
  t.equal(run.error, undefined)
  t.hasStrict(run.stats, { read: 3000, created: 3000, updated: 0, failed: 0 })
  t.ok(run.stats.retries > 0, `${run.stats.retries} retries`)
  t.ok(server.faults.rejectedItems > 800, `${server.faults.rejectedItems} item refusals`)
  expectStored(t, server, 'rejected', lines)
  const sent = server.requests.slice(before).filter((r) => r.path === '/_bulk').length
  t.ok(sent < 40, `${sent} requests: retries carry only the refused items`)
  t.match(run.log, /records refused by .* \(429 es_rejected_execution_exception\); sending them again in/)
})

t.test('per-item 429 in OpenSearch\'s words (rejected_execution_exception, as its nodes answer): sent again alike', async (t) => {
  const os = await startEsServer({ distribution: 'opensearch' })
  t.teardown(async () => await os.close())
  const lines = records(500, 'o')
  os.faults.rejectBulkItems(0.3, { seed: 7 })
  const run = await write(os, lines, { index: 'rejected-os', batchSize: 100, retry: { retries: 15, maxWaitMs: 20, baseWaitMs: 2 } })
  t.equal(run.error, undefined)
  t.hasStrict(run.stats, { read: 500, created: 500, updated: 0, failed: 0 })
  t.ok(os.faults.rejectedItems > 100, `${os.faults.rejectedItems} item refusals`)
  t.ok(run.stats.retries > 0 && run.stats.retries <= os.faults.rejectedItems, `${run.stats.retries} retries, at most one per refusal`)
  expectStored(t, os, 'rejected-os', lines)
  t.match(run.log, /records refused by .* \(429 rejected_execution_exception\); sending them again in/)
})

t.test('an item refused more often than --retries allows is dead-lettered with its last error', async (t) => {
  server.faults.rejectBulkItems(1, { items: 100 })
  const run = await write(server, records(3, 'x'), { index: 'exhausted', retry: { retries: 2, maxWaitMs: 5, baseWaitMs: 1 } })
  t.hasStrict(run.stats, { created: 0, failed: 3, retries: 2 })
  t.equal(run.dead[0]?.error.code, 'es_rejected_execution_exception')
  t.match(run.dead[0]?.error.message, /still refused after 2 retries/)
})

t.test('whole-request failures are retried: 429, 503, a reset before the answer and one mid-answer', async (t) => {
  const lines = records(2000, 'w')
  server.faults.failNth(1, 429, { path: /_bulk/ })
  server.faults.failNth(2, 503, { path: /_bulk/ })
  server.faults.resetNth(3, { path: /_bulk/ })
  server.faults.resetNth(4, { path: /_bulk/, midBody: true })
  const run = await write(server, lines, { index: 'faulty', batchSize: 400, concurrency: 1 })
  t.equal(run.error, undefined)
  t.hasStrict(run.stats, { read: 2000, created: 2000, updated: 0, failed: 0, retries: 4 })
  expectStored(t, server, 'faulty', lines)
  t.match(run.log, /sending the batch of 400 again in .* \(retry 1\/6\)/)
})

t.test('create after a lost answer: the 409 on the retry is the first attempt having landed, counted as created', async (t) => {
  const lines = records(300, 'c')
  // The server writes the batch, then the connection drops while the answer is on its way.
  server.faults.resetNth(1, { path: /_bulk/, midBody: true })
  const run = await write(server, lines, { index: 'landed', op: 'create', batchSize: 300 })
  t.hasStrict(run.stats, { created: 300, skipped: 0, failed: 0, retries: 1 })
  expectStored(t, server, 'landed', lines)
  // The same for delete: not_found on the retry means our first attempt deleted it.
  server.faults.resetNth(1, { path: /_bulk/, midBody: true })
  const del = await write(server, lines.slice(0, 50), { index: 'landed', op: 'delete' })
  t.hasStrict(del.stats, { deleted: 50, skipped: 0 })
  t.equal(server.storedSources('landed').size, 250)
})

t.test('retries spent on a whole request: a fatal error naming the server, what was written stays', async (t) => {
  server.faults.failNth(2, 503, { path: /_bulk/, times: 100 })
  const run = await write(server, records(30, 'f'), { index: 'fatal', batchSize: 10, concurrency: 1, retry: { retries: 2, maxWaitMs: 5, baseWaitMs: 1 } })
  t.match(run.error?.message, /write a batch failed at http:\/\/127\.0\.0\.1:\d+ index fatal: 503 unavailable_shards_exception.*; gave up after 2 retries/)
  t.equal(run.stats.created, 10, 'the first batch is written and counted')
})

t.test('413: the batch is split and later batches made smaller; a single record too large is dead-lettered', async (t) => {
  const small = await startEsServer({ maxContentLength: 20_000 })
  t.teardown(async () => await small.close())
  const lines = records(600, 's')
  lines[10] = `{"_id":"huge","_source":{"pad":"${'p'.repeat(30_000)}"}}`
  const run = await write(small, lines, { index: 'split', batchBytes: 200_000 })
  t.hasStrict(run.stats, { created: 599, failed: 1 })
  t.equal(run.dead[0]?.error.code, 'ES_DOCUMENT_TOO_LARGE')
  t.match(run.dead[0]?.error.message, /the record is 29\.\d KB as a _bulk item, more than .* takes in one request \(413/)
  t.match(run.log, /refused a .* request as too large \(413\); batches are now at most/)
  const sizes = small.requests.filter((r) => r.path === '/_bulk')
  const refused = sizes.filter((r) => r.status === 413).length
  t.ok(refused <= 6, `${refused} requests refused as too large before the batches fit`)
})

t.test('a whole-request 400 caused by one record (an id too long) is bisected down to it', async (t) => {
  const lines = records(200, 'b')
  lines[77] = `{"_id":"${'L'.repeat(600)}","_source":{"n":1}}`
  const run = await write(server, lines, { index: 'bisect', batchSize: 200 })
  t.hasStrict(run.stats, { created: 199, failed: 1 })
  t.equal(run.dead[0]?.error.code, 'action_request_validation_exception')
  t.equal(run.dead[0]?.line, 78)
  t.equal(server.storedSources('bisect').size, 199)
})

t.test('a whole-request 400 that every part of the batch gets alike is the request\'s fault: fatal, not a dead letter each', async (t) => {
  server.faults.failNth(1, 400, { path: /_bulk/, times: 100 })
  const run = await write(server, records(64, 'p'), { index: 'refused', batchSize: 64 })
  t.match(run.error?.message, /400 exception: injected failure with status 400 \(the server refuses the request itself, whichever records it holds\)/)
  t.equal(run.dead.length, 0)
  t.equal(server.requests.filter((r) => r.path === '/_bulk' && r.status === 400).length >= 3, true)
})

t.test('--pipeline: every document goes through it; a missing pipeline fails each record with the reason', async (t) => {
  await fetch(`${server.url}/_ingest/pipeline/stamp`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"processors":[{"set":{"field":"via","value":"es-write"}}]}' })
  const run = await write(server, ['{"_id":"1","_source":{"a":1}}'], { index: 'piped', pipeline: 'stamp' })
  t.hasStrict(run.stats, { created: 1 })
  t.strictSame(JSON.parse(server.storedSource('piped', '1') as string), { a: 1, via: 'es-write' })
  const missing = await write(server, records(64, 'p'), { index: 'piped', batchSize: 64, pipeline: 'x"y' })
  t.equal(missing.stats.failed, 64)
  t.match(missing.dead[0]?.error.message, /pipeline with id \[x"y\] does not exist/)
})

t.test('the same id twice: the last write wins, whatever the concurrency', async (t) => {
  const lines = Array.from({ length: 2000 }, (_v, i) => `{"_id":"k${i % 50}","_source":{"v":${i}}}`)
  const run = await write(server, lines, { index: 'order', batchSize: 7, concurrency: 4 })
  t.hasStrict(run.stats, { created: 50, updated: 1950 })
  const stored = server.storedSources('order')
  let last = 0
  for (let k = 0; k < 50; k++) if (stored.get(`k${k}`) === `{"v":${1950 + k}}`) last++
  t.equal(last, 50, 'every id holds its last record')
})

t.test('update, upsert and delete: counted by what the server did', async (t) => {
  await write(server, ['{"_id":"1","_source":{"a":1,"o":{"x":1}}}', '{"_id":"2","_source":{"a":2}}'], { index: 'ops' })
  const update = await write(server, ['{"_id":"1","_source":{"o":{"y":2}}}', '{"_id":"1","_source":{"o":{"y":2}}}', '{"_id":"9","_source":{"a":9}}'], { index: 'ops', op: 'update' })
  t.hasStrict(update.stats, { updated: 1, skipped: 1, failed: 1 })
  t.equal(update.dead[0]?.error.code, 'document_missing_exception')
  t.strictSame(JSON.parse(server.storedSource('ops', '1') as string), { a: 1, o: { x: 1, y: 2 } })
  t.match(update.summary, /(^|, )1 skipped \(unchanged\),/)
  const upsert = await write(server, ['{"_id":"9","_source":{"a":9}}', '{"_id":"2","_source":{"b":2}}'], { index: 'ops', op: 'upsert' })
  t.hasStrict(upsert.stats, { created: 1, updated: 1 })
  const del = await write(server, ['{"_id":"9"}', '{"_id":"nope"}'], { index: 'ops', op: 'delete' })
  t.hasStrict(del.stats, { deleted: 1, 'not found': 1, skipped: 0, failed: 0 })
  t.match(del.summary, /(^|, )1 deleted, 1 not found, 0 skipped, 0 failed/)
  t.equal(server.storedSource('ops', '9'), undefined)
})

t.test('records without an id: Elasticsearch assigns one, and the run warns that a rerun duplicates', async (t) => {
  const run = await write(server, ['{"_source":{"a":1}}', '{"_source":{"a":2}}'], { index: 'noid' })
  t.hasStrict(run.stats, { created: 2 })
  t.equal(server.storedSources('noid').size, 2)
  t.match(run.log, /records without an id \(the first at line 1\): Elasticsearch gives each a new one, so writing the same input again duplicates them/)
})

t.test('--create-index: settings and mappings files in any of their usual shapes; an existing index is used as it is', async (t) => {
  const settings = '{"ci":{"settings":{"index":{"number_of_shards":"1","refresh_interval":"5s"}}}}'
  const run = await write(server, ['{"_id":"1","_source":{"k":5}}'], { index: 'ci', createIndex: true, settings, mappings: '{"properties":{"k":{"type":"keyword"}}}' })
  t.hasStrict(run.stats, { created: 1 })
  const got = await (await fetch(`${server.url}/ci`)).json() as { ci: { settings: { index: Record<string, string> }, mappings: { properties: Record<string, unknown> } } }
  t.equal(got.ci.settings.index.refresh_interval, '5s')
  t.strictSame(got.ci.mappings.properties.k, { type: 'keyword' })
  const again = await write(server, ['{"_id":"2","_source":{"k":6}}'], { index: 'ci', createIndex: true, mappings: '{"properties":{"k":{"type":"long"}}}' })
  t.match(again.log, /index ci exists; writing into it \(its own mappings and settings stay/)
  const bad = await write(server, [], { index: 'ci2', createIndex: true, mappings: '{"properties":{"k":{"type":"nosuch"}}}' })
  t.match(bad.error?.message, /create the index failed at .*: 400 mapper_parsing_exception: Failed to parse mapping: No handler for type \[nosuch\]/)
  await t.rejects(esWrite({ connection: { url: server.url }, index: 'x', mappings: '{}' }), /--mappings and --settings apply to an index es-write creates/)
  await t.rejects(esWrite({ connection: { url: server.url }, createIndex: true }), /--create-index needs --index/)
  await t.rejects(esWrite({ connection: { url: server.url }, index: 'x', createIndex: true, mappings: '{nope' }), /--mappings: not JSON/)
})

t.test('--settings as GET /NAME/_settings prints it: what the engine sets itself is left out, and said once', async (t) => {
  const made = await fetch(`${server.url}/settings-src`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"settings":{"number_of_shards":3,"refresh_interval":"7s"}}' })
  t.equal(made.status, 200)
  for (const flat of [false, true]) {
    const printed = await (await fetch(`${server.url}/settings-src/_settings${flat ? '?flat_settings=true' : ''}`)).text()
    t.match(printed, /creation_date"/)
    const index = `settings-dst-${String(flat)}`
    const run = await write(server, ['{"_id":"1","_source":{"k":5}}'], { index, createIndex: true, settings: printed })
    t.equal(run.error, undefined)
    t.hasStrict(run.stats, { created: 1 })
    const lines = run.log.split('\n').filter((l) => l.includes('--settings: left out'))
    t.strictSame(lines.map((l) => l.replace(/^.*--settings/, '--settings')), ['--settings: left out index.uuid, index.provided_name, index.creation_date, index.version.created, index.routing.allocation.include._tier_preference: the engine sets them itself on a new index'], `flat: ${String(flat)}`)
    const got = await (await fetch(`${server.url}/${index}/_settings?flat_settings=true`)).json() as Record<string, { settings: Record<string, string> }>
    t.equal(got[index]?.settings['index.refresh_interval'], '7s')
    t.equal(got[index]?.settings['index.number_of_shards'], '3')
  }
  // Without them the file is sent as it is.
  const plain = await write(server, [], { index: 'settings-plain', createIndex: true, settings: '{"index":{"refresh_interval":"9s"}}' })
  t.notMatch(plain.log, /left out/)
})

t.test('--refresh: one refresh of the written indices at the end, none per batch', async (t) => {
  const before = server.requests.length
  await write(server, [...records(300, 'a').map((l) => l.replace('"src"', '"ref-a"')), ...records(300, 'b').map((l) => l.replace('"src"', '"ref-b"'))], { refresh: true, batchSize: 100 })
  const reqs = server.requests.slice(before)
  const refreshes = reqs.filter((r) => r.path.endsWith('/_refresh'))
  t.equal(refreshes.length, 1)
  t.match(refreshes[0]?.path, /^\/ref-[ab]%2Cref-[ab]\/_refresh$/)
  t.equal(reqs[reqs.length - 1]?.path, refreshes[0]?.path, 'after the last batch')
  const bulks = reqs.filter((r) => r.path === '/_bulk')
  t.ok(bulks.length >= 6 && bulks.every((r) => r.query.refresh === undefined), `no refresh per batch (${bulks.length} batches)`)
})

t.test('backpressure: with the server slow, input is read only while a request slot is free', async (t) => {
  // Answers take 3 s: what es-write reads while its first requests are out is what it holds
  // without any answer. The control is the end of the same run: answered, it reads everything.
  server.faults.latencyMs = 3000
  let produced = 0
  async function * source (): AsyncGenerator<object> {
    for (let i = 0; i < 20_000; i++) {
      produced++
      yield { _id: `bp${i}`, _source: { i } }
    }
  }
  const ctx = createContext({ tool: 'es-write', counters: ES_WRITE_COUNTERS, logger: new Logger({ tool: 'es-write', stream: new Writable({ write (_c, _e, cb) { cb() } }) }) })
  server.peakConcurrency()
  const before = server.requests.length
  const bulks = (): RequestRecord[] => server.requests.slice(before).filter((r) => r.path === '/_bulk')
  const writer = await esWrite({ connection: { url: server.url }, index: 'bp', batchSize: 100, concurrency: 2, context: ctx })
  const done = pipeline(Readable.from(source()), writer)
  await waitFor(() => bulks().length >= 2, { what: 'both request slots taken' })
  const held = await settled(() => produced, { what: 'the records es-write reads', quietMs: 300 })
  t.ok(bulks().every((r) => r.status === 0), 'no request answered yet: what was read, was read without an answer')
  // Two batches out, one waiting for a slot, and the streams' own buffers (16 objects each).
  t.ok(held >= 200 && held <= 3 * 100 + 40, `${held} records read while the first requests are out (bound ${3 * 100 + 40})`)
  server.faults.latencyMs = 0
  await done
  await ctx.cleanup()
  t.equal(produced, 20_000, 'answered, es-write reads the rest')
  t.equal(server.storedSources('bp').size, 20_000)
  t.ok(server.peakConcurrency() <= 2, 'never more than --concurrency requests at once')
})

t.test('a server that is not there, or refuses the credentials, fails before any input is read', async (t) => {
  await t.rejects(esWrite({ connection: { url: 'http://127.0.0.1:1' } }), { code: 'ECONNREFUSED', message: /cannot reach the cluster at http:\/\/127\.0\.0\.1:1: connection refused/ })
  const locked = await startEsServer({ auth: { basic: { username: 'elastic', password: 'right' } } })
  t.teardown(async () => await locked.close())
  await t.rejects(esWrite({ connection: { url: locked.url, username: 'elastic', password: 'wrong' } }), { message: /authentication failed/ })
  const ok = await write(locked, ['{"_id":"1","_source":{}}'], { index: 'auth', connection: { url: locked.url, username: 'elastic', password: 'right' } })
  t.hasStrict(ok.stats, { created: 1 })
})

t.test('bad options are usage errors', async (t) => {
  for (const [opts, msg] of [
    [{ op: 'merge' }, /invalid value for --op: 'merge'/],
    [{ batchSize: 0 }, /--batch-size: 0/],
    [{ concurrency: 0 }, /--concurrency: 0/],
    [{ index: '' }, /--index needs a value/]
  ] as Array<[Partial<EsWriteOptions>, RegExp]>) {
    await t.rejects(esWrite({ connection: { url: server.url }, ...opts }), { code: 'EUSAGE', message: msg })
  }
})
