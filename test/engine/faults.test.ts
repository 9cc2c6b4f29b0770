// Failures the test server once only imitated, on real engines: a point in time that expired
// while the consumer paused, a request over http.max_content_length (413), per-item rejections
// from a full write queue (429). They need static node settings, so each real engine's pass
// starts a second, small node of that engine for this file (targets.ts faultTargets: a 64 KiB
// content length, one write thread with a queue of one, expired contexts reaped every second),
// stopped when the file ends; the suite's usual node keeps its defaults for every other
// scenario. The test servers' pass runs the same scenarios with the same content length and a
// share of bulk items refused. What the raw answers look like is compared first, so that a
// place where the test server answers unlike the engines fails here.
import t from 'tap'
import type { Test } from 'tap'
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runShell, runTool, scratchDir } from '../helpers/run.js'
import { waitFor } from '../helpers/wait.js'
import { call, FAULT_MAX_CONTENT_LENGTH, faultTargets } from './targets.js'
import type { FaultTarget } from './targets.js'

const all = await faultTargets(t)
const dir = scratchDir(t)

function eachTarget (name: string, fn: (t: Test, target: FaultTarget, i: number) => Promise<void>): void {
  t.test(name, async (t) => {
    for (const [i, target] of all.entries()) await t.test(target.name, async (t) => await fn(t, target, i))
  })
}

interface Doc { _id: string, source: string }

/** Sources as text: a number past 2^64, a decimal's trailing zero and escapes must arrive as they left. */
function docs (n: number, prefix: string, pad: number): Doc[] {
  return Array.from({ length: n }, (_v, i) => ({
    _id: `${prefix}${i}`,
    source: `{"n":${i},"s":"caf\\u00e9 ✓ \\"${i}\\"","raw":{"big":${18446744073709551615n + BigInt(i)},"price":1.50,"pad":"${'x'.repeat(pad)}"}}`
  }))
}

// raw is kept in _source but not indexed: its bytes are the engine's to keep, not to parse.
const MAPPINGS = { properties: { n: { type: 'long' }, s: { type: 'keyword' }, raw: { type: 'object', enabled: false } } }

/** A fresh empty index with MAPPINGS. */
async function create (t: Test, target: FaultTarget, index: string, shards: number): Promise<void> {
  await call(target, 'DELETE', `/${index}`)
  const created = await call(target, 'PUT', `/${index}`, { settings: { number_of_shards: shards, number_of_replicas: 0 }, mappings: MAPPINGS })
  t.equal(created.status, 200, created.text)
}

function ndjson (list: readonly Doc[]): string {
  return list.map((d) => `{"_id":"${d._id}","_source":${d.source}}`).join('\n') + '\n'
}

/** What `index` holds: id → _source bytes, as es-read gives them. */
async function holds (target: FaultTarget, index: string): Promise<Map<string, string>> {
  await call(target, 'POST', `/${index}/_refresh`)
  const r = await runTool('es-read', ['--url', target.url, '--index', index, '--size', '500', '-q'])
  if (r.code !== 0) throw new Error(`es-read ${index} on ${target.name}: ${r.stderr}`)
  return sources(r.stdout)
}

function sources (stdout: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const l of stdout.split('\n')) {
    if (l === '') continue
    const id = (JSON.parse(l) as { _id: string })._id
    if (out.has(id)) throw new Error(`${id} read twice`)
    out.set(id, l.slice(l.indexOf('"_source":') + 10, -1))
  }
  return out
}

/** The ids whose bytes differ from `want` (or are missing), and ids that should not be there. */
function differences (got: Map<string, string>, want: readonly Doc[]): string[] {
  const diff = want.filter((d) => got.get(d._id) !== d.source).map((d) => got.has(d._id) ? `${d._id} differs` : `${d._id} missing`)
  const ids = new Set(want.map((d) => d._id))
  for (const id of got.keys()) if (!ids.has(id)) diff.push(`${id} extra`)
  return diff
}

/** A fresh index with MAPPINGS, `list` written with es-write (which retries what the small node refuses) and refreshed. */
async function load (t: Test, target: FaultTarget, index: string, list: readonly Doc[]): Promise<void> {
  await create(t, target, index, 2)
  const file = join(dir, `${index}.ndjson`)
  writeFileSync(file, ndjson(list))
  const r = await runTool('es-write', ['--url', target.url, '--index', index, '--batch-size', '50', '-c', '1', '--retries', '30', '--retry-max-wait', '200ms', '--refresh', '-q', file])
  if (r.code !== 0) throw new Error(`loading ${index} on ${target.name}: ${r.stderr}`)
}

