import { fstatSync, write } from 'node:fs'
import { Writable } from 'node:stream'

/** How much output waits in this process while the pipe is full. */
const QUEUE = 1024 * 1024
/** How long a write that found the pipe full and non-blocking waits before it tries again. */
const RETRY_MS = 5

/**
 * Standard output when it is a pipe: written from libuv's thread pool, so that a full pipe
 * blocks a pool thread instead of the stage. Node writes a pipe synchronously on Linux; with
 * the pipe's 64 KiB, the writer of `csv-read | jsonl-write` then waited for the reader every
 * few lines and the two barely ran at once: 4.4-5.8 s instead of 3.6-4.1 s for 500k rows (and
 * 2.5-3.5 s with the pipe itself grown to 1 MiB, which Node cannot ask for). Undefined when
 * stdout is not a pipe (a terminal or a file keep process.stdout).
 *
 * Order and completeness are as before: one write at a time, each finished (all its bytes in
 * the pipe) before its callback, so a ledger or a checkpoint counts a line as written only
 * once it is in the pipe. EPIPE comes out as the stream's error, as process.stdout's does.
 */
export function pipeStdout (): PipeOut | undefined {
  try {
    if (!fstatSync(1).isFIFO()) return undefined
  } catch {
    return undefined
  }
  // The pool's write() must block while the pipe is full (not fail with EAGAIN): Node puts
  // the pipe in non-blocking mode when anything touches process.stdout; put it back.
  const handle = (process.stdout as unknown as { _handle?: { setBlocking?: (on: boolean) => number } })._handle
  if (handle?.setBlocking?.(true) !== 0) return undefined
  const counted = (buf: Buffer, n: number): void => { pipe.linesOut += countLines(buf, n) }
  const pipe = Object.assign(new Writable({
    highWaterMark: QUEUE,
    write (chunk: Buffer, _enc, done) { writeAll(chunk, done, counted) },
    writev (chunks, done) { writeAll(chunks.length === 1 ? chunks[0].chunk as Buffer : Buffer.concat(chunks.map((c) => c.chunk as Buffer)), done, counted) }
  }), { linesOut: 0 })
  return pipe
}

/**
 * The pipe writer, and the lines (records: one per line) whose bytes the pipe took: after
 * `| head` closed it, what reached the pipe, not what was handed to this process's queue.
 */
export type PipeOut = Writable & { linesOut: number }

/** Line ends in buf[0, n). */
function countLines (buf: Buffer, n: number): number {
  let lines = 0
  for (let i = buf.indexOf(0x0a); i >= 0 && i < n; i = buf.indexOf(0x0a, i + 1)) lines++
  return lines
}

function writeAll (buf: Buffer, done: (err?: Error | null) => void, out: (buf: Buffer, n: number) => void): void {
  write(1, buf, 0, buf.length, null, (err, n) => {
    // Non-blocking again: the pipe's mode is shared by every process writing into it, and
    // another one (a Node process starting, as with `xargs -P 4 es-read … | …`) sets it.
    if (err?.code === 'EAGAIN') setTimeout(() => { writeAll(buf, done, out) }, RETRY_MS)
    else if (err !== null) done(err)
    else {
      out(buf, n)
      if (n < buf.length) writeAll(buf.subarray(n), done, out)
      else done()
    }
  })
}
