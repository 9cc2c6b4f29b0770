import { isUtf8 } from 'node:buffer'
import type { Stats } from 'node:fs'
import { close, fstat, open, read } from 'node:fs'
import type { OnReadOpts, SocketConstructorOpts } from 'node:net'
import { Socket } from 'node:net'
import { ReadStream, isatty } from 'node:tty'
import { EspipeError } from '../core/errors.js'
import type { ByteSource } from './gunzip.js'
import { sniffedSource } from './gunzip.js'

/** Complete lines of an input: buf[start, end), each ended by `\n` but maybe the input's last. */
export interface Region { buf: Buffer, start: number, end: number, utf8: boolean }

const SIZE = 1024 * 1024
/** How long a read that found a non-blocking stdin empty waits before it tries again. */
const RETRY_MS = 5


/** A regular file (or /dev/null): read from libuv's thread pool, where a read always returns. */
function fileSource (fd: number): ByteSource {
  const once = async (buf: Buffer, at: number): Promise<number> => await new Promise((resolve, reject) => {
    read(fd, buf, at, buf.length - at, null, (err, n) => { if (err !== null) reject(err); else resolve(n) })
  })
  return {
    read: async (buf, at) => {
      for (;;) {
        try {
          return await once(buf, at)
        } catch (err) {
          // A stdin that another process left non-blocking: wait for data the way a poll would.
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
        }
      }
    },
    close: () => { if (fd > 0) close(fd, () => {}) }
  }
}

/** The most a pipe hands over at once: a read asks for at least this much room. */
const PIPE_READ = 64 * 1024

/**
 * A pipe (stdin, <(command), a FIFO): read through the event loop, into one buffer used again
 * and again (net.Socket's onread), not from the thread pool: a thread blocked on a silent pipe
 * would keep the process from exiting after SIGTERM.
 */
function pipeSource (fd: number): ByteSource {
  const landing = Buffer.allocUnsafe(PIPE_READ)
  let want: { buf: Buffer, at: number, resolve: (n: number) => void, reject: (err: Error) => void } | undefined
  let ended = false
  let failed: Error | undefined
  // onread is a constructor option (Node's documentation since nodejs/node#54194), not yet in @types/node 20's.
  const options: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer: landing,
      callback: (n: number) => {
        const w = want
        want = undefined
        if (w === undefined) return false
        landing.copy(w.buf, w.at, 0, n)
        w.resolve(n)
        // Paused until the next read: the reader keeps up with the pipe, never the other way.
        return false
      }
    }
  }
  const socket = new Socket(options)
  socket.pause()
  socket.on('end', () => { ended = true; want?.resolve(0); want = undefined })
  socket.on('error', (err) => { failed = err; want?.reject(err); want = undefined })
  return {
    read: async (buf, at) => {
      if (failed !== undefined) throw failed
      if (ended) return 0
      return await new Promise((resolve, reject) => {
        want = { buf, at, resolve, reject }
        socket.resume()
      })
    },
    close: () => { socket.destroy() }
  }
}

/** A terminal: its own stream, chunk by chunk (a person types slower than any copy). */
function ttySource (fd: number): ByteSource {
  const tty = new ReadStream(fd)
  tty.pause()
  let rest: Buffer | undefined
  let ended = false
  tty.on('end', () => { ended = true })
  return {
    read: async (buf, at) => {
      while (rest === undefined && !ended) {
        rest = tty.read() as Buffer | null ?? undefined
        if (rest === undefined) await new Promise((resolve) => { tty.once('readable', resolve); tty.once('end', resolve) })
      }
      if (rest === undefined) return 0
      const n = rest.copy(buf, at)
      rest = n < rest.length ? rest.subarray(n) : undefined
      return n
    },
    close: () => { tty.destroy() }
  }
}

/**
 * An input's bytes as regions of whole lines, read into buffers of its own that are used again
 * and again: Node's streams give each chunk a new buffer, which the garbage collector frees
 * only when the JavaScript heap asks for a collection, and rec-diff allocates so little on its
 * heap that 60 MB of spent chunks were waiting at once. A region stays valid until `buffers`
 * more have been read (the sorted merge holds one record across a region's end: it reads with
 * two). A line cut by a read is moved to the front of the next buffer; a line longer than a
 * buffer grows it.
 */
