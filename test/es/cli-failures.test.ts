// es-read as a new user types it and as a hostile world answers it (issue 11): the command
// line, servers that are not Elasticsearch, the wrong scheme, checkpoints that cannot be
// written. Real child processes against loopback servers in this process.
import t from 'tap'
import type { Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { BASE_URL } from '../helpers/mysql.js'
import { binPath, collect, lines, scratchDir } from '../helpers/run.js'
import type { RunResult } from '../helpers/run.js'
import { waitFor, waitForOutput } from '../helpers/wait.js'

const BIN = binPath('es-read')
const N = 5000
const dir = scratchDir(t)

// Never spawnSync while a server runs in this process: it would stop answering.
async function run (args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult & { ms: number }> {
  const started = Date.now()
  const r = await collect(spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' }))
  return { ...r, ms: Date.now() - started }
}
const ids = (stdout: string): string[] => lines(stdout).map((l) => (JSON.parse(l) as { _id: string })._id)
const errorLines = (stderr: string): string[] => lines(stderr).filter((l) => l.includes(' error ['))

let server: EsTestServer
let secured: EsTestServer
t.before(async () => {
  server = await startEsServer()
  server.addDocs('logs', Array.from({ length: N }, (_v, i) => ({ _id: `d${i}`, _source: { n: i, level: i % 10 === 0 ? 'warn' : 'info' } })))
  secured = await startEsServer({ auth: { basic: { username: 'dev', password: '' } } })
  secured.addDocs('logs', [{ _id: 'a', _source: { n: 1 } }])
})
t.teardown(async () => { await server.close(); await secured.close() })

t.test('-iNAME, -i NAME; -q is --quiet and --q the query string', async (t) => {
  const attached = await run(['--url', server.url, '-ilogs', '-q'])
  t.equal(attached.code, 0, attached.stderr)
  t.equal(ids(attached.stdout).length, N)
  t.equal(attached.stderr, '', '-q: nothing but errors on stderr')
  const query = await run(['--url', server.url, '-i', 'logs', '--q', 'level:warn'])
  t.equal(query.code, 0, query.stderr)
  t.equal(ids(query.stdout).length, N / 10, '--q filters')
})

t.test('an explicitly empty --es_pass is a password', async (t) => {
  const r = await run(['--url', secured.url, '-i', 'logs', '--es_user', 'dev', '--es_pass', ''])
  t.equal(r.code, 0, r.stderr)
  t.strictSame(ids(r.stdout), ['a'])
})

t.test('--threads is accepted with a one-line note', async (t) => {
  const r = await run(['--url', server.url, '-i', 'logs', '--threads', '5'])
  t.equal(r.code, 0, r.stderr)
  t.equal(ids(r.stdout).length, N)
  t.match(r.stderr, /^es-read: --threads is the original tool's option and changes nothing here: /m)
})

t.test('--url/--es_url with a query string: q= is honoured, anything else refused in one line', async (t) => {
  const honoured = await run(['--es_url', `${server.url}/logs/_search?q=level:warn`])
  t.equal(honoured.code, 0, honoured.stderr)
  t.equal(ids(honoured.stdout).length, N / 10, 'q= in the URL filters like --q')
  const both = await run(['--es_url', `${server.url}/logs/_search?q=level:warn`, '--q', 'level:info'])
  t.equal(both.code, 2)
  t.equal(both.stderr, "es-read: --es_url has q=level:warn and --q says level:info: give the query once (see 'es-read --help')\n")
  const size = await run(['--es_url', `${server.url}/logs/_search?size=5&pretty`])
  t.equal(size.code, 2)
  t.equal(size.stderr, "es-read: --es_url has a query string es-read does not follow: size, pretty (only q= is taken; use es-read's options, e.g. --limit, --size) (see 'es-read --help')\n")
  t.equal(size.stdout, '')
})

t.test('--url and --index or --q that disagree, q= twice: refused in one line, exit 2, nothing read', async (t) => {
  const cases: Array<[string[], string]> = [
    [['--url', `${server.url}/logs/_search`, '--index', 'other'], `es-read: --url names index logs and --index says other: give the index once (see 'es-read --help')\n`],
    [['--es_url', `${server.url}/logs/_search`, '-i', 'logs,other'], `es-read: --es_url names index logs and -i says logs,other: give the index once (see 'es-read --help')\n`],
    [['--url', `${server.url}/logs/_search?q=level:warn&q=n:1`], `es-read: --url has q= 2 times (q=level:warn, q=n:1): give the query once (join them with AND, or use --q) (see 'es-read --help')\n`],
    [['--url', `${server.url}/logs/_search?q=a&q=a&q=b`], `es-read: --url has q= 3 times (q=a, q=a, q=b): give the query once (join them with AND, or use --q) (see 'es-read --help')\n`]
  ]
  for (const [args, line] of cases) {
    const r = await run(args)
    t.equal(r.code, 2, args.join(' '))
    t.equal(r.stderr, line)
    t.equal(r.stdout, '')
  }
  // The same index twice is no conflict.
  const same = await run(['--url', `${server.url}/logs/_search`, '--index', 'logs', '--limit', '3'])
  t.equal(same.code, 0, same.stderr)
  t.equal(ids(same.stdout).length, 3)
})

t.test('--url with an index for a path: what it asked, and the URL to give, exit 2', async (t) => {
  const index = await run(['--url', `${server.url}/logs`, '--index', 'logs'])
  t.equal(index.code, 2)
  t.equal(errorLines(index.stderr).length, 0, 'no error of the server')
  t.strictSame(lines(index.stderr).filter((l) => !/ 0 read, /.test(l) && !/^es-read: reading /.test(l)), [
    `es-read: --url ${server.url}/logs has a path (/logs), and GET /logs answered the definition of index logs, not a node's root: give the node's URL and the index apart, --url ${server.url} --index logs (or --url ${server.url}/logs/_search); keep a path only for a proxy that serves the cluster under it (see 'es-read --help')`
  ])
  t.equal(index.stdout, '')
  const bare = await run(['--url', `${server.url}/logs`])
  t.equal(bare.code, 2)
  t.equal(bare.stderr, `es-read: missing required option --index: --url has a path (/logs), which es-read takes as a proxy's, not as an index; for an index, give --url ${server.url} --index logs, or ${server.url}/logs/_search (see 'es-read --help')\n`)
  const missing = await run(['--url', `${server.url}/nosuch/`, '--index', 'logs'])
  t.equal(missing.code, 2)
  t.match(missing.stderr, `es-read: --url ${server.url}/nosuch has a path (/nosuch), and GET /nosuch answered 404 (no index nosuch), not a node's root: give the node's URL and the index apart, --url ${server.url} --index nosuch`)
  // A user and password in the URL stay out of the message.
  const secret = await run(['--url', `${server.url.replace('http://', 'http://u:hunter2-secret@')}/logs`, '--index', 'logs'])
  t.equal(secret.code, 2)
  t.notMatch(secret.stderr, /hunter2/)
  t.match(secret.stderr, /--url http:\/\/u:\*+@127\.0\.0\.1:\d+\/logs has a path/)
  // A proxy that serves the cluster under a path: the path is kept, and every request goes under it.
  const proxy = http.createServer((req, res) => {
    const url = req.url ?? ''
    if (!url.startsWith('/es/') && url !== '/es') {
      req.resume()
      res.writeHead(404, { server: 'proxy' }).end()
      return
    }
    const forward = http.request(`${server.url}${url.slice(3) === '' ? '/' : url.slice(3)}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    req.pipe(forward)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { proxy.closeAllConnections(); proxy.close() })
  const proxied = await run(['--url', `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/es`, '--index', 'logs', '--limit', '4'])
  t.equal(proxied.code, 0, proxied.stderr)
  t.equal(ids(proxied.stdout).length, 4, 'read through the proxy')
})

t.test("a port that is not HTTP (MariaDB's): one line naming what answered, exit 1, at once", async (t) => {
  const mysql = new URL(BASE_URL)
  const url = `http://${mysql.hostname}:${mysql.port === '' ? 3306 : mysql.port}`
  const r = await run(['--url', url, '-i', 'logs'])
  t.equal(r.code, 1, r.stderr)
  const errs = errorLines(r.stderr)
  t.equal(errs.length, 1, 'one error line')
  t.match(errs[0], new RegExp(`^es-read: error \\[ENOTHTTP\\] ${url.replace(/\./g, '\\.')} does not speak HTTP: it is a MySQL server \\(`))
  t.notMatch(r.stderr, /warning|retry/, 'not retried')
  t.ok(r.ms < 20000, `answered in ${r.ms} ms (8 retries would take longer)`)
})

/** A web server that is not Elasticsearch: HTML pages, a Server header. */
async function webServer (t: Test, status: number): Promise<{ url: string, requests: () => number }> {
  let requests = 0
  const s = http.createServer((req, res) => {
    requests++
    req.resume()
    res.writeHead(status, { server: 'nginx/1.24.0', 'content-type': 'text/html' })
    res.end(`<!DOCTYPE html>\n<html>\n<head><title>${status} Not Here</title></head>\n<body>\n<h1>${status}</h1>\n</body>\n</html>\n`)
  })
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { s.closeAllConnections(); s.close() })
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, requests: () => requests }
}

t.test('a plain web server: reported at once in one line naming it, never retried, no HTML', async (t) => {
  for (const status of [404, 501, 200]) {
    const web = await webServer(t, status)
    const r = await run(['--url', web.url, '-i', 'logs', '--retries', '3'])
    t.equal(r.code, 1, r.stderr)
    const errs = errorLines(r.stderr)
    t.equal(errs.length, 1, `${status}: one error line`)
    t.match(errs[0], /\[ES_NOT_ELASTICSEARCH\] .* is neither Elasticsearch nor OpenSearch: .*nginx\/1\.24\.0/, `${status}: names the server`)
    t.notMatch(r.stderr, /<|warning/, `${status}: no HTML, no retry`)
    t.equal(web.requests(), 1, `${status}: one request`)
  }
})

t.test('a 503 from a proxy is retried, each warning one line without the page', async (t) => {
  const web = await webServer(t, 503)
  const r = await run(['--url', web.url, '-i', 'logs', '--retries', '2', '--retry-max-wait', '50ms'])
  t.equal(r.code, 1)
  t.equal(web.requests(), 3, 'retried: a proxy answers 503 while Elasticsearch restarts')
  const warnings = lines(r.stderr).filter((l) => l.includes('warning:'))
  t.equal(warnings.length, 2)
  for (const w of warnings) t.match(w, /503 .*nginx\/1\.24\.0.*; retry \d\/2 in/)
  t.notMatch(r.stderr, /</, 'no HTML')
})

t.test('the wrong scheme, either way round: one line that says which to use, not retried', async (t) => {
  const web = await webServer(t, 404)
  const tlsToPlain = await run(['--url', web.url.replace('http:', 'https:'), '-i', 'logs'])
  t.equal(tlsToPlain.code, 1)
  t.strictSame(errorLines(tlsToPlain.stderr).length, 1)
  t.match(errorLines(tlsToPlain.stderr)[0], /https:\/\/127\.0\.0\.1:\d+ does not speak TLS: it is a plain HTTP server \(nginx\/1\.24\.0\); use http:\/\//)
  t.notMatch(tlsToPlain.stderr, /warning|ssl3_get_record/)

  const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=es.test'], { encoding: 'utf8' })
  t.equal(openssl.status, 0, 'a certificate for the TLS server')
  const s = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => res.end('{}'))
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { s.closeAllConnections(); s.close() })
  const plainToTls = await run(['--url', `http://127.0.0.1:${(s.address() as AddressInfo).port}`, '-i', 'logs', '--retries', '3'])
  t.equal(plainToTls.code, 1)
  t.strictSame(errorLines(plainToTls.stderr).length, 1)
  t.match(errorLines(plainToTls.stderr)[0], /http:\/\/127\.0\.0\.1:\d+ speaks TLS \(certificate for es\.test\): use https:\/\//)
  t.notMatch(plainToTls.stderr, /warning/, 'not retried')
})

t.test('a checkpoint that cannot be written is refused before any request', async (t) => {
  const before = server.requests.length
  const r = await run(['--url', server.url, '-i', 'logs', '--checkpoint', join(dir, 'no', 'such', 'dir', 'ckpt')])
  t.equal(r.code, 1)
  t.equal(errorLines(r.stderr).length, 1)
  t.match(errorLines(r.stderr)[0], /cannot write checkpoint .*ckpt: ENOENT/)
  t.equal(r.stdout, '')
  t.strictSame(server.requests.slice(before).map((q) => q.path), [], 'no request at all: no point in time opened')
  const isDir = await run(['--url', server.url, '-i', 'logs', '--checkpoint', dir])
  t.equal(isDir.code, 1)
  t.match(errorLines(isDir.stderr)[0], /cannot write checkpoint .*: EISDIR|is a directory/)
})

t.test('a checkpoint that stops being writable mid-read: exit 1, and the point in time is closed', async (t) => {
  const ckptDir = join(dir, 'ckpt-gone')
  mkdirSync(ckptDir)
  const child = spawn(process.execPath, [BIN, '--url', server.url, '-i', 'logs', '--size', '100', '--checkpoint', join(ckptDir, 'c.json')], { stdio: 'pipe' })
  t.teardown(() => { child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  // The first page is out and its cursor saved; then the directory goes, then reading resumes.
  await waitForOutput(child.stdout, () => { child.stdout.pause(); return true }, { what: "es-read's first bytes (held there)" })
  t.ok(existsSync(join(ckptDir, 'c.json')), 'the checkpoint was being written')
  // es-read may be saving into it as it goes (stdout's pipe still takes writes), so removing
  // it raced those saves (ENOTEMPTY, now and then beyond rm's retries): the directory is moved
  // away in one step instead, which a save in progress cannot undo.
  renameSync(ckptDir, ckptDir + '-moved')
  child.stdout.resume()
  const code = await new Promise((resolve) => child.on('close', resolve))
  t.equal(code, 1)
  t.equal(errorLines(stderr).length, 1, stderr)
  t.match(errorLines(stderr)[0], /cannot write checkpoint/)
  t.equal(server.openPits(), 0, 'the point in time is closed: no checkpoint names it')
})

t.test('an empty checkpoint file means start fresh', async (t) => {
  const file = join(dir, 'empty.ckpt')
  writeFileSync(file, '')
  const r = await run(['--url', server.url, '-i', 'logs', '--checkpoint', file])
  t.equal(r.code, 0, r.stderr)
  t.equal(ids(r.stdout).length, N)
  t.hasStrict(JSON.parse(readFileSync(file, 'utf8')), { reader: { complete: true, emitted: N } })
  chmodSync(file, 0o644)
})

t.test('Elasticsearch headers on an answer that is not JSON: one line naming the host, not a SyntaxError', async (t) => {
  const s = http.createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'x-elastic-product': 'Elasticsearch', 'content-type': 'text/html', server: 'odd-proxy/2' })
    res.end('<html>\n<body>maintenance</body>\n</html>\n')
  })
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { s.closeAllConnections(); s.close() })
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`
  const r = await run(['--url', url, '-i', 'logs'])
  t.equal(r.code, 1)
  t.equal(errorLines(r.stderr).length, 1, r.stderr)
  t.match(errorLines(r.stderr)[0], `error [ES_BAD_RESPONSE] ${url} answered the request to open a point in time with something other than JSON: odd-proxy/2, text/html`)
})

/** CPU time (user + system, in clock ticks) the process has used so far; undefined once it is gone. */
function cpuTicks (pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return undefined
  }
}

/** The child's exit status, or 'still running' after `ms` (it is then killed). */
async function exitWithin (child: ChildProcess, ms: number): Promise<number | null | 'still running'> {
  const timer = setTimeout(() => child.kill('SIGKILL'), ms)
  const code = await new Promise<number | null>((resolve) => child.on('close', (c, sig) => resolve(sig === 'SIGKILL' ? -1 : c)))
  clearTimeout(timer)
  return code === -1 ? 'still running' : code
}

// A parent (a test runner, a shell) killed mid-read leaves es-read with pipes nobody reads.
// Its stderr's EPIPE was an uncaught exception, whose handler wrote a warning to stderr, whose
// EPIPE was the next one: the process spun at 60% CPU for as long as anyone let it.
t.test('stdout and stderr readers gone, then the server: retried, exit 1, no spin', async (t) => {
  for (const stderrGone of [true, false]) {
    const gone = await startEsServer()
    gone.addDocs('logs', Array.from({ length: 1000 }, (_v, i) => ({ _id: `d${i}`, _source: { n: i } })))
    gone.faults.latencyMs = 300
    // Without tap's coverage for this child: at exit tap's hook maps the child's coverage
    // through source maps, 0.2 to 0.9 s of CPU that is the test runner's, not es-read's.
    const env = { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
    const child = spawn(process.execPath, [BIN, '--url', gone.url, '-i', 'logs', '--size', '100', '--retries', '3', '--retry-max-wait', '1s'], { stdio: ['ignore', 'pipe', 'pipe'], env })
    t.teardown(() => { child.kill('SIGKILL') })
    const status = exitWithin(child, 30_000)
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    // The whole first page is out (nothing more is written until the next one, 300 ms away):
    // then the readers go, as a killed parent's would, and then the server.
    await waitForOutput(child.stdout, (text) => text.split('\n').length - 1 >= 100, { what: 'the first page on stdout' })
    child.stdout.destroy()
    if (stderrGone) child.stderr.destroy()
    await gone.close()
    const before = cpuTicks(child.pid as number) ?? 0
    let last = before
    const sampler = setInterval(() => { last = cpuTicks(child.pid as number) ?? last }, 100)
    const code = await status
    clearInterval(sampler)
    const what = stderrGone ? 'stderr gone too' : 'stderr read'
    t.equal(code, 1, `${what}: exit 1 once the retries are spent`)
    // The retries wait about 1 to 2 s in all; spinning through them took more than half of it.
    t.ok(last - before < 50, `${what}: CPU while retrying and failing stays low (${last - before} ticks)`)
    if (!stderrGone) {
      t.equal(errorLines(stderr).length, 1, stderr)
      t.match(errorLines(stderr)[0], /^es-read: error \[ECONNREFUSED\] cannot search at http:\/\/127\.0\.0\.1:\d+: connection refused/)
      t.equal(lines(stderr).filter((l) => / retry \d\/3 in /.test(l)).length, 3, 'each retry said once')
    }
  }
})

t.test('a closed stderr does not stop the records, nor an error from ending the run', async (t) => {
  const child = spawn(process.execPath, [BIN, '--url', server.url, '-i', 'logs'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  child.stderr.destroy()
  const status = exitWithin(child, 30_000)
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  t.equal(await status, 0, 'nobody reads the messages: the run goes on and succeeds')
  t.equal(ids(out).length, N, 'every record on stdout')
  const unreachable = spawn(process.execPath, [BIN, '--url', 'http://127.0.0.1:9', '-i', 'logs'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { unreachable.kill('SIGKILL') })
  unreachable.stderr.destroy()
  unreachable.stdout.resume()
  t.equal(await exitWithin(unreachable, 30_000), 1, 'a failure with nobody to tell: exit 1, at once')
})

t.test('a read that fails while the reader is slow: every line counted as emitted reaches the pipe, then exit 1', async (t) => {
  const gone = await startEsServer()
  // Pages of ~250 KB: two of them are more than a socket pair holds, so some of what es-read
  // emitted is still queued in it when the third page fails for good.
  gone.addDocs('logs', Array.from({ length: 20000 }, (_v, i) => ({ _id: `d${i}`, _source: { n: i, pad: 'x'.repeat(200) } })))
  gone.faults.failNth(3, 503, { path: /_search/, times: 10 })
  t.teardown(async () => await gone.close())
  const child = spawn(process.execPath, [BIN, '--url', gone.url, '-i', 'logs', '--retries', '1', '--retry-max-wait', '100ms'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const status = exitWithin(child, 30_000)
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  // The reader stops at the first bytes; the third page fails after its retry (two 503s) while
  // lines are queued in es-read. Only then does the reader take everything (es-read used to
  // exit as soon as its own buffer was empty, dropping what stdout still held).
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (out === '') child.stdout.pause()
    out += d
  })
  await waitFor(() => gone.requests.filter((q) => q.status === 503).length >= 2, { what: 'the third page to fail twice', child })
  child.stdout.resume()
  t.equal(await status, 1, stderr)
  t.equal(errorLines(stderr).length, 1, stderr)
  t.match(errorLines(stderr)[0], /^es-read: error \[\w+\] .*503/)
  const emitted = Number(/ (\d+) emitted/.exec(stderr)?.[1])
  t.ok(emitted > 1000 && emitted < 20000, `the read stopped part way, after the first page (${emitted} emitted)`)
  t.ok(out.endsWith('\n'), 'no line cut short')
  const got = ids(out.slice(0, out.lastIndexOf('\n') + 1))
  t.equal(got.length, emitted, 'each line counted as emitted is on stdout')
  t.equal(new Set(got).size, emitted, 'each once')
})
