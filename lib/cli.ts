import type { Cli, CliSpec, StageStreams } from './core/cli.js'
import { runCli as runStage } from './core/cli.js'

export { commonHelp, outputSink, stdout } from './core/cli.js'

/**
 * What every binary runs: core's runner, with explain-errors behind --simple-errors and
 * --ai-errors. It lives here, above the folders, because core imports no connector; the
 * explainer is loaded only when one of those options is given.
 */
export async function runCli (spec: CliSpec, build: (cli: Cli) => Promise<StageStreams>): Promise<never> {
  return await runStage({
    explainer: async (tool) => new (await import('./explain/explain.js')).RunExplainer(tool),
    ...spec
  }, build)
}
