// es-read --sort on a field some documents lack: every document once, however the pages fall.
// OpenSearch skips a segment whose values all lie behind the search_after cursor, with the
// documents of it that lack the field, unless the sort names `missing` (lib/es/pit.ts
// sortWithMissing); the test server does the same (test/servers/es/search-after-skip.ts). Real
// child processes against the test server in each dialect; test/engine/read.test.ts runs the
// same reads against the real engines.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withoutPosition } from '../../lib/core/position.js'
import { binPath, collect, runTool } from '../helpers/run.js'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'

const N = 60
const SEGMENT = 12
const DAY = 86_400_000

/** Document i: n, f, t and k grow with i; some documents lack one of them (or all). */
function source (i: number): Record<string, unknown> {
  const s: Record<string, unknown> = {}
  if (i % 3 !== 0) s.n = i
  if (i % 6 !== 4) s.f = i - 30.5
  if (i % 4 !== 1) s.t = new Date(Date.UTC(2024, 0, 1) + i * DAY).toISOString()
  if (i % 5 !== 2) s.k = `k${String(i).padStart(2, '0')}`
  return s
}
const line = (i: number): string => `{"_index":"sparse","_id":"d${i}","_source":${JSON.stringify(source(i))}}`

/** The index written in five refreshes: five segments, each a range of the values. */
async function sparseServer (t: Test, distribution: 'opensearch' | 'elasticsearch', version: string): Promise<EsTestServer> {
  const server = await startEsServer({ distribution, version })
  t.teardown(async () => await server.close())
  const put = await fetch(`${server.url}/sparse`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mappings: { properties: { n: { type: 'long' }, f: { type: 'double' }, t: { type: 'date' }, k: { type: 'keyword' } } } }) })
  t.equal(put.status, 200, 'index created')
  for (let from = 0; from < N; from += SEGMENT) {
    const body = Array.from({ length: SEGMENT }, (_v, j) => `{"index":{"_id":"d${from + j}"}}\n${JSON.stringify(source(from + j))}\n`).join('')
    const res = await fetch(`${server.url}/sparse/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
    t.equal((await res.json() as { errors: boolean }).errors, false, 'segment written')
  }
  return server
}

/** Every document once, byte for byte, in the order of `field` (those without it last). */
function inOrder (t: Test, out: string, field: 'n' | 'f' | 't' | 'k', order: 'asc' | 'desc', what: string): void {
  // A checkpointed read into a pipe ends each record with its position (`_pos`).
  const got = out.split('\n').filter((l) => l !== '').map((l) => withoutPosition(l))
  t.equal(got.length, N, `${what}: ${N} documents`)
  t.strictSame([...got].sort(), Array.from({ length: N }, (_v, i) => line(i)).sort(), `${what}: each document once, byte for byte`)
  const values = got.map((l) => (JSON.parse(l) as { _source: Record<string, string | number | undefined> })._source[field])
  const present = values.filter((v) => v !== undefined)
  const sorted = [...present].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  t.strictSame(present, order === 'asc' ? sorted : sorted.reverse(), `${what}: in ${field}:${order} order`)
  t.strictSame(values.slice(present.length).filter((v) => v !== undefined), [], `${what}: the documents without ${field} last`)
}

// OpenSearch 3.3 skips as 2.19 does; the engine suite runs it for real.
const DIALECTS: Array<['opensearch' | 'elasticsearch', string]> = [['opensearch', '2.19.1'], ['elasticsearch', '8.19.0']]

for (const [distribution, version] of DIALECTS) {
  t.test(`${distribution} ${version}: long, double, date and keyword sorts, asc and desc, pages of 1 and 7`, async (t) => {
    const server = await sparseServer(t, distribution, version)
    for (const field of ['n', 'f', 't', 'k'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        for (const size of ['1', '7']) {
          const r = await runTool('es-read', ['--url', server.url, '--index', 'sparse', '--sort', `${field}:${order}`, '--size', size])
          t.equal(r.code, 0, r.stderr)
          t.match(r.stderr, / 60 read, 60 emitted, .* 0 failed/, 'the summary counts every document')
          inOrder(t, r.stdout, field, order, `--sort ${field}:${order} --size ${size}`)
        }
      }
    }
    t.equal(server.openPits(), 0, 'no point in time left open')
  })

  t.test(`${distribution} ${version}: --slices 3 with a sparse sort`, async (t) => {
    const server = await sparseServer(t, distribution, version)
    for (const field of ['n', 'f', 't', 'k']) {
      const r = await runTool('es-read', ['--url', server.url, '--index', 'sparse', '--sort', `${field}:desc`, '--size', '2', '--slices', '3'])
      t.equal(r.code, 0, r.stderr)
      const got = r.stdout.split('\n').filter((l) => l !== '')
      t.strictSame([...got].sort(), Array.from({ length: N }, (_v, i) => line(i)).sort(), `--sort ${field}:desc --slices 3: each document once`)
    }
  })

  t.test(`${distribution} ${version}: --checkpoint, stopped past the first missing value and run again`, async (t) => {
    const server = await sparseServer(t, distribution, version)
    const dir = mkdtempSync(join(tmpdir(), 'es-read-sparse-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    for (const field of ['f', 'k']) {
      const file = join(dir, `${field}.ckpt`)
      const args = ['--url', server.url, '--index', 'sparse', '--sort', field, '--size', '1', '--checkpoint', file]
      // Each page waits, so that the first run is stopped among the documents without the field.
      server.faults.latencyMs = 15
      const child = spawn(process.execPath, [binPath('es-read'), ...args], { stdio: 'pipe' })
      let seen = 0
      child.stdout.on('data', (d: Buffer) => {
        seen += d.toString().split('\n').length - 1
        if (seen >= 52) child.kill('SIGTERM')
      })
      const first = await collect(child, null)
      server.faults.latencyMs = 0
      const a = first.stdout.split('\n').filter((l) => l !== '')
      t.ok(a.length >= 52 && a.length < N, `the first run stopped after ${a.length}, past the first document without ${field}`)
      const second = await runTool('es-read', args)
      t.equal(second.code, 0, second.stderr)
      t.match(second.stderr, /resuming from checkpoint/)
      inOrder(t, first.stdout + second.stdout, field as 'f' | 'k', 'asc', `--sort ${field} --checkpoint, both runs`)
    }
  })
}
