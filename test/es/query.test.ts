// What es-read reads, as its options say it (lib/es/query.ts): the binary against the ES test
// server, the documents it printed compared with the ones the options select; bad query options
// refused in one line, exit 2, before any request.
import t from 'tap'
import type { Test } from 'tap'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { lines, runTool } from '../helpers/run.js'

interface Doc { _id: string, _source: { status: number, host: string, '@timestamp': string, seen: string, msg: string, meta: { n: number, tag: string } } }

const DOCS: Doc[] = Array.from({ length: 24 }, (_v, i) => ({
  _id: `d${i}`,
  _source: {
    status: [200, 404, 500][i % 3],
    host: `web${i % 2}`,
    '@timestamp': new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString(),
    // Another date, in the reverse order: --time-field picks which one the range is on.
    seen: new Date(Date.UTC(2024, 1, 1) - i * 3_600_000).toISOString(),
    msg: `message ${i}`,
    meta: { n: i, tag: i % 4 === 0 ? 'even4' : 'other' }
  }
}))

/** The ids of the documents `keep` selects, in id order. */
const idsWhere = (keep: (d: Doc) => boolean): string[] => DOCS.filter(keep).map((d) => d._id).sort()
const hour = (d: Doc): number => (Date.parse(d._source['@timestamp']) - Date.UTC(2024, 0, 1)) / 3_600_000

