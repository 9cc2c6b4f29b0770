// es-read --since-field and --follow (issue 24) against each real engine and the test server:
// ties on the field exact across kill -9 and reruns (each engine breaks ties its own way:
// Elasticsearch's implicit _shard_doc, OpenSearch 3.3's explicit one, OpenSearch 2.x's _index,_id),
// numbers with every digit, nanosecond dates, late documents and --settle, a followed read
// stopped by SIGTERM.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { binPath, collect, runShell } from '../helpers/run.js'
import { complete, killChain } from '../helpers/resume.js'
import { waitFor } from '../helpers/wait.js'
import { call, seed, targets } from './targets.js'
import type { Target } from './targets.js'

const tmp = mkdtempSync(join(tmpdir(), 'espipe-engine-since-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
const all = await targets(t)
let dirs = 0
const dir = (): string => mkdtempSync(join(tmp, `d${dirs++}-`))

function eachTarget (name: string, fn: (t: Test, target: Target) => Promise<void>, only: (target: Target) => boolean = () => true): void {
  t.test(name, async (t) => {
    for (const target of all.filter(only)) await t.test(target.name, async (t) => await fn(t, target))
  })
}

const ids = (text: string): string[] => text.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { _id: string })._id)
const gz = (file: string): string[] => ids(gunzipSync(readFileSync(file)).toString('utf8'))

async function add (target: Target, index: string, docs: Array<{ id: string, source: string }>): Promise<void> {
  const res = await call(target, 'POST', '/_bulk?refresh=true', docs.map((d) => `{"index":{"_index":"${index}","_id":"${d.id}"}}\n${d.source}\n`).join(''))
  if (res.status !== 200 || (res.json as { errors?: boolean }).errors !== false) throw new Error(`indexing into ${index}: ${res.text.slice(0, 300)}`)
}

eachTarget('3,000 documents sharing one date over two shards, killed at random, rerun: each once; the next run reads what came since', async (t, target) => {
  const docs = [
    ...Array.from({ length: 20 }, (_v, i) => ({ _id: `b${i}`, source: `{"at":"2024-01-01T00:00:00.${String(i).padStart(3, '0')}Z"}` })),
    ...Array.from({ length: 3000 }, (_v, i) => ({ _id: `t${i}`, source: `{"at":"2024-01-02T00:00:00Z","n":${i}}` })),
    ...Array.from({ length: 20 }, (_v, i) => ({ _id: `a${i}`, source: `{"at":"2024-01-03T00:00:00.${String(i).padStart(3, '0')}Z"}` }))
  ]
  await seed(target, 'since-ties', { properties: { at: { type: 'date' }, n: { type: 'long' } } }, docs, 2)
  const d = dir()
  const out = join(d, 'out.jsonl.gz')
  const reader = (ckpt: string): string => `es-read --url ${target.url} --index since-ties --since-field at --settle 0 --size 50 --checkpoint ${ckpt}`
  const started = Date.now()
  const clean = await runShell(`es-read --url ${target.url} --index since-ties --since-field at --settle 0 --size 50 | jsonl-write -q > /dev/null`)
  t.equal(clean.code, 0, clean.stderr)
  const r = await killChain({ reader, writer: (ckpt) => `jsonl-write -o ${out} --flush-interval 100ms --checkpoint ${ckpt} -q`, records: docs.length, cleanMs: Date.now() - started, kill: 'group', seed: 2431, dir: d, kills: 3 })
  t.comment(r.log.join('; '))
  t.equal(r.final.code, 0, r.final.stderr)
  const got = gz(out)
  t.equal(got.length, docs.length, 'as many records as documents')
  t.strictSame([...new Set(got)].sort(), docs.map((x) => x._id).sort(), 'each document once')
  t.ok(complete(join(d, 'ckpt')), 'complete')
  await add(target, 'since-ties', [{ id: 'late-tie', source: '{"at":"2024-01-03T00:00:00.019Z"}' }, { id: 'newer', source: '{"at":"2024-01-04T00:00:00Z"}' }, { id: 'older', source: '{"at":"2024-01-02T00:00:00Z"}' }])
  const again = await runShell(`${reader(join(d, 'ckpt'))} | jsonl-write -o ${out} --checkpoint ${join(d, 'ckpt')} -q`)
  t.equal(again.code, 0, again.stderr)
  t.strictSame(gz(out).slice(docs.length), ['late-tie', 'newer'], 'the next run: the document that joined the last value and the newer one; not one older than the boundary')
})

