// What answers in front of a cluster when it refuses (lib/es/errors.ts responseError): a
// reverse proxy with its own password, and AWS's front end of Amazon OpenSearch Service. Loopback
// HTTP servers answer as they do; es-read runs as a real child process. Each refusal is one line
// that names what refused and why, never the page, and is retried only when it says "later".
import t from 'tap'
import type { Test } from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { lines, runTool } from '../helpers/run.js'

interface Answer { status: number, headers: Record<string, string>, body: string }

/** A server that answers every request with `answer`, counting them. */
async function frontEnd (t: Test, answer: Answer): Promise<{ url: string, requests: () => number }> {
  let requests = 0
  const s = http.createServer((req, res) => {
    requests++
    req.resume()
    res.writeHead(answer.status, answer.headers).end(answer.body)
  })
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { s.closeAllConnections(); s.close() })
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, requests: () => requests }
}

const errorLines = (stderr: string): string[] => lines(stderr).filter((l) => l.includes(' error '))

t.test("a reverse proxy's own password prompt (401, HTML): one line saying authentication failed and by whom, not retried", async (t) => {
  const proxy = await frontEnd(t, {
    status: 401,
    headers: { server: 'nginx/1.24.0', 'content-type': 'text/html; charset=utf-8', 'www-authenticate': 'Basic realm="es"' },
    body: '<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n<center><h1>401 Authorization Required</h1></center>\r\n</body>\r\n</html>\r\n'
  })
  const r = await runTool('es-read', ['--url', proxy.url, '--index', 'logs', '--username', 'elastic', '--password', 'not-this-one', '--retries', '3'])
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  const errs = errorLines(r.stderr)
  t.equal(errs.length, 1, 'one error line')
  t.equal(errs[0], `es-read: error [HTTP_401] authentication failed at ${proxy.url} (401 from nginx/1.24.0, text/html, "401 Authorization Required"); check --username/--password or --api-key (host=${proxy.url}, index=logs, status=401)`)
  t.notMatch(r.stderr, /<|warning|not-this-one/, 'no HTML, no retry, no password')
  t.equal(proxy.requests(), 1, 'asked once')
})

// What AWS's front end sends: its error type in x-amzn-ErrorType (with a URL after a colon), a
// request id, and a JSON body with the message, whose later paragraphs are AWS's working.
const AWS_HEADERS = { 'x-amzn-requestid': '0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e', 'content-type': 'application/json' }

t.test("AWS's front end refusing: one line with AWS's error type and the first paragraph of its message", async (t) => {
  const denied = await frontEnd(t, {
    status: 403,
    headers: { ...AWS_HEADERS, 'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.opensearch/' },
    body: JSON.stringify({ Message: 'User: arn:aws:iam::123456789012:user/reader is not authorized to perform: es:ESHttpGet because no identity-based policy allows the es:ESHttpGet action\n\nThe request signature we calculated does not match' })
  })
  const r = await runTool('es-read', ['--url', denied.url, '--index', 'logs', '--retries', '3'])
  t.equal(r.code, 1)
  const errs = errorLines(r.stderr)
  t.equal(errs.length, 1, 'one error line')
  t.match(errs[0], new RegExp(`^es-read: error \\[AccessDeniedException\\] AWS refused the request to [a-z ]+ at ${denied.url.replace(/\./g, '\\.')} \\(403 AccessDeniedException: User: arn:aws:iam::123456789012:user/reader is not authorized to perform: es:ESHttpGet because no identity-based policy allows the es:ESHttpGet action\\)`))
  t.notMatch(r.stderr, /signature we calculated|warning/, 'only the first paragraph, not retried')
  // GET / first (an IAM policy may refuse it and allow searches: es-read then goes on, not knowing
  // the version), then the search: neither asked again.
  t.equal(denied.requests(), 2, 'two requests, neither retried')

  // Without the error type header, the request id says it is AWS that answered.
  const bare = await frontEnd(t, { status: 403, headers: AWS_HEADERS, body: '{"message":"Forbidden"}' })
  const b = await runTool('es-read', ['--url', bare.url, '--index', 'logs'])
  t.equal(b.code, 1)
  t.match(errorLines(b.stderr)[0], new RegExp(`^es-read: error \\[HTTP_403\\] AWS refused the request to [a-z ]+ at ${bare.url.replace(/\./g, '\\.')} \\(403: Forbidden\\)`))
})

t.test("AWS's front end throttling (429): retried, each retry one line, then the last refusal", async (t) => {
  const throttled = await frontEnd(t, {
    status: 429,
    headers: { ...AWS_HEADERS, 'x-amzn-errortype': 'ThrottlingException' },
    body: '{"message":"Rate exceeded"}'
  })
  const r = await runTool('es-read', ['--url', throttled.url, '--index', 'logs', '--retries', '2', '--retry-max-wait', '50ms'])
  t.equal(r.code, 1)
  t.equal(throttled.requests(), 3, 'asked again: a refusal to go faster is worth another try')
  const warnings = lines(r.stderr).filter((l) => l.includes('warning:'))
  t.equal(warnings.length, 2, 'a line per retry')
  for (const w of warnings) t.match(w, /AWS refused the request .*\(429 ThrottlingException: Rate exceeded\).*retry \d\/2/)
  t.match(errorLines(r.stderr)[0], /^es-read: error \[ThrottlingException\] AWS refused the request .*\(429 ThrottlingException: Rate exceeded\)/)
})
