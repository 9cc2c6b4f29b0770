// The point in time at the end of a read (lib/es/pit.ts PitSession.close): one the server
// already let go (404 when es-read frees it) is what freeing wants, no warning; one it fails to
// free for another reason is said in one warning line, and the read it served still succeeds.
// es-read as a real child process against the ES test server and its fault injection.
import t from 'tap'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { lines, runTool } from '../helpers/run.js'

const N = 300

let es: EsTestServer
t.before(async () => {
  es = await startEsServer()
  es.addDocs('docs', Array.from({ length: N }, (_v, i) => ({ _id: `d${i}`, _source: { n: i } })))
})
t.teardown(async () => await es.close())
t.afterEach(() => {
  es.faults.reset()
  es.expireAllContexts()
})

const closes = (status: number): number => es.requests.filter((r) => r.method === 'DELETE' && r.path === '/_pit' && r.status === status).length

t.test('the point in time already gone when freed (404): every document, exit 0, no warning', async (t) => {
  es.faults.failNth(1, 404, { path: /^\/_pit$/, type: 'search_context_missing_exception' })
  const before = closes(404)
  const r = await runTool('es-read', ['--url', es.url, '--index', 'docs', '--size', '1000'])
  t.equal(r.code, 0, r.stderr)
  t.equal(lines(r.stdout).length, N, `${N} documents`)
  t.equal(closes(404) - before, 1, 'the close was answered 404')
  t.notMatch(r.stderr, /warning/, 'no warning')
})

t.test('the point in time not freed for another reason (500): every document, exit 0, one warning naming it', async (t) => {
  es.faults.failNth(1, 500, { path: /^\/_pit$/, times: 20 })
  const r = await runTool('es-read', ['--url', es.url, '--index', 'docs', '--size', '1000'])
  t.equal(r.code, 0, r.stderr)
  t.equal(lines(r.stdout).length, N, `${N} documents`)
  const warnings = lines(r.stderr).filter((l) => l.includes('warning:'))
  t.equal(warnings.length, 1, 'one warning')
  t.match(warnings[0], /^es-read: warning: could not free the server's search context: close the point in time failed at http:\/\/127\.0\.0\.1:\d+ index docs: 500/)
})
