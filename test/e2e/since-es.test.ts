// es-read --since-field (issue 24): ties on the field are exact across kills and reruns, each
// run reads what came since the last, and --settle decides which late documents are read.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { runShell, scratchDir } from '../helpers/run.js'
import { complete, emitted, killChain, random } from '../helpers/resume.js'

async function bulk (es: EsTestServer, index: string, docs: Array<{ id: string, source: string }>): Promise<void> {
  const body = docs.flatMap((d) => [JSON.stringify({ index: { _index: index, _id: d.id } }), d.source]).join('\n') + '\n'
  const res = await fetch(`${es.url}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
  const answer = await res.json() as { errors?: boolean }
  if (!res.ok || answer.errors !== false) throw new Error(`seeding failed: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`)
}

async function mapping (es: EsTestServer, index: string, properties: Record<string, unknown>): Promise<void> {
  const r = await fetch(`${es.url}/${index}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mappings: { dynamic: false, properties } }) })
  if (!r.ok) throw new Error(`creating ${index} failed: ${r.status} ${await r.text()}`)
}

/** The ids of a gzip JSON Lines file, in order (repeats kept). */
function ids (file: string): string[] {
  return gunzipSync(readFileSync(file)).toString('utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { _id: string })._id)
}

function jsonIds (text: string): string[] {
  return text.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { _id: string })._id)
}

let es: EsTestServer
t.before(async () => {
  es = await startEsServer()
})
t.teardown(async () => { await es.close() })

t.test('10,000 documents sharing one date, killed between them at random five times, rerun: each written once', async (t) => {
  const TIES = 10_000
  // A few before and after the tie, so the boundary moves into, through and out of the group.
  const docs: Array<{ id: string, source: string }> = []
  for (let i = 0; i < 50; i++) docs.push({ id: `before${i}`, source: `{"at":"2024-01-01T00:00:00.${String(i).padStart(3, '0')}Z","n":${i}}` })
  const rnd = random(2424)
  const order = Array.from({ length: TIES }, (_v, i) => i).sort(() => rnd() - 0.5)
  for (const i of order) docs.push({ id: `tie${i}`, source: `{"at":"2024-01-02T00:00:00.000Z","n":${i},"big":18446744073709551615}` })
  for (let i = 0; i < 50; i++) docs.push({ id: `after${i}`, source: `{"at":"2024-01-03T00:00:00.${String(i).padStart(3, '0')}Z","n":${i}}` })
  await mapping(es, 'ties', { at: { type: 'date' }, n: { type: 'long' } })
  await bulk(es, 'ties', docs)
  // Slow enough that kills land while pages are coming.
  es.faults.latencyMs = 30
  t.teardown(() => { es.faults.latencyMs = 0 })
  const dir = scratchDir(t)
  const out = join(dir, 'out.jsonl.gz')
  const reader = (ckpt: string): string => `es-read --url ${es.url} --index ties --since-field at --settle 0 --size 100 --checkpoint ${ckpt}`
  const started = Date.now()
  const clean = await runShell(`es-read --url ${es.url} --index ties --since-field at --settle 0 --size 100 | jsonl-write -q > /dev/null`)
  t.equal(clean.code, 0, clean.stderr)
  const r = await killChain({
    reader,
    writer: (ckpt) => `jsonl-write -o ${out} --flush-interval 100ms --checkpoint ${ckpt} -q`,
    records: docs.length,
    cleanMs: Date.now() - started,
    kill: 'group',
    seed: 2424,
    dir
  })
  t.comment(r.log.join('; '))
  t.equal(r.final.code, 0, `the last run ends with 0: ${r.final.stderr}`)
  t.ok(r.landed >= 1, `kills landed while the pipe ran (${r.landed})`)
  const inGroup = r.log.map((l) => /, (\d+) records committed/.exec(l)).filter((m) => m !== null).map((m) => Number(m[1])).filter((n) => n > 50 && n < 50 + TIES)
  t.ok(inGroup.length >= 1, `a kill landed with the committed position inside the tie group (${inGroup.join(', ')})`)
  const got = ids(out)
  t.equal(got.length, docs.length, 'as many records as documents')
  t.strictSame([...new Set(got)].sort(), docs.map((d) => d.id).sort(), 'each document once')
  t.ok(complete(join(dir, 'ckpt')), 'the checkpoint says the pipe is complete')
  t.equal(emitted(r.final.stderr, 'es-read'), docs.length - r.committedBefore, 'the last run read only what was not committed')
  // The order is the field's: the groups follow each other.
  const firstTie = got.findIndex((id) => id.startsWith('tie'))
  const lastTie = got.length - 1 - [...got].reverse().findIndex((id) => id.startsWith('tie'))
  t.equal(lastTie - firstTie + 1, TIES, 'the tie group is read as one run of records')
  t.ok(got.slice(0, firstTie).length === 50 && got.slice(0, firstTie).every((id) => id.startsWith('before')), 'the documents before the tie come first')

  // Another run reads what came since: one new tie, one later document, and nothing again.
  await bulk(es, 'ties', [{ id: 'tie-late', source: '{"at":"2024-01-03T00:00:00.049Z","n":-1}' }, { id: 'later', source: '{"at":"2024-01-04T00:00:00Z","n":-2}' }])
  const before = ids(out).length
  const again = await runShell(`${reader(join(dir, 'ckpt'))} | jsonl-write -o ${out} --checkpoint ${join(dir, 'ckpt')} -q`)
  t.equal(again.code, 0, again.stderr)
  t.strictSame(ids(out).slice(before), ['tie-late', 'later'], 'the next run adds the document that joined the last group, and the newer one, nothing else')
})

