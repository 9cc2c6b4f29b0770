import { closeSync, createReadStream, openSync, readSync } from 'node:fs'
import { access, constants } from 'node:fs/promises'
import type { Duplex } from 'node:stream'
import { PassThrough, Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { EspipeError, UsageError } from './errors.js'
import { gzipError, isGzip, notGzipError } from './gzip.js'

/** Positional inputs: none or `-` means stdin. */
export function inputNames (input: readonly string[]): string[] {
  return input.length === 0 ? ['-'] : [...input]
}

function readError (name: string, err: unknown): EspipeError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO'
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message
  return new EspipeError(code, `cannot read ${name === '-' ? 'stdin' : name}: ${why}`, { context: { file: name === '-' ? undefined : name }, cause: err })
}

/** Checks every input file up front, so a typo fails before any work is done. */
export async function checkInputs (names: readonly string[]): Promise<void> {
  if (names.filter((n) => n === '-').length > 1) throw new UsageError('stdin (-) can be read only once')
  for (const name of names) {
    if (name === '-') continue
    try {
      await access(name, constants.R_OK)
    } catch (err) {
      throw readError(name, err)
    }
  }
}

/**
 * When a whole pipe is interrupted (Ctrl-C reaches every stage), upstream flushes its last
 * records into our stdin and exits: read on until that end of input, for this long at most,
 * so the records upstream counted as written are not dropped in the pipe between us.
 */
export const STDIN_GRACE_MS = 2000

/**
 * The abort reason of a run whose output was closed (`| head`): its inputs are dropped at once,
 * as they are, so the line they were cut off at is neither parsed, counted nor dead-lettered.
 */
export class OutputClosed extends Error {
  readonly code = 'EPIPE'
  constructor () {
    super('the output was closed')
  }
}

function outputClosed (signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && signal.reason instanceof OutputClosed
}

/** A file's first two bytes (fewer when it is shorter); none when it can't be read (the stream that reads it says why). */
function fileHead (name: string): Buffer {
  const head = Buffer.alloc(2)
  let fd: number | undefined
  try {
    fd = openSync(name, 'r')
    return head.subarray(0, readSync(fd, head, 0, 2, 0))
  } catch {
    return Buffer.alloc(0)
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** Drops the first `n` bytes that pass: where a resumed read of a gzipped input starts. */
function skipBytes (n: number): Transform {
  let left = n
  return new Transform({
    transform (chunk: Buffer, _enc, done) {
      if (left >= chunk.length) { left -= chunk.length; done(); return }
      const rest = left === 0 ? chunk : chunk.subarray(left)
      left = 0
      done(null, rest)
    }
  })
}

/**
 * The bytes of one input, ending early (as a clean end of input, not an error) when the
 * signal is aborted: that is how SIGINT turns into "flush what you have and stop".
 * `onCut` is told when the input ends so, before its real end: what follows its last complete
 * record is then not a record (concatInputs drops it). When the output was closed, the input is
 * destroyed instead: nothing more is read or parsed.
 *
 * A gzipped input (known by its first bytes, 1F 8B, whatever its name: `cat x.gz |` too) is
 * decompressed, every member of it (an --append adds one); `start` then counts decompressed
 * bytes. A file named .gz whose bytes are not gzip is a fatal error, not text to read.
 */
export function openInput (name: string, signal?: AbortSignal, onCut?: () => void, start = 0): Readable {
  const out = new PassThrough({ highWaterMark: 256 * 1024 })
  let src: Readable
  // What is piped into `out`: src itself, or its gunzip; undefined while stdin's first bytes are awaited.
  let body: Readable | undefined
  let gz: Transform | undefined
  let released = false
  const release = (): void => {
    released = true
    body?.unpipe(out)
    if (gz !== undefined) { src.unpipe(gz); gz.destroy() }
    if (body !== undefined && body !== src && body !== gz) body.destroy()
    // Stop reading the file, but leave stdin itself open for the parent shell.
    if (src !== process.stdin) src.destroy()
    else src.pause()
  }
  const gunzipped = (from: Readable): Readable => {
    gz = createGunzip()
    gz.on('error', (err) => out.destroy(gzipError(name, err)))
    from.pipe(gz)
    return start > 0 ? gz.pipe(skipBytes(start)) : gz
  }
  if (name === '-') {
    src = process.stdin
    // 1F 8B is no start of text: stdin is sniffed as a file is.
    void firstBytes(src).then(({ head, ended }) => {
      if (released) return
      if (ended) {
        // The whole input was these bytes: no stream to put them back into.
        const whole = Readable.from(head.length === 0 ? [] : [head])
        body = isGzip(head) ? gunzipped(whole) : whole
      } else {
        if (head.length > 0) src.unshift(head)
        body = isGzip(head) ? gunzipped(src) : src
      }
      body.pipe(out)
    }, (err: unknown) => out.destroy(readError(name, err)))
  } else {
    const head = fileHead(name)
    const gzip = isGzip(head)
    if (!gzip && head.length > 0 && name.endsWith('.gz')) {
      process.nextTick(() => out.destroy(notGzipError(name, head)))
      return out
    }
    src = createReadStream(name, { highWaterMark: 256 * 1024, start: gzip ? 0 : start })
    body = gzip ? gunzipped(src) : src
  }
  const cut = (): void => {
    if (out.writableEnded) return
    onCut?.()
    release()
    out.end()
  }
  const stop = (): void => {
    if (outputClosed(signal)) { release(); out.destroy(); return }
    if (src !== process.stdin) { cut(); return }
    const timer = setTimeout(cut, STDIN_GRACE_MS)
    timer.unref()
    src.once('end', () => clearTimeout(timer))
  }
  src.on('error', (err) => out.destroy(readError(name, err)))
  if (signal?.aborted === true) { cut(); return out }
  signal?.addEventListener('abort', stop, { once: true })
  out.on('close', () => signal?.removeEventListener('abort', stop))
  body?.pipe(out)
  return out
}

/** The first bytes of a stream (two at least, unless it ends first), read and not yet put back. */
async function firstBytes (src: Readable): Promise<{ head: Buffer, ended: boolean }> {
  return await new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    let n = 0
    const finish = (ended: boolean): void => {
      src.off('readable', onReadable)
      src.off('end', onEnd)
      src.off('error', onError)
      resolve({ head: Buffer.concat(parts), ended })
    }
    const onReadable = (): void => {
      for (let c = src.read() as Buffer | null; c !== null; c = src.read() as Buffer | null) {
        parts.push(c)
        n += c.length
        if (n >= 2) { finish(false); return }
      }
    }
    const onEnd = (): void => finish(true)
    const onError = (err: Error): void => {
      src.off('readable', onReadable)
      src.off('end', onEnd)
      reject(err)
    }
    src.on('readable', onReadable)
    src.once('end', onEnd)
    src.once('error', onError)
  })
}