eachTarget('a long field near 2^63 (the test server: near 2^53, all it keeps) with ties: every digit, each once, then only what came since', async (t, target) => {
  // The test server holds longs as doubles; the real engines keep all 64 bits.
  const base = target.real ? 9223372036854775000n : 9007199254740000n
  const docs = Array.from({ length: 30 }, (_v, i) => ({ _id: `n${i}`, source: `{"seq":${base + BigInt(Math.floor(i / 3))}}` }))
  await seed(target, 'since-long', { properties: { seq: { type: 'long' } } }, docs, 2)
  const ckpt = join(dir(), 'ckpt')
  const read = async (): Promise<string[]> => {
    const r = await runShell(`es-read --url ${target.url} --index since-long --since-field seq --size 4 --checkpoint ${ckpt} | jsonl-write --checkpoint ${ckpt} -o ${ckpt}.jsonl -q; cat ${ckpt}.jsonl`)
    t.equal(r.code, 0, r.stderr)
    return ids(r.stdout)
  }
  const first = await read()
  t.strictSame([...first].sort(), docs.map((d) => d._id).sort(), 'every document once')
  await add(target, 'since-long', [{ id: 'same', source: `{"seq":${base + 9n}}` }, { id: 'next', source: `{"seq":${base + 10n}}` }, { id: 'before', source: `{"seq":${base + 8n}}` }])
  const second = await read()
  t.strictSame(second.slice(first.length), ['same', 'next'], 'values one apart told apart: the tie and the next, not the one before')
})

// OpenSearch judged shards by a date_nanos bottom sort value wrongly and answered a first page
// without a shard's smallest values, in about half the indices created (lib/es/nanos-sort.ts):
// four fresh indices make a read that still lost them fail here nearly always.
eachTarget('date_nanos: values a nanosecond apart, ties, and a rerun', async (t, target) => {
  const docs = Array.from({ length: 12 }, (_v, i) => ({ _id: `z${i}`, source: `{"at":"2024-05-01T10:00:00.12345678${Math.floor(i / 4)}Z"}` }))
  for (let n = 0; n < 4; n++) {
    const index = `since-nanos-${n}`
    await seed(target, index, { properties: { at: { type: 'date_nanos' } } }, docs, 2)
    const ckpt = join(dir(), 'ckpt')
    const read = async (): Promise<string[]> => {
      const r = await runShell(`es-read --url ${target.url} --index ${index} --since-field at --settle 0 --size 3 --checkpoint ${ckpt} | jsonl-write --checkpoint ${ckpt} -o ${ckpt}.jsonl -q; cat ${ckpt}.jsonl`)
      t.equal(r.code, 0, r.stderr)
      return ids(r.stdout)
    }
    const first = await read()
    t.strictSame([...first].sort(), docs.map((d) => d._id).sort(), `${index}: every document once`)
    t.strictSame(first.slice(0, 4).sort(), ['z0', 'z1', 'z2', 'z3'], `${index}: in order of the nanoseconds`)
    if (n > 0) continue
    await add(target, index, [{ id: 'tie', source: '{"at":"2024-05-01T10:00:00.123456782Z"}' }, { id: 'ns-later', source: '{"at":"2024-05-01T10:00:00.123456783Z"}' }, { id: 'ns-before', source: '{"at":"2024-05-01T10:00:00.123456781Z"}' }])
    t.strictSame((await read()).slice(first.length), ['tie', 'ns-later'], 'a nanosecond later is read, a nanosecond before the boundary is not')
  }
}, (target) => target.real)