let server: EsTestServer
let dir: string
t.before(async () => {
  server = await startEsServer()
  server.addDocs('logs', DOCS)
  dir = mkdtempSync(join(tmpdir(), 'es-query-'))
})
t.teardown(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

/** es-read on `logs` with `args`: exit status, stderr, and the ids printed, each checked to be once. */
async function read (t: Test, args: string[]): Promise<{ code: number | null, stderr: string, ids: string[], out: string[] }> {
  const r = await runTool('es-read', ['--url', server.url, '--index', 'logs', ...args])
  const out = lines(r.stdout)
  const ids = out.map((l) => (JSON.parse(l) as { _id: string })._id).sort()
  t.equal(new Set(ids).size, ids.length, 'no document twice')
  return { code: r.code, stderr: r.stderr, ids, out }
}

t.test('--query @FILE: a query object, or a whole search body pasted from elsewhere (its query is taken)', async (t) => {
  const bare = join(dir, 'bare.json')
  writeFileSync(bare, '{"term":{"status":500}}')
  const body = join(dir, 'body.json')
  writeFileSync(body, '{"query":{"term":{"host":"web1"}}}\n')
  const want500 = idsWhere((d) => d._source.status === 500)
  const wantWeb1 = idsWhere((d) => d._source.host === 'web1')
  t.ok(want500.length > 0 && want500.length < DOCS.length && wantWeb1.length > 0 && wantWeb1.length < DOCS.length, 'each query selects some, not all')

  const a = await read(t, ['--query', `@${bare}`])
  t.equal(a.code, 0, a.stderr)
  t.strictSame(a.ids, want500, 'the documents of the query in the file')
  const b = await read(t, ['--query', `@${body}`])
  t.equal(b.code, 0, b.stderr)
  t.strictSame(b.ids, wantWeb1, 'the query of the search body in the file')
  // A body whose one member is "query" but not an object is a query of its own: the server's to judge.
  const odd = join(dir, 'odd.json')
  writeFileSync(odd, '{"query":"status:500"}')
  const c = await read(t, ['--query', `@${odd}`])
  t.equal(c.code, 1, 'the server refuses it')
  t.match(c.stderr, /error \[parsing_exception\] search failed at .* 400 parsing_exception: unknown query \[query\]/)
  t.strictSame(c.ids, [])
})

t.test('--query, --q and --gte/--lte together: only documents every one of them selects (AND)', async (t) => {
  const cases: Array<[string, string[], (d: Doc) => boolean]> = [
    ['--q and a time range', ['--q', 'host:web0', '--gte', '2024-01-01T04:00:00Z', '--lte', '2024-01-01T15:00:00Z'], (d) => d._source.host === 'web0' && hour(d) >= 4 && hour(d) <= 15],
    ['--query and --q', ['--query', '{"term":{"status":200}}', '--q', 'host:web1'], (d) => d._source.status === 200 && d._source.host === 'web1'],
    ['--gte alone: from TIME on', ['--gte', '2024-01-01T20:00:00Z'], (d) => hour(d) >= 20],
    ['--lte alone, on --time-field', ['--time-field', 'seen', '--lte', '2024-01-31T21:00:00Z'], (d) => hour(d) >= 3]
  ]
  for (const [name, args, keep] of cases) {
    const want = idsWhere(keep)
    t.ok(want.length > 0 && want.length < DOCS.length, `${name}: selects some, not all`)
    const r = await read(t, args)
    t.equal(r.code, 0, r.stderr)
    t.strictSame(r.ids, want, name)
  }
})

t.test('--source-includes and --source-excludes: each document with only the fields asked', async (t) => {
  const src = (d: Doc): Doc['_source'] => d._source
  const cases: Array<[string, string[], (d: Doc) => unknown]> = [
    ['includes', ['--source-includes', 'msg,meta.tag'], (d) => ({ msg: src(d).msg, meta: { tag: src(d).meta.tag } })],
    ['excludes', ['--source-excludes', 'meta,@timestamp,seen'], (d) => ({ status: src(d).status, host: src(d).host, msg: src(d).msg })],
    ['both', ['--source-includes', 'meta.*,host', '--source-excludes', 'meta.n'], (d) => ({ host: src(d).host, meta: { tag: src(d).meta.tag } })]
  ]
  for (const [name, args, want] of cases) {
    const r = await read(t, [...args, '--limit', '5', '--sort', 'meta.n'])
    t.equal(r.code, 0, r.stderr)
    t.strictSame(r.out.map((l) => JSON.parse(l) as unknown), DOCS.slice(0, 5).map((d) => ({ _index: 'logs', _id: d._id, _source: want(d) })), name)
  }
})

/** es-read with `args` refused as bad usage: exit 2, one line matching `message` and saying where to look, nothing read, no request. */
async function expectRefused (t: Test, args: string[], message: RegExp): Promise<void> {
  const before = server.requests.length
  const r = await runTool('es-read', ['--url', server.url, '--index', 'logs', ...args])
  t.equal(r.code, 2, `${args.join(' ')}: exit 2`)
  t.match(r.stderr, message, args.join(' '))
  t.match(r.stderr, /^[^\n]* \(see 'es-read --help'\)\n$/, 'one line, with where to look')
  t.equal(r.stdout, '', 'nothing read')
  t.equal(server.requests.length, before, 'no request made')
}

t.test('bad query options: one line naming the problem, exit 2, no request made', async (t) => {
  const notJson = join(dir, 'not.json')
  writeFileSync(notJson, 'status:500\n')
  const cases: Array<[string[], RegExp]> = [
    [['--query', `@${join(dir, 'missing.json')}`], /^es-read: cannot read --query file .*missing\.json: no such file /],
    [['--query', `@${dir}`], /^es-read: cannot read --query file .*: EISDIR: illegal operation on a directory, read /],
    [['--query', `@${notJson}`], /^es-read: invalid value for --query: .*not\.json is not JSON \(/],
    [['--query', '{"term":'], /^es-read: invalid value for --query: not JSON \(/],
    [['--query', '[{"term":{"status":500}}]'], /^es-read: invalid value for --query: a query DSL object is expected/],
    [['--query', '"status:500"'], /^es-read: invalid value for --query: a query DSL object is expected/],
    [['--match-all', '--q', 'status:500'], /^es-read: --match-all cannot be combined with --query, --q, --gte or --lte /],
    [['--match-all', '--lte', 'now'], /^es-read: --match-all cannot be combined with/],
    [['--sort', 'n:sideways'], /^es-read: invalid value for --sort: 'n:sideways' \(use field, field:asc or field:desc\) /],
    [['--sort', ':desc'], /^es-read: invalid value for --sort: ':desc'/]
  ]
  for (const [args, message] of cases) await expectRefused(t, args, message)
  // --match-all alone is every document, as no query at all.
  const all = await read(t, ['--match-all'])
  t.equal(all.code, 0, all.stderr)
  t.strictSame(all.ids, idsWhere(() => true))
})

t.test('ways of reading that cannot go together: one line saying which to drop, exit 2, no request made', async (t) => {
  const ckpt = join(dir, 'combo.ckpt')
  const cases: Array<[string[], RegExp]> = [
    [['--scroll', '--checkpoint', ckpt], /^es-read: --checkpoint needs point-in-time paging: a scroll cannot be resumed exactly \(drop --scroll\) /],
    [['--follow'], /^es-read: --follow needs --since-field F: /],
    [['--since-field', '@timestamp', '--scroll'], /^es-read: --since-field reads in point-in-time rounds: drop --scroll /],
    [['--since-field', '@timestamp', '--slices', '2'], /^es-read: --since-field reads one stream in order of its field: drop --slices and --slice /],
    [['--since-field', '@timestamp', '--slice', '0/2'], /^es-read: --since-field reads one stream in order of its field: drop --slices and --slice /],
    [['--since-field', '@timestamp', '--sort', 'msg'], /^es-read: --since-field orders the read by its field: drop --sort /]
  ]
  for (const [args, message] of cases) await expectRefused(t, args, message)
  t.equal(readdirSync(dir).includes('combo.ckpt'), false, 'no checkpoint file left behind')
})
