/**
 * es-write against elasticdump, the loader a user would otherwise pick: the same records into an
 * empty index of the same server, from a file and from another index (es-read | es-write against
 * elasticdump ES→ES). Docs/s by the wall clock (process start to exit), peak RSS of each stage by
 * GNU time, median of RUNS; after every run the index is refreshed and counted, and a run that
 * left a document out fails the bench. The server is the project's test server, or with --engine
 * a real OpenSearch 2.19 node (test/engine/node.ts; --engine-url reuses one already running).
 * Before each run the target index is created anew (one shard, no replica) for either loader.
 *   node --import tsx bench/es-write-bench.ts [--docs 500000] [--runs 3] [--pin] [--engine [--engine-url URL]] [--profile-server]
 * --pin puts the test server on CPU 1 and the loaders on CPU 0 (see PIN in measure.ts).
 * --profile-server adds one es-write run with the test server under --cpu-prof and prints where
 * the server's time went, to see whether the server is what limits the rate.
 */
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { once } from 'node:events'
import { request } from 'node:http'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startEngine } from '../test/engine/node.js'
import { generateDocs } from '../test/servers/es/seed.js'
import type { Measurement } from './measure.js'
import { BIN, PIN, ROOT, fmt, machine, pinned, row, runPipeline, startEsServerProcess } from './measure.js'

const { values } = parseArgs({ options: { docs: { type: 'string', default: '500000' }, runs: { type: 'string', default: '3' }, engine: { type: 'boolean' }, 'engine-url': { type: 'string' }, 'profile-server': { type: 'boolean' }, pin: { type: 'boolean', default: false } } })
const PINNED = values.pin === true && values.engine !== true
const DOCS = Number(values.docs)
const RUNS = Number(values.runs)
const out = join(ROOT, 'bench', 'out')
mkdirSync(out, { recursive: true })
const file = join(out, `es-write-${DOCS}.ndjson`)

/** The records es-read would write for the seeded index: {"_index","_id","_source"} per line. */
async function generate (): Promise<void> {
  if (existsSync(file)) return
  const w = createWriteStream(file)
  for (let done = 0; done < DOCS; done += 10_000) {
    const lines = generateDocs(Math.min(10_000, DOCS - done), done).map((d) => JSON.stringify({ _index: 'src', _id: d._id, _source: d._source })).join('\n') + '\n'
    if (!w.write(lines)) await once(w, 'drain')
  }
  w.end()
  await once(w, 'finish')
}

function median (runs: Measurement[]): Measurement & { all: number[] } {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds)
  return { ...sorted[Math.floor(sorted.length / 2)] as Measurement, all: runs.map((r) => Number(r.seconds.toFixed(2))) }
}

/** One request to the server, on a connection of its own (runs in between leave pooled ones stale). */
async function es (url: string, method: string, path: string, body?: string, type = 'application/json'): Promise<{ status: number, body: unknown }> {
  return await new Promise((resolve, reject) => {
    const req = request(url + path, { method, agent: false, headers: body === undefined ? {} : { 'content-type': type } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d: string) => { text += d }).on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }))
    })
    req.on('error', reject).end(body)
  })
}

const TARGET_SETTINGS = JSON.stringify({ settings: { number_of_shards: 1, number_of_replicas: 0 } })