t.test('a number field beyond 2^53 and ties on it: a rerun reads what came since, exactly', async (t) => {
  await mapping(es, 'nums', { seq: { type: 'long' } })
  await bulk(es, 'nums', [1, 2, 2, 2, 3].map((v, i) => ({ id: `n${i}`, source: `{"seq":${v}}` })))
  const dir = scratchDir(t)
  const ckpt = join(dir, 'ckpt')
  const read = async (): Promise<string[]> => {
    const r = await runShell(`es-read --url ${es.url} --index nums --since-field seq --size 2 --checkpoint ${ckpt}`)
    t.equal(r.code, 0, r.stderr)
    return jsonIds(r.stdout)
  }
  t.strictSame(await read(), ['n0', 'n1', 'n2', 'n3', 'n4'], 'the first run reads everything, in order of the field')
  t.strictSame(await read(), [], 'a second run finds nothing new')
  await bulk(es, 'nums', [{ id: 'n5', source: '{"seq":3}' }, { id: 'n6', source: '{"seq":2}' }, { id: 'n7', source: '{"seq":4}' }])
  t.strictSame(await read(), ['n5', 'n7'], 'a document that joins the last value is read; one older than it is not (documented)')
})

t.test('--settle: a late document within settle is read by the next round; one older than the boundary is missed', async (t) => {
  await mapping(es, 'late', { at: { type: 'date' } })
  const now = Date.now()
  const iso = (ms: number): string => new Date(ms).toISOString()
  await bulk(es, 'late', [
    { id: 'old', source: `{"at":"${iso(now - 600_000)}"}` },
    { id: 'recent', source: `{"at":"${iso(now - 5_000)}"}` }
  ])
  const dir = scratchDir(t)
  const ckpt = join(dir, 'ckpt')
  const read = async (): Promise<string[]> => {
    const r = await runShell(`es-read --url ${es.url} --index late --since-field at --settle 60s --checkpoint ${ckpt}`)
    t.equal(r.code, 0, r.stderr)
    return jsonIds(r.stdout)
  }
  t.strictSame(await read(), ['old'], 'a document stamped within the last --settle is left for a later round')
  // Indexed after that round: one stamped 30 s ago (within settle: not passed by), one stamped
  // before the boundary the last round reached (settle cannot catch it: missed, as README says).
  await bulk(es, 'late', [
    { id: 'late-within', source: `{"at":"${iso(now - 30_000)}"}` },
    { id: 'late-too-old', source: `{"at":"${iso(now - 900_000)}"}` }
  ])
  t.strictSame(await read(), [], 'nothing is older than now - settle yet but the missed one')
  const r = await runShell(`es-read --url ${es.url} --index late --since-field at --settle 0 --checkpoint ${ckpt}`)
  t.equal(r.code, 0, r.stderr)
  t.strictSame(jsonIds(r.stdout).sort(), ['late-within', 'recent'], 'once settled, the late document within settle is read with the others; the one older than the boundary never is')
})

t.test('usage: --follow without --since-field, and --since-field with what it cannot combine with', async (t) => {
  const follow = await runShell(`es-read --url ${es.url} --index nums --follow`)
  t.equal(follow.code, 2)
  t.match(follow.stderr, /--follow needs --since-field F/)
  const sliced = await runShell(`es-read --url ${es.url} --index nums --since-field seq --slices 2`)
  t.equal(sliced.code, 2)
  t.match(sliced.stderr, /drop --slices/)
  const text = await runShell(`es-read --url ${es.url} --index ties --since-field nope`)
  t.equal(text.code, 1)
  t.match(text.stderr, /--since-field nope: not mapped in ties/)
})
