import type { CliSpec } from './core/cli.js'
import { runCli as runStage } from './core/cli.js'
import { CORE_TOOLS, ToolRegistry } from './core/tools.js'
import { CSV_TOOLS } from './csv/tools.js'
import { DIFF_TOOLS } from './diff/tools.js'
import { ES_TOOLS } from './es/tools.js'
import { EXPLAIN_TOOLS } from './explain/tools.js'
import { JSONL_TOOLS } from './jsonl/tools.js'
import { MYSQL_TOOLS } from './mysql/tools.js'

/**
 * Every binary and service, as each folder declares them: what explain-errors is given (it
 * imports no connector). A new folder's declaration is one more entry here;
 * test/explain/tools.test.ts holds package.json's `bin` to this list.
 */
export const TOOLS = new ToolRegistry([CORE_TOOLS, MYSQL_TOOLS, ES_TOOLS, CSV_TOOLS, JSONL_TOOLS, EXPLAIN_TOOLS, DIFF_TOOLS])

/**
 * What every binary runs: core's runner, with explain-errors behind --simple-errors and
 * --ai-errors. It lives here, above the folders, because core imports no connector; the
 * explainer is loaded only when one of those options is given. `importMeta` is the bin's own,
 * for --version.
 */
export async function runCli (spec: CliSpec, importMeta: ImportMeta): Promise<never> {
  return await runStage(spec, {
    importMeta,
    tools: TOOLS,
    explainer: async (tool) => new (await import('./explain/explain.js')).RunExplainer(tool, TOOLS)
  })
}