eachTarget('--sort on a date_nanos field, ascending and descending: every document once, in order (the same shard skipping)', async (t, target) => {
  const docs = Array.from({ length: 12 }, (_v, i) => ({ _id: `z${i}`, source: i === 11 ? '{"x":1}' : `{"at":"2024-05-01T10:00:00.12345678${Math.floor(i / 4)}Z"}` }))
  for (let n = 0; n < 4; n++) {
    const index = `sort-nanos-${n}`
    await seed(target, index, { properties: { at: { type: 'date_nanos' } } }, docs, 2)
    for (const order of ['asc', 'desc']) {
      const r = await runShell(`es-read --url ${target.url} --index ${index} --sort at:${order} --size 3 -q`)
      t.equal(r.code, 0, r.stderr)
      const got = ids(r.stdout)
      t.strictSame([...got].sort(), docs.map((d) => d._id).sort(), `${index} ${order}: every document once`)
      const groups = got.slice(0, 11).map((id) => Math.floor(Number(id.slice(1)) / 4))
      t.strictSame(groups, [...groups].sort((a, b) => order === 'asc' ? a - b : b - a), `${index} ${order}: in order of the nanoseconds`)
      t.equal(got[11], 'z11', `${index} ${order}: the document without the field last`)
    }
  }
}, (target) => target.real)

eachTarget('--settle: a late document within settle is read by a later run, one older than the boundary is missed', async (t, target) => {
  const now = Date.now()
  const iso = (ms: number): string => new Date(ms).toISOString()
  await seed(target, 'since-late', { properties: { at: { type: 'date' } } }, [{ _id: 'old', source: `{"at":"${iso(now - 600_000)}"}` }, { _id: 'recent', source: `{"at":"${iso(now - 5_000)}"}` }], 1)
  const ckpt = join(dir(), 'ckpt')
  const read = async (settle: string): Promise<string[]> => {
    const r = await runShell(`es-read --url ${target.url} --index since-late --since-field at --settle ${settle} --checkpoint ${ckpt} | jsonl-write --checkpoint ${ckpt} -o ${ckpt}.jsonl -q; cat ${ckpt}.jsonl`)
    t.equal(r.code, 0, r.stderr)
    return ids(r.stdout)
  }
  t.strictSame(await read('60s'), ['old'], 'a document stamped within --settle waits')
  await add(target, 'since-late', [{ id: 'late-within', source: `{"at":"${iso(now - 30_000)}"}` }, { id: 'late-too-old', source: `{"at":"${iso(now - 900_000)}"}` }])
  t.strictSame((await read('0')).slice(1).sort(), ['late-within', 'recent'], 'the late one within settle is read; the one older than the boundary is missed')
})

eachTarget('--follow: documents indexed while it follows are read, each once; SIGTERM exits 143 and no point in time is left', async (t, target) => {
  await seed(target, 'since-follow', { properties: { at: { type: 'date' } } }, [{ _id: 'f0', source: `{"at":"${new Date(Date.now() - 10_000).toISOString()}"}` }], 2)
  // Runs killed by the scenarios before left theirs until their keep-alive.
  const held = (await target.open()).pits
  const child = spawn(process.execPath, [binPath('es-read'), '--url', target.url, '--index', 'since-follow', '--since-field', 'at', '--settle', '1s', '--follow', '--interval', '300ms'], { stdio: 'pipe' })
  const done = collect(child, null)
  let out = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  for (let i = 1; i <= 5; i++) await add(target, 'since-follow', [{ id: `f${i}`, source: `{"at":"${new Date().toISOString()}"}` }, { id: `g${i}`, source: `{"at":"${new Date().toISOString()}"}` }])
  await waitFor(() => ids(out).length >= 11, { what: 'the documents indexed while following', timeoutMs: 60_000, child })
  child.kill('SIGTERM')
  const r = await done
  t.equal(r.code, 143, r.stderr)
  t.strictSame(ids(r.stdout).sort(), ['f0', ...[1, 2, 3, 4, 5].flatMap((i) => [`f${i}`, `g${i}`])].sort(), 'each once')
  await waitFor(async () => (await target.open()).pits <= held, { what: `no more points in time open than the ${held} before`, timeoutMs: 10_000, everyMs: 200 })
  t.pass('no point in time left open by the followed read')
})
