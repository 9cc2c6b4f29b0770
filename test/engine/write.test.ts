// es-write, the real binary, against each real engine (OpenSearch 2.19, Elasticsearch 7.17, OpenSearch 3.3) and the project's test server in both
// dialects (see targets.ts): round trips with es-read, per-item errors from real mappings, create
// conflicts, refresh, keys given twice. The same expectations on every target.
import t from 'tap'
import type { Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runShell, runTool } from '../helpers/run.js'
import { call, parsingError, seed, targets, testServer } from './targets.js'
import type { Target } from './targets.js'

const N = 2000
const SRC = 'engine-write-src'

/** Sources as text: numbers beyond double precision, -0 and escapes must arrive as they left. */
const DOCS = Array.from({ length: N }, (_v, i) => ({
  _id: `w${i}`,
  source: `{"n":${i},"k":"k${i % 7}","raw":{"big":1234567890123456789012${i % 10},"f":0.1000000000000000055511151231257827,"z":-0,"e":1e400,"s":"é\\u00e9\\n\\"q\\""}}`
}))
const MAPPINGS = { properties: { n: { type: 'long' }, k: { type: 'keyword' }, raw: { type: 'object', enabled: false } } }

const tmp = mkdtempSync(join(tmpdir(), 'espipe-engine-write-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
const mappingsFile = join(tmp, 'mappings.json')
writeFileSync(mappingsFile, JSON.stringify({ mappings: MAPPINGS }))

const all = await targets(t)
// A real node's copies go to a test server and come back from it: each real engine's pass
// crosses engines too, as the test servers' pass does from each dialect to the next.
const peer = all.some((target) => target.real) ? await testServer(t, 'elasticsearch', '8.19.0') : undefined
for (const target of [...all, ...(peer !== undefined ? [peer] : [])]) await seed(target, SRC, MAPPINGS, DOCS)

/** Where a target's documents are copied to, and from: the next target, or the peer and back. */
function crossings (target: Target, i: number): Array<[Target, Target]> {
  if (target.real && peer !== undefined) return [[target, peer], [peer, target]]
  const next = all[(i + 1) % all.length] as Target
  return next === target ? [] : [[target, next]]
}

function eachTarget (name: string, fn: (t: Test, target: Target, i: number) => Promise<void>): void {
  t.test(name, async (t) => {
    for (const [i, target] of all.entries()) await t.test(target.name, async (t) => await fn(t, target, i))
  })
}

/** Every document of `index` as `id → _source bytes`, read back with es-read. */
async function documents (target: Target, index: string): Promise<Map<string, string>> {
  const r = await runTool('es-read', ['--url', target.url, '--index', index, '--size', '1000'])
  if (r.code !== 0) throw new Error(`es-read ${index} on ${target.name}: ${r.stderr}`)
  const out = new Map<string, string>()
  for (const l of r.stdout.split('\n')) {
    if (l === '') continue
    const id = (JSON.parse(l) as { _id: string })._id
    out.set(id, l.slice(l.indexOf('"_source":') + 10, -1))
  }
  return out
}

function sameDocuments (t: Test, got: Map<string, string>, what: string): void {
  t.equal(got.size, N, `${what}: ${N} documents`)
  t.equal(DOCS.filter((d) => got.get(d._id) === d.source).length, N, `${what}: each id with its _source, byte for byte`)
}

async function count (target: Target, index: string): Promise<number> {
  return ((await call(target, 'GET', `/${index}/_count`)).json as { count: number }).count
}

async function drop (target: Target, ...indices: string[]): Promise<void> {
  for (const index of indices) await call(target, 'DELETE', `/${index}`)
}

interface Dead { record: unknown, line: number, error: { code: string, message: string } }

function deadLetters (file: string): Dead[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Dead)
}

eachTarget('es-read | es-write: into another index of the same engine, and across engines, the same ids and bytes', async (t, target, i) => {
  await drop(target, 'engine-write-copy')
  const copy = await runShell(`es-read --url ${target.url} --index ${SRC} | es-write --url ${target.url} --index engine-write-copy --create-index --mappings ${mappingsFile} --refresh`)
  t.equal(copy.code, 0, copy.stderr)
  t.match(copy.stderr, new RegExp(`es-write: writing to engine-write-copy at ${target.url} \\((OpenSearch|Elasticsearch) [\\d.]+\\)`), 'the engine named at the start')
  t.match(copy.stderr, new RegExp(`es-write: ${N} read, ${N} created, 0 updated, 0 deleted, 0 skipped, 0 failed, 0 retries`))
  t.equal(await count(target, 'engine-write-copy'), N, '--refresh: _count sees every document when es-write exits')
  sameDocuments(t, await documents(target, 'engine-write-copy'), 'same engine')

  await drop(target, 'engine-write-copy')

  const pairs = crossings(target, i)
  t.ok(pairs.length > 0, 'copied across engines too')
  for (const [from, to] of pairs) {
    const index = `engine-write-from-${i}-${from.real ? 'node' : 'server'}`
    await drop(to, index)
    const across = await runShell(`es-read --url ${from.url} --index ${SRC} | es-write --url ${to.url} --index ${index} --create-index --mappings ${mappingsFile} --refresh -c 4 --batch-size 300`)
    t.equal(across.code, 0, across.stderr)
    sameDocuments(t, await documents(to, index), `${from.name} to ${to.name}`)
    const again = await runShell(`es-read --url ${from.url} --index ${SRC} | es-write --url ${to.url} --index ${index}`)
    t.equal(again.code, 0, again.stderr)
    t.match(again.stderr, new RegExp(`${N} read, 0 created, ${N} updated`), 'a rerun replaces each document once')
    await call(to, 'POST', `/${index}/_refresh`)
    t.equal(await count(to, index), N, 'and adds none')
    await drop(to, index)
  }
})

eachTarget('per-item errors from real mappings: each refused record dead-lettered with the engine\'s reason, the rest written, exit 1', async (t, target) => {
  const index = 'engine-write-mapped'
  await drop(target, index)
  const mappings = join(tmp, 'strict.json')
  writeFileSync(mappings, JSON.stringify({ dynamic: 'strict', properties: { n: { type: 'long' }, d: { type: 'date' }, k: { type: 'keyword' }, o: { type: 'object', properties: { x: { type: 'long' } } } } }))
  const input = join(tmp, 'mapped.ndjson')
  const lines = [
    '{"_id":"a","_source":{"n":1,"d":"2024-01-01","k":"x","o":{"x":2}}}',
    '{"_id":"b","_source":{"n":"not a number"}}',
    '{"_id":"c","_source":{"d":"not a date"}}',
    '{"_id":"d","_source":{"o":"a string where an object is mapped"}}',
    '{"_id":"e","_source":{"n":12345678901234567890}}',
    '{"_id":"f","_source":{"n":"42","k":7}}',
    '{"_id":"g","_source":{"unknown":1}}',
    '{"_id":"h","_source":{"n":9223372036854775807}}'
  ]
  writeFileSync(input, lines.join('\n') + '\n')
  const errors = join(tmp, `mapped-${all.indexOf(target)}.ndjson`)
  const r = await runTool('es-write', ['--url', target.url, '--index', index, '--create-index', '--mappings', mappings, '--refresh', '--errors', errors, input])
  t.equal(r.code, 1, 'a record failed: exit 1')
  t.match(r.stderr, /es-write: 8 read, 3 created, 0 updated, 0 deleted, 0 skipped, 5 failed, 0 retries/)
  const dead = deadLetters(errors)
  const parsing = parsingError(target)
  t.same(dead.map((d) => [d.line, d.error.code]), [[2, parsing], [3, parsing], [4, parsing], [5, parsing], [7, 'strict_dynamic_mapping_exception']], 'the refused records, by input line, with the engine\'s error type')
  t.match(dead[0]?.error.message, /failed to parse field \[n\] of type \[long\] in document with id 'b'\. Preview of field's value: 'not a number'/)
  t.match(dead[1]?.error.message, /failed to parse field \[d\] of type \[date\] in document with id 'c'/)
  t.match(dead[2]?.error.message, /object mapping for \[o\] tried to parse field \[o\] as object, but found a concrete value/)
  t.match(dead[3]?.error.message, /failed to parse field \[n\] of type \[long\] in document with id 'e'\. Preview of field's value: '12345678901234567890'/)
  t.match(dead[4]?.error.message, /mapping set to strict, dynamic introduction of \[unknown\] within \[_doc\] is not allowed/)
  t.ok(readFileSync(errors, 'utf8').split('\n')[3]?.startsWith(`{"record":${lines[4] as string},"line":5,`), 'the dead letter holds the record as it came, every digit')
  t.equal(await count(target, index), 3, 'the others are in the index')
  const got = await documents(target, index)
  t.same([...got.keys()].sort(), ['a', 'f', 'h'])
  t.equal(got.get('h'), '{"n":9223372036854775807}')
  await drop(target, index)
})

eachTarget('--op create: an id that exists is skipped (exists); update of a missing id fails; delete of a missing id is counted as not found', async (t, target) => {
  const index = 'engine-write-create'
  await drop(target, index)
  const input = join(tmp, 'create.ndjson')
  writeFileSync(input, DOCS.slice(0, 500).map((d) => `{"_id":"${d._id}","_source":${d.source}}`).join('\n') + '\n')
  const first = await runTool('es-write', ['--url', target.url, '--index', index, '--op', 'create', '--batch-size', '100', '--create-index', '--mappings', mappingsFile, input])
  t.equal(first.code, 0, first.stderr)
  t.match(first.stderr, /500 read, 500 created, 0 updated, 0 deleted, 0 skipped, 0 failed/)
  const second = await runTool('es-write', ['--url', target.url, '--index', index, '--op', 'create', '--refresh', input])
  t.equal(second.code, 0, 'skipped records are no failure')
  t.match(second.stderr, /500 read, 0 created, 0 updated, 0 deleted, 500 skipped \(exists\), 0 failed/)
  t.equal(await count(target, index), 500)
  const update = await runShell(`printf '%s\\n' '{"_id":"w1","_source":{"k":"changed"}}' '{"_id":"nope","_source":{"k":"x"}}' | es-write --url ${target.url} --index ${index} --op update --log-format json`)
  t.equal(update.code, 1)
  const recordError = update.stderr.split('\n').find((l) => l.includes('"record-error"')) ?? '{}'
  t.match(JSON.parse(recordError), { code: 'document_missing_exception', message: /\[nope\]: document missing/, context: { _id: 'nope', index } })
  t.match(JSON.parse(update.stderr.split('\n').find((l) => l.includes('"summary"')) ?? '{}'), { counts: { read: 2, updated: 1, failed: 1 } })
  const doc = await call(target, 'GET', `/${index}/_doc/w1`)
  t.match(doc.json, { _source: { n: 1, k: 'changed' } }, 'a partial update merges')
  const del = await runShell(`printf '%s\\n' '{"_id":"w2"}' '{"_id":"nope"}' | es-write --url ${target.url} --index ${index} --op delete --refresh`)
  t.equal(del.code, 0, del.stderr)
  t.match(del.stderr, /2 read, 0 created, 0 updated, 1 deleted, 1 not found, 0 skipped, 0 failed/)
  t.equal(await count(target, index), 499)
  await drop(target, index)
})

eachTarget('refresh_interval -1: nothing is searchable until es-write --refresh ends the run with one refresh', async (t, target) => {
  const index = 'engine-write-refresh'
  await drop(target, index)
  const settings = join(tmp, 'settings.json')
  writeFileSync(settings, '{"index":{"number_of_shards":1,"number_of_replicas":0,"refresh_interval":"-1"}}')
  const input = join(tmp, 'refresh.ndjson')
  writeFileSync(input, DOCS.slice(0, 300).map((d) => `{"_id":"${d._id}","_source":${d.source}}`).join('\n') + '\n')
  const plain = await runTool('es-write', ['--url', target.url, '--index', index, '--create-index', '--settings', settings, '--mappings', mappingsFile, input])
  t.equal(plain.code, 0, plain.stderr)
  t.equal(await count(target, index), 0, 'without --refresh: written, not yet searchable')
  t.equal((await call(target, 'GET', `/${index}/_doc/w7`)).status, 200, 'GET by id is realtime')
  writeFileSync(input, DOCS.slice(300, 600).map((d) => `{"_id":"${d._id}","_source":${d.source}}`).join('\n') + '\n')
  const refreshed = await runTool('es-write', ['--url', target.url, '--index', index, '--refresh', '--batch-size', '50', input])
  t.equal(refreshed.code, 0, refreshed.stderr)
  t.equal(await count(target, index), 600, 'with --refresh: every document searchable when it exits')
  await drop(target, index)
})

eachTarget('a key given twice in a record: the engine refuses such bytes, es-write sends the last value of each key and the document lands', async (t, target) => {
  const index = 'engine-write-dup'
  await drop(target, index)
  const raw = await call(target, 'POST', '/_bulk', `{"index":{"_index":"${index}","_id":"raw"}}\n{"a":1,"a":2}\n`)
  const item = (raw.json as { items: Array<{ index: { status: number, error?: { caused_by?: { reason: string } } } }> }).items[0]?.index
  t.equal(item?.status, 400, 'sent as it came: refused')
  t.match(item?.error?.caused_by?.reason, /^Duplicate field 'a'/)
  const input = join(tmp, 'dup.ndjson')
  writeFileSync(input, [
    '{"_id":"d1","_source":{"a":1,"b":9007199254740993,"a":2}}',
    '{"_id":"d2","_source":{"x":{"y":1,"y":3}},"_source":{"x":{"y":4,"y":5}}}'
  ].join('\n') + '\n')
  const r = await runTool('es-write', ['--url', target.url, '--index', index, '--refresh', input])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /2 read, 2 created, .* 0 failed/)
  const got = await documents(target, index)
  t.equal(got.get('d1'), '{"a":2,"b":9007199254740993}', 'the last value of a, b to the digit')
  t.equal(got.get('d2'), '{"x":{"y":5}}')
  const upsert = await runShell(`printf '%s\\n' '{"_id":"d1","_source":{"c":1,"c":2}}' | es-write --url ${target.url} --index ${index} --op upsert`)
  t.equal(upsert.code, 0, `an update body with a repeated key would fail the whole request: ${upsert.stderr}`)
  t.match((await call(target, 'GET', `/${index}/_doc/d1`)).json, { _source: { a: 2, c: 2 } })
  await drop(target, index)
})

eachTarget('--settings FILE as GET /NAME/_settings prints it (nested or flat): what the engine sets itself left out, the rest applied', async (t, target, i) => {
  for (const flat of [false, true]) {
    const dst = `engine-write-settings-${i}-${flat ? 'flat' : 'nested'}`
    await call(target, 'DELETE', `/${dst}`)
    const got = await call(target, 'GET', `/${SRC}/_settings${flat ? '?flat_settings=true' : ''}`)
    t.equal(got.status, 200, got.text)
    t.match(got.text, /creation_date/, 'the engine printed what it set itself')
    const file = join(tmp, `${dst}.json`)
    writeFileSync(file, got.text)
    const r = await runTool('es-write', ['--url', target.url, '--index', dst, '--create-index', '--settings', file], { input: '{"_id":"a","_source":{"n":1}}\n' })
    t.equal(r.code, 0, r.stderr)
    t.match(r.stderr, /es-write: --settings: left out index\.[a-z_.]+(, index\.[a-z_.]+)*: the engine sets them itself on a new index/)
    t.match(r.stderr, /index\.uuid/)
    t.match(r.stderr, /index\.creation_date/)
    const shards = await call(target, 'GET', `/${dst}/_settings/index.number_of_shards?flat_settings=true`)
    t.strictSame(shards.json, { [dst]: { settings: { 'index.number_of_shards': '2' } } }, 'the number of shards of the source')
  }
})

eachTarget('--op update and upsert: the engine writes the whole stored document again in its own JSON; es-write warns once', async (t, target, i) => {
  const index = `engine-write-partial-${i}`
  await call(target, 'DELETE', `/${index}`)
  await call(target, 'PUT', `/${index}`, { settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: MAPPINGS })
  const written = '{"n":1,"raw":{"e":1e400,"z":-0,"f":1.0,"big":123456789012345678901234,"d":0.1000000000000000055511151231257827,"x":1.5e3,"g":1e21,"s":"\\u00e9"}}'
  // As Jackson writes the Java values it parsed (es-write(1), PARTIAL UPDATES).
  const rewritten = '{"e":"Infinity","z":0,"f":1.0,"big":123456789012345678901234,"d":0.1,"x":1500.0,"g":1.0E21,"s":"é"}'
  const put = await runTool('es-write', ['--url', target.url, '--index', index, '--refresh'], { input: `{"_id":"u1","_source":${written}}\n` })
  t.equal(put.code, 0, put.stderr)
  t.notMatch(put.stderr, /partial update/, '--op index: no warning')
  t.strictSame((await documents(target, index)).get('u1'), written, '--op index: stored as written')
  const update = await runTool('es-write', ['--url', target.url, '--index', index, '--op', 'update', '--refresh'], { input: '{"_id":"u1","_source":{"n":2}}\n{"_id":"u1","_source":{"n":3}}\n' })
  t.equal(update.code, 0, update.stderr)
  t.equal(update.stderr.split('\n').filter((l) => l.includes('is a partial update')).length, 1, 'warned once')
  const after = (await documents(target, index)).get('u1')
  t.strictSame(after, `{"n":3,"raw":${rewritten}}`, 'the fields the update did not name were written again')
  const upsert = await runTool('es-write', ['--url', target.url, '--index', index, '--op', 'upsert', '--refresh'], { input: `{"_id":"u2","_source":${written}}\n` })
  t.equal(upsert.code, 0, upsert.stderr)
  t.equal(upsert.stderr.split('\n').filter((l) => l.includes('is a partial update')).length, 1, 'upsert: warned once')
  t.strictSame((await documents(target, index)).get('u2'), `{"n":1,"raw":${rewritten}}`, 'a document an upsert creates is written again too')
})
