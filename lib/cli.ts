import type { CliSpec } from './core/cli.js'
import { runCli as runStage } from './core/cli.js'

/**
 * What every binary runs: core's runner, with explain-errors behind --simple-errors and
 * --ai-errors. It lives here, above the folders, because core imports no connector; the
 * explainer is loaded only when one of those options is given. `importMeta` is the bin's own,
 * for --version.
 */
export async function runCli (spec: CliSpec, importMeta: ImportMeta): Promise<never> {
  return await runStage(spec, {
    importMeta,
    explainer: async (tool) => new (await import('./explain/explain.js')).RunExplainer(tool)
  })
}
