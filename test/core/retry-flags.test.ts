// One retry model (issue 22): every binary that retries takes --retries, --retry-max-wait and
// --retry-for under the same spellings and reads them the same way, before it connects.
import t from 'tap'
import { runTool } from '../helpers/run.js'

// Ports nothing listens on: a binary that got past its options would fail to connect (exit 1).
const tools: Array<[string, string[]]> = [
  ['es-read', ['--url', 'http://127.0.0.1:9', '--index', 'x']],
  ['es-write', ['--url', 'http://127.0.0.1:9', '--index', 'x']],
  ['mysql-read', ['--url', 'mysql://root@127.0.0.1:9/x', '--table', 'x']],
  ['mysql-write', ['--url', 'mysql://root@127.0.0.1:9/x', '--table', 'x']]
]

t.test('a bad retry option is a usage error naming it as typed, in every binary that retries', async (t) => {
  for (const [tool, base] of tools) {
    const cases: Array<[string[], string]> = [
      [['--retries', '-1'], 'invalid value for --retries: -1 (must be at least 0)'],
      [['--retry_max_wait', '5x'], "invalid value for --retry_max_wait: '5x' (use e.g. 500ms, 30s, 2m)"],
      [['--retry_for', 'ever'], "invalid value for --retry_for: 'ever' (use e.g. 500ms, 30s, 2m)"]
    ]
    for (const [args, message] of cases) {
      const r = await runTool(tool, [...base, ...args], { input: '' })
      t.equal(r.code, 2, `${tool} ${args.join(' ')}: exit 2`)
      t.equal(r.stderr, `${tool}: ${message} (see '${tool} --help')\n`, `${tool} ${args.join(' ')}`)
    }
  }
})

t.test('good retry options pass: the binary goes on to connect', async (t) => {
  for (const [tool, base] of tools) {
    const r = await runTool(tool, [...base, '--retries', '0', '--retry_max_wait', '100ms', '--retry-for', '1.5'], { input: '' })
    t.equal(r.code, 1, `${tool}: past the options, the connection fails (${r.stderr.trim()})`)
    t.match(r.stderr, /ECONNREFUSED|connection refused/, tool)
  }
})
