// Waiting in tests: for an event, never for a fixed time, and never without a bound. A wait
// that runs out fails with what it was waiting for, instead of hanging to tap's timeout.
import type { ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'

export interface WaitOptions {
  /** What is awaited, for the message when the wait runs out. */
  what: string
  /** The bound (default 20 s: a loaded machine is slow, a hang is still caught). */
  timeoutMs?: number
  /** How often the condition is checked (default 10 ms). */
  everyMs?: number
  /** A child whose exit ends the wait at once: what it was to do will not happen any more. */
  child?: ChildProcess
}

/** Thrown when a wait runs out or is given up; says what was awaited and for how long. */
export class WaitError extends Error {}

function exited (child: ChildProcess | undefined): string | undefined {
  if (child === undefined || (child.exitCode === null && child.signalCode === null)) return undefined
  return `the child exited (${child.exitCode ?? child.signalCode})`
}

/**
 * Resolves with the first truthy value of `check` (sync or async), checked every `everyMs`;
 * rejects when `timeoutMs` passes first, or when `child` exits first.
 */
export async function waitFor<T> (check: () => T | Promise<T>, opts: WaitOptions): Promise<NonNullable<T>> {
  const { what, timeoutMs = 20_000, everyMs = 10, child } = opts
  const started = Date.now()
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== null && value !== false && value !== 0 && value !== '') return value as NonNullable<T>
    const gone = exited(child)
    if (gone !== undefined) throw new WaitError(`gave up waiting for ${what}: ${gone}`)
    if (Date.now() - started > timeoutMs) throw new WaitError(`gave up waiting for ${what} after ${timeoutMs} ms`)
    await sleep(everyMs)
  }
}

/**
 * Resolves with `count()` once it has not changed for `quietMs` (the producer has had that long
 * to do more, and did not); rejects if it never settles within `timeoutMs`. For "and no more"
 * checks, which have no event to wait for: call it only after waiting for the event that shows
 * the producer got going, and pair the check with a control in which the producer does go on.
 */
export async function settled (count: () => number, opts: Omit<WaitOptions, 'child'> & { quietMs: number }): Promise<number> {
  const { what, quietMs, timeoutMs = 20_000, everyMs = 10 } = opts
  const started = Date.now()
  let last = count()
  let since = Date.now()
  for (;;) {
    await sleep(everyMs)
    const now = count()
    if (now !== last) {
      last = now
      since = Date.now()
    } else if (Date.now() - since >= quietMs) {
      return now
    }
    if (Date.now() - started > timeoutMs) throw new WaitError(`${what} did not settle within ${timeoutMs} ms (last ${last})`)
  }
}

/**
 * Resolves with what `stream` (a child's stdout or stderr) has written so far, once `done`
 * holds for it; rejects when `timeoutMs` passes first, or when the stream ends first (the child
 * is gone: what it was to write will not come any more).
 */
export async function waitForOutput (stream: NodeJS.ReadableStream | null, done: (text: string) => boolean, opts: Omit<WaitOptions, 'child' | 'everyMs'>): Promise<string> {
  const { what, timeoutMs = 20_000 } = opts
  if (stream === null) throw new WaitError(`no stream to wait on for ${what}`)
  let text = ''
  return await new Promise<string>((resolve, reject) => {
    const finish = (err?: Error): void => {
      clearTimeout(timer)
      stream.off('data', onData)
      stream.off('end', onEnd)
      if (err === undefined) resolve(text)
      else reject(err)
    }
    const onData = (d: Buffer | string): void => {
      text += d.toString()
      if (done(text)) finish()
    }
    const onEnd = (): void => finish(new WaitError(`gave up waiting for ${what}: the stream ended; it wrote: ${text}`))
    const timer = setTimeout(() => finish(new WaitError(`gave up waiting for ${what} after ${timeoutMs} ms; it wrote: ${text}`)), timeoutMs)
    stream.on('data', onData)
    stream.once('end', onEnd)
  })
}
