import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import type { RunResult } from './run.js'
import { binPath, collect } from './run.js'

/** The process's peak resident set so far (VmHWM), in MB. */
export function peakRssMb (pid: number): number {
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  if (kb === undefined) throw new Error(`no VmHWM for process ${pid}`)
  return Number(kb) / 1024
}

/**
 * Runs one of our binaries with `head`, then one line of `mb` MiB of `fill` with no line end,
 * then `tail` on its stdin, through a real pipe written as fast as the binary reads it. The
 * peak RSS is read once the huge line is all written, before the tail: what holding it
 * (or not) cost.
 */
export async function runWithHugeLine (tool: string, args: string[], input: { head: string, mb: number, fill?: string, tail: string }): Promise<RunResult & { peakMb: number }> {
  const child = spawn(process.execPath, [binPath(tool), ...args], { stdio: 'pipe' })
  const result = collect(child, null)
  const ended = once(child, 'close')
  const chunk = Buffer.alloc(1024 * 1024, input.fill ?? 'x')
  const stdin = child.stdin
  const write = async (data: string | Buffer): Promise<void> => {
    // A binary that died early takes no more input: stop at once rather than wait for a drain.
    if (!stdin.write(data)) await Promise.race([once(stdin, 'drain'), ended])
  }
  await write(input.head)
  for (let i = 0; i < input.mb && child.exitCode === null; i++) await write(chunk)
  const peakMb = child.exitCode === null ? peakRssMb(child.pid as number) : NaN
  stdin.end(input.tail)
  return { ...await result, peakMb }
}
