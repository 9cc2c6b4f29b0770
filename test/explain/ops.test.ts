import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { explainText } from '../../lib/explain/explain.js'
import { TOOLS } from '../../lib/cli.js'
import { runTool, scratchDir } from '../helpers/run.js'
import { startEsServer } from '../servers/es/server.js'

// A record whose "_op" is no operation (issue 24): es-write's own log of it, explained.
t.test('RECORD_BAD_OP from a real es-write run: the rule names the value and what to do', async (t) => {
  const server = await startEsServer()
  t.teardown(async () => { await server.close() })
  const file = join(scratchDir(t), 'ops.ndjson')
  writeFileSync(file, '{"_id":"a","_source":{"v":1}}\n{"_id":"b","_op":"Delete"}\n')
  const r = await runTool('es-write', ['--url', server.url, '--index', 'x', file])
  t.equal(r.code, 1, r.stderr)
  const report = await explainText(r.stderr, TOOLS)
  t.equal(report.problems.length, 1, r.stderr)
  t.equal(report.problems[0].rule, 'record-bad-op')
  t.equal(report.problems[0].what, 'Records reaching es-write carry "_op": "Delete", which is none of the operations a writer applies (index, create, update, upsert, delete) (line 2 first).')
  t.ok(report.problems[0].commands.some((c) => c === `sed -n '2p' ${file} | jq -c '._op'`), report.problems[0].commands.join('\n'))
})
