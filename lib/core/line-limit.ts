import { Transform } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import type { FlagSpecs, Options } from './cli.js'
import type { StageContext } from './context.js'
import { formatBytes, parseByteSize } from './size.js'
import { EscapingDecoder, escapedBytes, hasEscapes } from './utf8.js'

/**
 * The longest input line (a CSV record) a reader holds. Above it a line is a record error and
 * the reader skips to the next line end without keeping what it skips: one huge line (a file
 * with no line ends, a binary file) costs no more memory than this.
 */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 ** 2

/** --max-line-bytes, for the flags of a binary that reads lines (`line`: what its input's unit is called). */
export function maxLineBytesFlag (line = 'input line'): FlagSpecs {
  return { maxLineBytes: { type: 'string', value: 'SIZE', default: '64MiB', help: `a longer ${line} is a record error and is skipped, never held in memory (default: {default})` } }
}

/** The limit --max-line-bytes gives, undefined when the binary has no such option. */
export function maxLineBytes (opts: Options): number | undefined {
  const text = opts.string('maxLineBytes')
  return text === undefined ? undefined : parseByteSize(text, 'max-line-bytes')
}

/** Characters of a too long line kept to show it (in the dead-letter entry, in messages). */
export const LONG_LINE_PREFIX = 1024

/** A line longer than the limit: where it was, how it started, how long it was. */
export interface LongLine {
  line: number
  prefix: string
  bytes: number
}

/** Up to LONG_LINE_PREFIX characters of `pieces` joined, without cutting a character in two. */
export function linePrefix (pieces: readonly string[]): string {
  let out = ''
  for (const p of pieces) {
    out += p.length > LONG_LINE_PREFIX - out.length ? p.slice(0, LONG_LINE_PREFIX - out.length) : p
    if (out.length >= LONG_LINE_PREFIX) break
  }
  const last = out.charCodeAt(out.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? out.slice(0, -1) : out
}

/**
 * A too long line as a record error: counted as read and failed, dead-lettered with its first
 * characters (never the whole line) and its length in the context.
 */
export function failLongLine (ctx: StageContext, long: LongLine, { file, limit = ctx.maxLineBytes, what = 'line' }: { file: string | undefined, limit?: number, what?: string }): void {
  ctx.stats.add('read')
  ctx.failures.fail({
    record: long.prefix,
    line: long.line,
    code: 'RECORD_TOO_LONG',
    message: `${what} ${long.line} of ${file ?? 'stdin'} is ${formatBytes(long.bytes)}, longer than --max-line-bytes ${formatBytes(limit)}: skipped`,
    context: { file, bytes: long.bytes }
  })
}

/**
 * Cuts decoded text into lines at \n, and passes each to `onLine` with its number. A line of
 * more than `maxBytes` UTF-8 bytes goes to `onLong` instead, once its end is found: the framer
 * keeps its first characters and its length, not the line. By hand rather than split2: one
 * indexOf per line instead of a regex split into an array (the framing was a tenth of
 * mysql-write's CPU), and a line longer than a write is kept in pieces and joined once, not
 * split again per write. Only lines longer than a third of the limit in characters are
 * measured in bytes, so the common line costs one comparison more.
 */
export class LineFramer {
  /** The number of the last line passed on. */
  line = 0
  private rest: string[] = []
  private restBytes = 0
  private skipping: LongLine | undefined
  /** The skipped line's prefix has all its characters so far: it may grow. */
  private prefixOpen = false
  /** A line of at most this many characters has at most maxBytes bytes (3 bytes per UTF-16 unit at most). */
  private readonly safeChars: number

  constructor (
    readonly maxBytes: number,
    private readonly onLine: (raw: string, line: number) => void,
    private readonly onLong: (long: LongLine) => void
  ) {
    this.safeChars = Math.floor(maxBytes / 3)
  }

  write (s: string): void {
    if (s === '') return
    let start = 0
    if (this.skipping !== undefined) {
      const nl = s.indexOf('\n')
      const skipped = nl < 0 ? s : s.slice(0, nl)
      this.skipping.bytes += Buffer.byteLength(skipped)
      // Under a limit of less than LONG_LINE_PREFIX, the prefix goes on past what was held.
      if (this.prefixOpen) {
        this.prefixOpen = this.skipping.prefix.length + skipped.length < LONG_LINE_PREFIX
        this.skipping.prefix = linePrefix([this.skipping.prefix, skipped])
      }
      if (nl < 0) return
      this.endLong()
      start = nl + 1
    }
    let nl = s.indexOf('\n', start)
    if (nl < 0) {
      if (start < s.length) this.keep(start === 0 ? s : s.slice(start))
      return
    }
    if (this.rest.length > 0) {
      this.keep(s.slice(start, nl))
      if (this.skipping !== undefined) this.endLong()
      else this.emit(this.takeRest())
      start = nl + 1
      nl = s.indexOf('\n', start)
    }
    for (; nl >= 0; nl = s.indexOf('\n', start)) {
      if (nl - start > this.safeChars) {
        const raw = s.slice(start, nl)
        const bytes = Buffer.byteLength(raw)
        if (bytes > this.maxBytes) this.onLong({ line: ++this.line, prefix: linePrefix([raw]), bytes })
        else this.emit(raw)
      } else {
        this.emit(s.slice(start, nl))
      }
      start = nl + 1
    }
    if (start < s.length) this.keep(s.slice(start))
  }

  /** The input ended: its last line, if it had no line end. */
  end (): void {
    if (this.skipping !== undefined) this.endLong()
    else if (this.rest.length > 0) this.emit(this.takeRest())
  }

  private emit (raw: string): void {
    this.onLine(raw, ++this.line)
  }

  /** Holds the start of an unfinished line; once it is too long, only its first characters. */
  private keep (piece: string): void {
    this.rest.push(piece)
    this.restBytes += Buffer.byteLength(piece)
    if (this.restBytes > this.maxBytes) {
      this.skipping = { line: 0, prefix: linePrefix(this.rest), bytes: this.restBytes }
      this.prefixOpen = this.rest.reduce((n, p) => n + p.length, 0) < LONG_LINE_PREFIX
      this.takeRest()
    }
  }

  private takeRest (): string {
    const raw = this.rest.length === 1 ? this.rest[0] : this.rest.join('')
    this.rest = []
    this.restBytes = 0
    return raw
  }

  private endLong (): void {
    const long = this.skipping as LongLine
    this.skipping = undefined
    long.line = ++this.line
    this.onLong(long)
  }
}

/** What a line stage does with each line, each too long one, and at the end; `push` sends an object on. */
export interface LineHandlers {
  line: (raw: string, line: number, push: (item: unknown) => void) => void
  long: (long: LongLine, push: (item: unknown) => void) => void
  /**
   * A line that is not UTF-8, as the bytes it came with (without its line end, LF or CRLF).
   * Without this handler such bytes are read as U+FFFD: text for a person, not records.
   */
  invalid?: (bytes: Buffer, line: number, push: (item: unknown) => void) => void
  /** The input began with a UTF-8 byte order mark, which was skipped. */
  bom?: () => void
  end?: (push: (item: unknown) => void) => void
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])

