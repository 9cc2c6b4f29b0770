// es-read against elasticdump: the same documents from the same server, same page size, to
// /dev/null and behind a slow consumer. Docs/s (wall clock, process start to exit) and peak RSS
// (of the exporting process only, from /usr/bin/time), median of RUNS runs. The server is the
// project's test server, or with --engine a real OpenSearch 2.19 node (test/engine/node.ts; the
// documents are bulk-loaded first, and es-read pages it with a sliced scroll). --latency MS makes
// the test server take MS milliseconds over each response (a cluster that takes 20 ms per page);
// --sinks null leaves out the slow-consumer rows. CPU is the exporter's user+sys seconds. --pin
// puts the test server on CPU 1 and the exporter on CPU 0 (see PIN in measure.ts).
//   node --import tsx bench/es-read-bench.ts [--docs 500000] [--runs 3] [--size 1000] [--rate 20000000] [--latency 0] [--sinks null,slow] [--pin] [--engine]
import { execFileSync } from 'node:child_process'
import { BIN, PIN, pinned, startEsServerProcess } from './measure.js'
import { startEngine } from '../test/engine/node.js'
import { generateDocs } from '../test/servers/es/seed.js'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { docs: { type: 'string', default: '500000' }, runs: { type: 'string', default: '3' }, size: { type: 'string', default: '1000' }, rate: { type: 'string', default: '20000000' }, engine: { type: 'boolean', default: false }, latency: { type: 'string', default: '0' }, sinks: { type: 'string', default: 'null,slow' }, pin: { type: 'boolean', default: false } } })
const DOCS = Number(values.docs)
const RUNS = Number(values.runs)
const SIZE = values.size
const root = join(import.meta.dirname, '..')
const tmp = mkdtempSync(join(tmpdir(), 'es-read-bench-'))

const LATENCY = Number(values.latency)
const SINKS = values.sinks.split(',')
const PINNED = values.pin && !values.engine

interface Sample { seconds: number, rssMb: number, cpu: number, lines?: number }

/** Runs `cmd` (an exporter) under /usr/bin/time, its stdout to /dev/null or into the slow consumer. */
function once (cmd: string, slow: boolean): Sample {
  const timeFile = join(tmp, 'time')
  const sink = slow ? `| node ${join(import.meta.dirname, 'es-read-slow-consumer.mjs')} ${values.rate}` : '> /dev/null'
  const stdout = execFileSync('bash', ['-c', `/usr/bin/time -f '%e %M %U %S' -o ${timeFile} ${pinned(cmd, PINNED)} ${sink}`], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 20 })
  const [secs, kb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()?.split(' ').map(Number) ?? [NaN, NaN, NaN, NaN]
  return { seconds: secs, rssMb: kb / 1024, cpu: user + sys, lines: slow ? Number(stdout.trim()) : undefined }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** A real OpenSearch node holding DOCS generated documents in index `bench` (one shard, refreshed). */
async function startLoadedEngine (): Promise<{ url: string, stop: () => Promise<void>, label: string }> {
  const node = await startEngine()
  const post = async (path: string, body: string, type = 'application/json'): Promise<void> => {
    const res = await fetch(node.url + path, { method: path === '/bench' ? 'PUT' : 'POST', headers: { 'content-type': type }, body })
    const text = await res.text()
    if (!res.ok || text.startsWith('{"took"') && text.includes('"errors":true')) throw new Error(`${path}: ${res.status} ${text.slice(0, 300)}`)
  }
  await post('/bench', JSON.stringify({ settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1' } }))
  const started = performance.now()
  for (let done = 0; done < DOCS; done += 5000) {
    const lines = generateDocs(Math.min(5000, DOCS - done), done).map((d) => `{"index":{"_id":"${d._id}"}}\n${JSON.stringify(d._source)}\n`).join('')
    await post('/bench/_bulk', lines, 'application/x-ndjson')
  }
  await post('/bench/_refresh', '')
  await post('/bench/_forcemerge?max_num_segments=1', '')
  console.error(`OpenSearch ${node.version} up in ${node.startSeconds.toFixed(1)} s; ${DOCS} documents loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return { url: node.url, stop: node.stop, label: `a real OpenSearch ${node.version} node (one shard, same machine)` }
}

const server = values.engine === true ? await startLoadedEngine() : { ...(await startEsServerProcess(DOCS, 'bench', { latencyMs: LATENCY, cpu: PINNED ? PIN.server : undefined })), label: (LATENCY > 0 ? `the test server answering each response after ${LATENCY} ms` : 'the test server') + (PINNED ? ` (pinned to CPU ${PIN.server}, the exporter to CPU ${PIN.clients}: --pin)` : '') }
const tools: Array<[string, string]> = [
  ['es-read', `node ${BIN}/es-read.js --quiet --url ${server.url} --index bench --size ${SIZE}`],
  ['es-read --slices 2', `node ${BIN}/es-read.js --quiet --url ${server.url} --index bench --size ${SIZE} --slices 2`],
  ['es-read --slices 4', `node ${BIN}/es-read.js --quiet --url ${server.url} --index bench --size ${SIZE} --slices 4`],
  ['elasticdump', `node_modules/.bin/elasticdump --quiet --input=${server.url}/bench --output=$ --limit=${SIZE}`]
]
const rows: string[] = []
try {
  // One untimed export first: the server has just generated and indexed the documents, and
  // whichever tool ran first would otherwise pay for its warm-up (JIT, heap growth).
  once(tools[0][1], false)
  for (const slow of [false, true]) {
    if (!SINKS.includes(slow ? 'slow' : 'null')) continue
    const results: Array<[string, number, number, number]> = []
    for (const [name, cmd] of tools) {
      const samples: Sample[] = []
      for (let r = 0; r < RUNS; r++) {
        const s = once(cmd, slow)
        if (slow && s.lines !== DOCS) console.error(`${name}: the consumer got ${s.lines} lines, not ${DOCS}`)
        samples.push(s)
        console.error(`${name}${slow ? ' (slow consumer)' : ''} run ${r + 1}: ${s.seconds.toFixed(2)} s, ${s.cpu.toFixed(2)} s CPU, ${s.rssMb.toFixed(0)} MB${s.lines !== undefined ? `, ${s.lines} lines` : ''}`)
      }
      results.push([name, median(samples.map((s) => s.seconds)), median(samples.map((s) => s.cpu)), median(samples.map((s) => s.rssMb))])
    }
    const dump = results.find(([name]) => name === 'elasticdump') as [string, number, number, number]
    for (const [name, secs, cpu, rss] of results) {
      rows.push(`| ${name} | ${slow ? `slow consumer (${Number(values.rate) / 1e6} MB/s)` : '/dev/null'} | ${Math.round(DOCS / secs).toLocaleString('en-US')} | ${(dump[1] / secs).toFixed(2)}× | ${cpu.toFixed(2)} s (${(cpu / dump[2]).toFixed(2)}×) | ${rss.toFixed(0)} MB |`)
    }
  }
} finally {
  await server.stop()
  rmSync(tmp, { recursive: true, force: true })
}
console.log(`${DOCS} documents from ${server.label}, --size ${SIZE}, median of ${RUNS} runs, node ${process.version}`)
console.log('| exporter | output | docs/s | speed vs elasticdump | CPU user+sys (vs elasticdump) | peak RSS |')
console.log('|---|---|---:|---:|---:|---:|')
for (const r of rows) console.log(r)