eachTarget('a request over http.max_content_length: 413 with no body on a connection that goes on; es-write splits its batches, dead-letters the one record over the limit, writes the rest exactly, exits 1', async (t, target) => {
  const index = 'engine-faults-413'
  await create(t, target, index, 2)
  const over = `{"index":{"_index":"${index}","_id":"raw"}}\n{"pad":"${'p'.repeat(FAULT_MAX_CONTENT_LENGTH)}"}\n`
  const refused = await call(target, 'POST', '/_bulk', over)
  t.strictSame({ status: refused.status, text: refused.text }, { status: 413, text: '' }, 'the raw answer: 413, empty')
  const after = await call(target, 'GET', '/')
  t.equal(after.status, 200, 'the node answers the next request')

  const list = docs(600, 's', 300)
  const huge: Doc = { _id: 'huge', source: `{"n":-1,"raw":{"pad":"${'h'.repeat(FAULT_MAX_CONTENT_LENGTH + 1000)}"}}` }
  const input = [...list.slice(0, 10), huge, ...list.slice(10)]
  const file = join(dir, '413.ndjson')
  writeFileSync(file, ndjson(input))
  const errors = join(dir, `413-dead-${all.indexOf(target)}.ndjson`)
  const r = await runTool('es-write', ['--url', target.url, '--index', index, '-c', '2', '--retries', '30', '--retry-max-wait', '200ms', '--errors', errors, '--refresh', file])
  t.equal(r.code, 1, 'a record failed: exit 1')
  t.match(r.stderr, /es-write: 601 read, 600 created, 0 updated, 0 deleted, 0 skipped, 1 failed, \d+ retr(y|ies)/)
  t.match(r.stderr, /refused a [\d.]+ [KM]B request as too large \(413\); batches are now at most/)
  const dead = readFileSync(errors, 'utf8').split('\n').filter((l) => l !== '')
  t.equal(dead.length, 1, 'one dead letter')
  t.ok(dead[0]?.startsWith(`{"record":{"_id":"huge","_source":${huge.source}},"line":11,`), 'the record as it came, with its input line')
  const letter = JSON.parse(dead[0] ?? '{}') as { error?: { code: string, message: string } }
  t.equal(letter.error?.code, 'ES_DOCUMENT_TOO_LARGE')
  t.match(letter.error?.message, /^the record is 6\d\.\d KB as a _bulk item, more than http:\/\/127\.0\.0\.1:\d+ takes in one request \(413 Request Entity Too Large; see http\.max_content_length\)$/)
  t.strictSame(differences(await holds(target, index), list), [], 'every other record once, with its bytes')
  await call(target, 'DELETE', `/${index}`)
})

eachTarget('per-item 429 from a full write queue: es-write sends only the refused records again, ends with each once and its bytes, and counts its retries', async (t, target) => {
  const index = 'engine-faults-429'
  const probe = `${index}-raw`
  for (const name of [index, probe]) await create(t, target, name, 4)
  target.overload(t)

  // The raw shape first: concurrent bulks until one item is refused (a fault node refuses some at once).
  const type = target.distribution === 'opensearch' ? 'rejected_execution_exception' : 'es_rejected_execution_exception'
  const executor = target.distribution === 'opensearch' ? 'OpenSearchThreadPoolExecutor' : 'EsThreadPoolExecutor'
  let item: Record<string, unknown> | undefined
  for (let round = 0; round < 20 && item === undefined; round++) {
    const answers = await Promise.all(Array.from({ length: 8 }, async (_v, k) => await call(target, 'POST', '/_bulk', Array.from({ length: 100 }, (_w, i) => `{"index":{"_index":"${probe}","_id":"raw-${k}-${i}"}}\n{"n":${i}}\n`).join(''))))
    for (const a of answers) {
      const items = (a.json as { items?: Array<Record<string, Record<string, unknown>>> }).items ?? []
      item ??= items.map((it) => Object.values(it)[0] as Record<string, unknown>).find((it) => it.status === 429)
    }
  }
  t.ok(item !== undefined, 'an item refused with 429 under concurrent bulks')
  t.equal(item?._index, probe)
  t.equal((item?.error as { type?: string } | undefined)?.type, type, `the item's error type: ${type}`)
  t.match((item?.error as { reason?: string } | undefined)?.reason, new RegExp(`^rejected execution of \\S+ on ${executor}\\[name = [^\\]]+/write, queue capacity = \\d+`))
  t.strictSame(Object.keys(item?.error as object).sort(), ['reason', 'type'], 'no index_uuid, no shard: the type and the reason only')
  await call(target, 'DELETE', `/${probe}`)

  const list = docs(4000, 'q', 40)
  const file = join(dir, '429.ndjson')
  writeFileSync(file, ndjson(list))
  const before = await target.rejected()
  const r = await runTool('es-write', ['--url', target.url, '--index', index, '--batch-size', '100', '-c', '8', '--retries', '40', '--retry-max-wait', '200ms', '--refresh', file])
  const rejected = (await target.rejected()) - before
  t.equal(r.code, 0, r.stderr)
  const summary = /es-write: 4000 read, 4000 created, 0 updated, 0 deleted, 0 skipped, 0 failed, (\d+) retries/.exec(r.stderr)
  t.ok(summary !== null, `the summary: ${r.stderr.split('\n').filter((l) => / read, /.test(l)).join('')}`)
  const retries = Number(summary?.[1])
  t.ok(rejected > 0, `${rejected} refused by the ${target.real ? "node's write pool" : 'test server'} during the run`)
  // Each retry is a request (or a batch's refused items) sent again after at least one refusal.
  t.ok(retries >= 1 && retries <= rejected, `${retries} retries counted, at least one and at most the ${rejected} refusals`)
  t.match(r.stderr, new RegExp(`\\d+ of \\d+ records refused by http://127\\.0\\.0\\.1:\\d+ \\(429 ${type}\\); sending them again in`), 'the refused items alone are sent again')
  t.strictSame(differences(await holds(target, index), list), [], 'every record once, with its bytes')
  await call(target, 'DELETE', `/${index}`)
})