export class LineReader {
  private source: ByteSource | undefined
  private readonly bufs: Buffer[] = []
  private cur = 0
  private tailStart = 0
  private tailEnd = 0
  private eof = false
  private readonly name: string
  private readonly signal: AbortSignal
  private readonly count: number

  private readonly aborted: Promise<number>

  constructor (name: string, signal: AbortSignal, buffers = 1) {
    this.name = name
    this.signal = signal
    this.count = buffers
    this.aborted = new Promise((resolve) => {
      if (signal.aborted) resolve(0)
      else signal.addEventListener('abort', () => resolve(0), { once: true })
    })
  }

  /** The next region, or undefined at the end of the input (or once the run is interrupted). */
  async next (): Promise<Region | undefined> {
    if (this.eof || this.signal.aborted) return undefined
    this.source ??= await this.open()
    const prev = this.bufs[this.cur]
    this.cur = (this.cur + 1) % this.count
    let buf = this.bufs[this.cur] ?? (this.bufs[this.cur] = Buffer.allocUnsafeSlow(SIZE))
    const tail = this.tailEnd - this.tailStart
    if (tail > buf.length) buf = this.bufs[this.cur] = Buffer.allocUnsafeSlow(2 * tail)
    if (tail > 0) prev.copy(buf, 0, this.tailStart, this.tailEnd)
    let fill = tail
    for (;;) {
      if (fill + PIPE_READ > buf.length) {
        // No room for a read (a line nearly as long as the buffer): a larger one, kept for the lines after it.
        const grown = Buffer.allocUnsafeSlow(buf.length * 2)
        buf.copy(grown, 0, 0, fill)
        buf = this.bufs[this.cur] = grown
      }
      const n = await this.read(this.source, buf, fill)
      if (this.signal.aborted) return undefined
      if (n === 0) {
        this.eof = true
        this.close()
        this.tailStart = this.tailEnd = 0
        return fill === 0 ? undefined : { buf, start: 0, end: fill, utf8: isUtf8(buf.subarray(0, fill)) }
      }
      const last = buf.lastIndexOf(0x0a, fill + n - 1)
      fill += n
      if (last < fill - n) continue
      this.tailStart = last + 1
      this.tailEnd = fill
      return { buf, start: 0, end: last + 1, utf8: isUtf8(buf.subarray(0, last + 1)) }
    }
  }

  private async open (): Promise<ByteSource> {
    try {
      const fd = this.name === '-' ? 0 : await new Promise<number>((resolve, reject) => { open(this.name, 'r', (err, fd) => { if (err !== null) reject(err); else resolve(fd) }) })
      const stat = await new Promise<Stats>((resolve, reject) => { fstat(fd, (err, st) => { if (err !== null) reject(err); else resolve(st) }) })
      if (stat.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' })
      if (stat.isFIFO() || stat.isSocket()) return sniffedSource(this.name, pipeSource(fd))
      if (isatty(fd)) return ttySource(fd)
      return sniffedSource(this.name, fileSource(fd))
    } catch (err) {
      throw this.error(err)
    }
  }

  private async read (source: ByteSource, buf: Buffer, at: number): Promise<number> {
    try {
      // An interrupted run stops waiting at once: a pipe may stay silent for ever.
      return await Promise.race([source.read(buf, at), this.aborted])
    } catch (err) {
      throw this.error(err)
    }
  }

  private error (err: unknown): EspipeError {
    // Already one line that names the input (a gzip stream that is damaged or cut short).
    if (err instanceof EspipeError) return err
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO'
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message
    return new EspipeError(code, `cannot read ${this.name === '-' ? 'stdin' : this.name}: ${why}`, { context: { file: this.name === '-' ? undefined : this.name }, cause: err, exitCode: 2 })
  }

  /** Closes the input early or at its end. */
  close (): void {
    this.source?.close()
    this.source = undefined
  }
}

/** Whether buf[start, end) is only JSON spaces (a blank line, which readers skip). */
export function isBlank (buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i]
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false
  }
  return true
}