/**
 * Reads the inputs one after another, each through its own parser (so line numbers and CSV
 * headers are per file), into one object stream with backpressure throughout.
 */
export interface ConcatOptions {
  signal?: AbortSignal
  /** Turns a parser's error into one that names the input. */
  mapError?: (name: string, err: unknown) => unknown
  /** Fatal errors go through here (see failSource); without it the output is destroyed. */
  onFatal?: (out: PassThrough, err: unknown) => void
  /** Where to start reading each input (a byte offset; resuming a file read): 0 by default. */
  startAt?: (index: number) => number
}

export function concatInputs (names: readonly string[], parserFor: (name: string, index: number) => Duplex[], opts: ConcatOptions = {}): Readable {
  const { signal, mapError = (_n: string, e: unknown) => e, onFatal = (o: PassThrough, e: unknown) => o.destroy(e as Error) } = opts
  const out = new PassThrough({ objectMode: true, highWaterMark: 64 })
  void (async () => {
    for (const [index, name] of names.entries()) {
      if (signal?.aborted === true) break
      const start = opts.startAt?.(index) ?? 0
      if (start < 0) continue
      let cut = false
      const parsers = parserFor(name, index)
      dropTailWhenCut(parsers[0], () => cut)
      try {
        await pipeline([openInput(name, signal, () => { cut = true }, start), ...parsers, out], { end: false })
      } catch (err) {
        if (outputClosed(signal)) break
        throw mapError(name, err)
      }
    }
    if (!out.destroyed && !out.writableEnded) out.end()
  })().catch((err: unknown) => {
    // Our own output was destroyed downstream (EPIPE): nothing left to report here.
    if (!out.destroyed) onFatal(out, err)
  })
  return out
}

/**
 * An input cut short (SIGINT, --limit) ends inside a record: the first parser's flush would
 * hand on that partial line (or fail on its open quote), so it is skipped. Every record
 * complete before the cut has already left the parser; only the unfinished rest is dropped.
 */
function dropTailWhenCut (parser: Duplex | undefined, wasCut: () => boolean): void {
  if (!(parser instanceof Transform)) return
  const flush = parser._flush
  // A parser that holds complete records back (to write them in large chunks) says how to
  // hand those on without the tail.
  const withoutTail = (parser as Partial<TailDropper>).flushWithoutTail
  parser._flush = function (this: Transform, done) {
    if (wasCut() || typeof flush !== 'function') {
      if (wasCut() && withoutTail !== undefined) withoutTail.call(this, done)
      else done()
    } else flush.call(this, done)
  }
}

/** A parser whose flush at a cut input must still push what it holds (see dropTailWhenCut). */
export interface TailDropper { flushWithoutTail: (done: (err?: Error | null) => void) => void }