/** Until the target holds no point in time (and no scroll): what the keep-alive, with the node's reaper, frees. */
async function contextsGone (target: FaultTarget, what: string): Promise<void> {
  await waitFor(async () => { const o = await target.open(); return o.pits === 0 && o.scrolls === 0 }, { what, timeoutMs: 30_000, everyMs: 100 })
}

const EXPIRY_DOCS = docs(3000, 'e', 1000)
const RESUME_DOCS = docs(1000, 'c', 20)

eachTarget('a consumer that stops reading for longer than --keep-alive: es-read stops with one line naming the expiry, exit 1, and what it wrote before is whole records, each once', async (t, target, i) => {
  const index = 'engine-faults-expiry'
  await load(t, target, index, EXPIRY_DOCS)
  await contextsGone(target, 'no context left from loading')
  // 3 MB: more than the pipe and es-read's own output queue (1 MiB) hold, so es-read waits for the consumer.
  const go = join(dir, `go-${i}`)
  const first = join(dir, `first-${i}`)
  const rest = join(dir, `rest-${i}`)
  const run = runShell(`mkfifo ${go} && es-read --url ${target.url} --index ${index} --keep-alive 1s --size 100 | { head -c 100000 > ${first}; read -r _ < ${go}; cat > ${rest}; }`)
  await waitFor(() => existsSync(first) && statSync(first).size >= 100000, { what: 'the consumer\'s first 100000 bytes', timeoutMs: 30_000 })
  await contextsGone(target, 'the read\'s context to expire while the consumer waits')
  writeFileSync(go, 'go\n')
  const r = await run
  t.equal(r.code, 1, 'exit 1')
  const errors = r.stderr.split('\n').filter((l) => / error /.test(l) || /error \[/.test(l))
  t.equal(errors.length, 1, `one error line: ${r.stderr}`)
  t.match(errors[0], /^es-read: error \[search_context_missing_exception\] the (point in time|scroll) expired at http:\/\/127\.0\.0\.1:\d+ index engine-faults-expiry before the next page was asked for; raise --keep-alive \(now 1s\) above the longest pause of the consumer/)
  const out = readFileSync(first, 'utf8') + readFileSync(rest, 'utf8')
  t.ok(out.endsWith('\n'), 'the output ends with a whole line')
  const got = sources(out)
  t.ok(got.size > 100 && got.size < EXPIRY_DOCS.length, `${got.size} records written before it stopped`)
  const want = new Map(EXPIRY_DOCS.map((d) => [d._id, d.source]))
  t.equal([...got].filter(([id, s]) => want.get(id) === s).length, got.size, 'each of them once, with its bytes')
  t.match(r.stderr, new RegExp(`es-read: ${got.size} read, ${got.size} emitted`), 'the summary counts what went out')
  await call(target, 'DELETE', `/${index}`)
})

eachTarget('a checkpointed copy whose point in time expired before the rerun: the rerun opens a new one where that is exact, or says in one line why not; either way a rerun ends with every document once', async (t, target, i) => {
  const src = 'engine-faults-resume-src'
  await load(t, target, src, RESUME_DOCS)
  for (const sorted of [true, false]) {
    await t.test(sorted ? '--sort n' : 'in the engine\'s own order', async (t) => {
      const dst = `engine-faults-resumed-${sorted ? 'sorted' : 'plain'}`
      await load(t, target, dst, [])
      const ckpt = join(dir, `ckpt-${i}-${String(sorted)}`)
      // The reruns keep their point in time longer, as the message of an expiry advises: a
      // reader with a checkpoint asks for a page only when the writer wants one, and a writer
      // slowed by rejections would let a 1 s point in time expire in the middle of the run.
      const read = (keepAlive: string): string => `es-read --url ${target.url} --index ${src} --keep-alive ${keepAlive} --size 100 ${sorted ? '--sort n ' : ''}--checkpoint ${ckpt}`
      const write = `es-write --url ${target.url} --index ${dst} --batch-size 50 -c 1 --retries 30 --retry-max-wait 200ms --checkpoint ${ckpt}`
      // The pipe's middle stage dies after 300 records: the writer commits them, the reader keeps its point in time for a rerun.
      const cut = await runShell(`${read('1s')} | head -n 300 | ${write} -q`)
      t.equal(cut.code, 0, cut.stderr)
      await contextsGone(target, 'the kept point in time to expire')
      const rerun = await runShell(`${read('1m')} | ${write} --refresh`)
      // OpenSearch before 3.3 ends its order with _index,_id, which names a document in any point in time.
      const exact = sorted || (target.distribution === 'opensearch' && !/^(3\.([3-9]|\d\d)|[4-9])/.test(target.version))
      if (exact) {
        t.equal(rerun.code, 0, rerun.stderr)
        t.match(rerun.stderr, /es-read: warning: checkpoint's point in time has expired; opening a new one and continuing after the last/)
        t.match(rerun.stderr, /es-read: 700 read, 700 emitted/, 'the rerun read only what was not committed')
      } else {
        t.equal(rerun.code, 1, 'exit 1')
        const errors = rerun.stderr.split('\n').filter((l) => /error \[/.test(l))
        t.equal(errors.length, 1, rerun.stderr)
        t.match(errors[0], /^es-read: error \[search_context_missing_exception\] checkpoint \S+: its point in time has expired at http:\/\/127\.0\.0\.1:\d+, and without --sort on a unique field \(and without slicing\) es-read cannot resume exactly; delete the checkpoint to start over, or raise --keep-alive next time/)
        t.match(rerun.stderr, /es-write: 0 read, 0 created/, 'nothing written past the error')
        rmSync(ckpt, { force: true })
        const fresh = await runShell(`${read('1m')} | ${write} --refresh`)
        t.equal(fresh.code, 0, fresh.stderr)
        t.match(fresh.stderr, /es-write: 1000 read, 700 created, 300 updated/, 'from a fresh checkpoint: the 300 written before are written again, replaced')
      }
      t.strictSame(differences(await holds(target, dst), RESUME_DOCS), [], 'every document once, with its bytes')
      const after = await runShell(`${read('1m')} | ${write}`)
      t.equal(after.code, 0, after.stderr)
      t.match(after.stderr, /es-read: checkpoint \S+ says this read is complete \(\d+ hits\); nothing to do/)
      await contextsGone(target, 'the point in time kept for the writer, closed by the run that found the read complete')
      await call(target, 'DELETE', `/${dst}`)
    })
  }
  await call(target, 'DELETE', `/${src}`)
})

eachTarget('an expired point in time answers 404 search_phase_execution_exception, every shard search_context_missing_exception', async (t, target) => {
  const index = 'engine-faults-pit'
  await load(t, target, index, docs(10, 'p', 10))
  const elastic = target.distribution === 'elasticsearch'
  const opened = await call(target, 'POST', `/${index}/${elastic ? '_pit' : '_search/point_in_time'}?keep_alive=1s`)
  t.equal(opened.status, 200, opened.text)
  const id = (opened.json as { id?: string, pit_id?: string })[elastic ? 'id' : 'pit_id']
  await contextsGone(target, 'the point in time to expire')
  const res = await call(target, 'POST', '/_search', { size: 1, pit: { id, keep_alive: '1m' } })
  const body = res.json as { status: number, error: { type: string, reason: string, root_cause: Array<{ type: string }>, failed_shards: Array<{ reason: { type: string } }> } }
  t.strictSame({
    status: res.status,
    bodyStatus: body.status,
    type: body.error.type,
    reason: body.error.reason,
    roots: [...new Set(body.error.root_cause.map((c) => c.type))],
    shards: [...new Set(body.error.failed_shards.map((f) => f.reason.type))]
  }, {
    status: 404,
    bodyStatus: 404,
    type: 'search_phase_execution_exception',
    reason: 'all shards failed',
    roots: ['search_context_missing_exception'],
    shards: ['search_context_missing_exception']
  })
  await call(target, 'DELETE', `/${index}`)
})
