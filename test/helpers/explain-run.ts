import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { runTool } from './run.js'
import type { RunResult } from './run.js'
import type { ErrorContext } from '../../lib/core/errors.js'
import { Logger } from '../../lib/core/events.js'
import type { LogFormat } from '../../lib/core/events.js'

/** Runs a built binary (`npm run build` first) with optional stdin and extra environment. */
export async function run (tool: string, args: string[], opts: { input?: string, env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<RunResult> {
  return await runTool(tool, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, input: opts.input ?? '' })
}

/** A Logger writing into a string, so tests get exactly the lines our binaries write. */
function capture (tool: string, format: LogFormat, fn: (l: Logger) => void): string {
  let text = ''
  const out = new Writable({ write (chunk: Buffer, _enc, done) { text += chunk.toString(); done() } })
  fn(new Logger({ tool, format, stream: out }))
  return text
}

/** What our Logger writes for a fatal error from a driver, as text or a JSON event. */
export function loggedError (tool: string, format: LogFormat, err: unknown, context: ErrorContext = {}): string {
  return capture(tool, format, (l) => l.error(err, context))
}

/** What our Logger writes for a record error. */
export function loggedRecordError (tool: string, format: LogFormat, code: string, message: string, context: ErrorContext): string {
  return capture(tool, format, (l) => l.recordError(code, message, context))
}

/** A loopback port nothing listens on (bound, then released): connecting to it is refused. */
export async function closedPort (): Promise<number> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}