/** A real OpenSearch node (started here, or the one at --engine-url) holding the file's records in index `src`. */
async function loadedEngine (): Promise<{ url: string, stop: () => Promise<void>, label: string }> {
  const node = values['engine-url'] !== undefined
    ? { url: values['engine-url'], stop: async () => {}, version: ((await es(values['engine-url'], 'GET', '/')).body as { version: { number: string } }).version.number, startSeconds: 0 }
    : await startEngine()
  await es(node.url, 'DELETE', '/src')
  await es(node.url, 'PUT', '/src', JSON.stringify({ settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1' } }))
  const started = performance.now()
  const text = readFileSync(file, 'utf8')
  let at = 0
  while (at < text.length) {
    let end = at
    for (let n = 0; n < 5000 && end < text.length; n++) end = text.indexOf('\n', end) + 1 || text.length
    const body = text.slice(at, end).split('\n').filter((l) => l !== '').map((l) => {
      const r = JSON.parse(l) as { _id: string }
      return `{"index":{"_id":"${r._id}"}}\n${l.slice(l.indexOf('"_source":') + 10, -1)}\n`
    }).join('')
    const res = await es(node.url, 'POST', '/src/_bulk', body, 'application/x-ndjson')
    if (res.status !== 200 || (res.body as { errors: boolean }).errors) throw new Error(`loading src: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`)
    at = end
  }
  await es(node.url, 'POST', '/src/_refresh')
  await es(node.url, 'POST', '/src/_forcemerge?max_num_segments=1')
  process.stderr.write(`OpenSearch ${node.version} at ${node.url}; ${DOCS} documents loaded in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
  return { url: node.url, stop: node.stop, label: `a real OpenSearch ${node.version} node (JVM -Xmx768m, same machine)` }
}

await generate()
const server = values.engine === true
  ? await loadedEngine()
  : await startEsServerProcess(DOCS, 'src', { cpu: PINNED ? PIN.server : undefined }).then((s) => ({ url: s.url, stop: async () => { s.stop(); await s.exited }, label: PINNED ? `the test server pinned to CPU ${PIN.server}, every loader process to CPU ${PIN.clients} (--pin)` : 'the test server (one more Node process on the same cores)' }))
const dump = join(ROOT, 'node_modules', '.bin', 'elasticdump')
const write = `node ${BIN}/es-write.js --quiet --url ${server.url} --index t`
const read = `node ${BIN}/es-read.js --quiet --url ${server.url} --index src`
const best = '--limit=1000 --concurrency=4'
const cases: Array<[string, string, string[]]> = [
  ['file', 'es-write', [`${write} ${file}`]],
  ['file', 'elasticdump (defaults: --limit 100)', [`${dump} --quiet --input=${file} --output=${server.url}/t`]],
  ['file', `elasticdump ${best}`, [`${dump} --quiet ${best} --input=${file} --output=${server.url}/t`]],
  ['ES→ES', 'es-read \\| es-write', [read, write]],
  ['ES→ES', 'elasticdump (defaults)', [`${dump} --quiet --input=${server.url}/src --output=${server.url}/t`]],
  ['ES→ES', `elasticdump ${best}`, [`${dump} --quiet ${best} --input=${server.url}/src --output=${server.url}/t`]]
]
const results: Array<{ from: string, name: string, rate: number }> = []
const lines: string[] = []
try {
  lines.push(`${fmt(DOCS)} records (~${fmt(statSync(file).size / DOCS)} B each as NDJSON) into an empty index of ${server.label}, median of ${RUNS}, ${machine()}.`, '')
  lines.push(row(['from', 'loader', 'docs/s', 'seconds (runs)', 'peak RSS MB per stage', 'CPU µs per doc per stage', 'documents counted']))
  lines.push(row(['---', '---', '---:', '---', '---', '---', '---']))
  for (const [from, name, stages] of cases) {
    const runs: Measurement[] = []
    const counts: number[] = []
    for (let r = 0; r < RUNS; r++) {
      await es(server.url, 'DELETE', '/t')
      await es(server.url, 'PUT', '/t', TARGET_SETTINGS)
      runs.push(runPipeline(stages.map((st) => pinned(st, PINNED))))
      await es(server.url, 'POST', '/t/_refresh')
      counts.push(((await es(server.url, 'GET', '/t/_count')).body as { count?: number } | undefined)?.count ?? 0)
      if (counts[r] !== DOCS) throw new Error(`${name}: ${counts[r]} documents in the index after run ${r + 1}, not ${DOCS}`)
    }
    const m = median(runs)
    results.push({ from, name, rate: DOCS / m.seconds })
    lines.push(row([from, name, fmt(DOCS / m.seconds), `${m.seconds.toFixed(2)} (${m.all.join(', ')})`, m.rssMb.map((x) => x.toFixed(0)).join(' / '), m.cpuSeconds.map((c) => fmt(c * 1e6 / DOCS)).join(' / '), counts.map(fmt).join(', ')]))
    process.stderr.write(lines[lines.length - 1] + '\n')
  }
  await es(server.url, 'DELETE', '/t')
} finally {
  await server.stop()
}
for (const from of ['file', 'ES→ES']) {
  const ours = results.find((r) => r.from === from && !r.name.startsWith('elasticdump'))
  const theirs = Math.max(...results.filter((r) => r.from === from && r.name.startsWith('elasticdump')).map((r) => r.rate))
  if (ours !== undefined) lines.push('', `${from}: ${ours.name.replace('\\|', '|')} at ${(ours.rate / theirs).toFixed(1)}× elasticdump's best`)
}

if (values['profile-server'] === true && values.engine !== true) {
  // One more es-write run with the server under --cpu-prof: where the server's time goes.
  const dir = join(out, 'server-profile')
  rmSync(dir, { recursive: true, force: true })
  const profiled = await startEsServerProcess(0, 'none', { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] })
  const m = runPipeline([`node ${BIN}/es-write.js --quiet --url ${profiled.url} --index t ${file}`])
  profiled.stop()
  await profiled.exited
  const prof = readdirSync(dir).map((f) => join(dir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0] as string
  const p = JSON.parse(readFileSync(prof, 'utf8')) as { nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number } }>, samples: number[], timeDeltas: number[] }
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  let busy = 0
  p.samples.forEach((s, i) => {
    const n = byId.get(s)
    const f = n?.callFrame
    const key = f === undefined ? '?' : `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`
    const dt = p.timeDeltas[i] ?? 0
    self.set(key, (self.get(key) ?? 0) + dt)
    if (f?.functionName !== '(idle)' && f?.functionName !== '(program)') busy += dt
  })
  lines.push('', `Server profile during one es-write run (${m.seconds.toFixed(1)} s, es-write itself ${m.cpuSeconds[0]?.toFixed(1) ?? '?'} s of CPU): the server process was busy ${(busy / 1e6).toFixed(1)} s over its life (start and seeding included). Top self time:`, '')
  lines.push(row(['function', 'self ms']), row(['---', '---:']))
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 12)) lines.push(row([k.replace(/\|/g, '\\|'), fmt(v / 1000)]))
  lines.push('', `(profile: ${prof})`)
}
console.log(lines.join('\n'))