/**
 * A stream stage: UTF-8 bytes in, framed by a LineFramer of `maxBytes`, and out whatever the
 * handlers push (objects). A byte order mark at the start is skipped. A handler that throws
 * (--max-errors reached) fails the stream.
 *
 * With an `invalid` handler, bytes that are not UTF-8 are kept, escaped (see utf8.ts): only
 * a line decoded from such bytes is looked at for escapes, so valid input costs one native
 * check per chunk and one comparison per line.
 */
export function lineStage (maxBytes: number, handlers: LineHandlers): Transform {
  const push = (item: unknown): void => { stage.push(item) }
  const invalid = handlers.invalid
  const escaping = invalid === undefined ? undefined : new EscapingDecoder()
  const decoder = escaping ?? new StringDecoder('utf8')
  // Lines up to this number may hold escaped bytes: those decoded from a chunk that was not
  // UTF-8, and the line still open after it.
  let dirtyThrough = 0
  const onLine = invalid === undefined
    ? (raw: string, line: number) => handlers.line(raw, line, push)
    : (raw: string, line: number) => {
        if (line > dirtyThrough || !hasEscapes(raw)) return handlers.line(raw, line, push)
        invalid(escapedBytes(raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw), line, push)
      }
  const framer = new LineFramer(maxBytes, onLine, (long) => handlers.long(long, push))
  const frame = (text: string): void => {
    if (escaping === undefined || !escaping.escaped) return framer.write(text)
    escaping.escaped = false
    dirtyThrough = Infinity
    framer.write(text)
    dirtyThrough = framer.line + 1
  }
  // The first bytes, held while they may still be a byte order mark.
  let head: Buffer | undefined = Buffer.alloc(0)
  const skipBom = (chunk: Buffer, end: boolean): Buffer | undefined => {
    const bytes = (head as Buffer).length === 0 ? chunk : Buffer.concat([head as Buffer, chunk])
    if (!end && bytes.length < 3 && UTF8_BOM.subarray(0, bytes.length).equals(bytes)) { head = bytes; return undefined }
    head = undefined
    if (bytes.length < 3 || !UTF8_BOM.equals(bytes.subarray(0, 3))) return bytes
    handlers.bom?.()
    return bytes.subarray(3)
  }
  const stage = new Transform({
    readableObjectMode: true,
    transform (chunk: Buffer | string, _enc, done) {
      try {
        if (typeof chunk === 'string') {
          if (head !== undefined && chunk !== '') {
            head = undefined
            if (chunk.charCodeAt(0) === 0xfeff) { chunk = chunk.slice(1); handlers.bom?.() }
          }
          framer.write(chunk)
        } else {
          const bytes = head === undefined ? chunk : skipBom(chunk, false)
          if (bytes !== undefined) frame(decoder.write(bytes))
        }
      } catch (err) {
        done(err as Error)
        return
      }
      done()
    },
    flush (done) {
      try {
        const rest = head === undefined ? undefined : skipBom(Buffer.alloc(0), true)
        frame((rest === undefined ? '' : decoder.write(rest)) + decoder.end())
        framer.end()
        handlers.end?.(push)
      } catch (err) {
        done(err as Error)
        return
      }
      done()
    }
  })
  return stage
}
