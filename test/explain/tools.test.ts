import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CORE_TOOLS, ToolRegistry } from '../../lib/core/tools.js'
import type { ToolDeclarations } from '../../lib/core/tools.js'
import { explainText } from '../../lib/explain/explain.js'
import { RULES } from '../../lib/explain/rules.js'
import { TOOLS } from '../../lib/cli.js'
import { ROOT, runTool } from '../helpers/run.js'

// explain-errors knows the binaries and services only through the declarations each folder
// makes (lib/<folder>/tools.ts, gathered in lib/cli.ts).

const bins = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin)

t.test('every binary of package.json is declared, and nothing else is', async (t) => {
  t.ok(bins.length >= 8, `package.json lists the binaries (${bins.length})`)
  for (const bin of bins) t.ok(TOOLS.tool(bin) !== undefined, `${bin} is declared`)
  t.strictSame(TOOLS.tools.map((d) => d.name).sort(), [...bins].sort())
})

t.test('every binary is known to explain-errors: a reset connection is its service\'s problem', async (t) => {
  // mysql2 reports a connection the server dropped as ECONNRESET: for a MySQL tool that is
  // "the server has gone away", for any other it is a reset connection. An undeclared tool
  // would have no service, and be told about MySQL.
  t.ok(bins.length > 0)
  for (const bin of bins) {
    const r = await runTool('explain-errors', ['--format', 'json', '-'], { input: `${bin}: error [ECONNRESET] read ECONNRESET\n` })
    t.equal(r.code, 0, `${bin}: explained (${r.stderr.trim()})`)
    const report = JSON.parse(r.stdout) as { problems: Array<{ rule: string, tool: string }> }
    const expected = TOOLS.tool(bin)?.service === 'mysql' ? 'mysql-gone-away' : 'connection-reset'
    t.strictSame(report.problems.map((p) => [p.tool, p.rule]), [[bin, expected]], `${bin} talks to ${TOOLS.tool(bin)?.service}`)
  }
})

t.test('the services the rules name are declared', async (t) => {
  const named = new Set(RULES.flatMap((r) => [...(r.services ?? []), ...r.commands.flatMap((c) => typeof c === 'string' ? [] : [c.service])]))
  t.ok(named.size >= 2, `the rules name services (${[...named].join(', ')})`)
  for (const s of named) t.ok(TOOLS.service(s) !== undefined, `${s} is declared`)
})

t.test('a new tool and its service are one declaration: explain-errors needs no edit', async (t) => {
  const pg: ToolDeclarations = {
    services: [{ name: 'postgres', aliases: ['pg'], port: 5432, codes: /^PG_/, codesInText: /PG_[A-Z_]+/ }],
    tools: [{ name: 'pg-write', service: 'postgres', reads: 'ndjson', writes: 'postgres' }]
  }
  const tools = new ToolRegistry([CORE_TOOLS, pg])
  const timeout = (await explainText('pg-write: error [ETIMEDOUT] connection timed out (host=db.internal)\n', tools)).problems
  t.strictSame(timeout.map((p) => [p.rule, p.what]), [['timeout', 'No answer from db.internal:5432 in time.']], 'its default port is the service\'s')
  t.ok(timeout[0].commands.includes('nc -vz -w 5 db.internal 5432'), 'the commands name that port')
  t.notOk(timeout[0].commands.some((c) => /mariadb|curl/.test(c)), 'and no MySQL or Elasticsearch check')
  const raw = (await explainText('load failed: PG_UNIQUE_VIOLATION at row 7\n', tools)).problems
  t.strictSame(raw.map((p) => p.code), ['PG_UNIQUE_VIOLATION'], 'its codes are found in a bare message')
})

t.test('a declaration that contradicts another is refused', async (t) => {
  t.throws(() => new ToolRegistry([CORE_TOOLS, { tools: [{ name: 'x-write', service: 'nowhere', reads: 'ndjson', writes: 'file' }] }]), /tool x-write names service nowhere, which nothing declares/)
  t.throws(() => new ToolRegistry([CORE_TOOLS, CORE_TOOLS]), /service ndjson is declared twice/)
  const one = { tools: [{ name: 'x-write', service: 'file', reads: 'ndjson', writes: 'file' }] }
  t.throws(() => new ToolRegistry([CORE_TOOLS, one, one]), /tool x-write is declared twice/)
})
