import { Transform } from 'node:stream'
import type { TransformCallback } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import { EscapingDecoder } from '../core/utf8.js'
import { Coalescer } from '../core/coalesce.js'
import type { TailDropper } from '../core/input.js'
import { LONG_LINE_PREFIX, linePrefix } from '../core/line-limit.js'
import type { CsvEncoding } from './dialect.js'

/** One CSV record: its cells, and its text as it was in the file (line end included). */
export interface CsvRow { record: string[], raw: string }

/** What a record becomes on the way out (undefined: nothing); it may throw to fail the stream. */
export type RowMapper = (record: string[], raw: string) => unknown

export interface CsvParseOptions {
  /** One or more characters. */
  delimiter: string
  /** One character; '' turns quoting off. */
  quote: string
  encoding: CsvEncoding
  /** Look for a byte order mark (not when reading from the middle of a file). Default true. */
  bom?: boolean
  /**
   * The longest record, in bytes of the file (its line end not counted): a longer one goes to
   * `onLong` instead of out, and is skipped without being held (default: no limit).
   */
  maxRecordBytes?: number
  onLong?: (long: LongRecord) => void
}

/** A record longer than maxRecordBytes: how it started, its length, the line ends inside it. */
export interface LongRecord {
  prefix: string
  bytes: number
  /** Physical line ends in it, its own line end included (as for a record's raw text). */
  lineBreaks: number
}

/** Where the skipping of a too long record is. */
interface Skipping extends LongRecord {
  /** In a quoted field. */
  inside: boolean
  /** The text skipped so far ends with CR (a CRLF split between two chunks is one line end). */
  afterCR: boolean
  /** The prefix holds every character skipped so far: it may grow. */
  prefixOpen: boolean
}

/**
 * A broken quote. `raw` is the record's text from its start up to the fault, so the caller can
 * name the physical line; the codes are csv-parse's, with the CSV_ prefix on all of them.
 */
export class CsvSyntaxError extends Error {
  constructor (readonly code: string, message: string, readonly raw: string) {
    super(message)
  }
}

/** The record is not complete in the text so far. */
const MORE = -1

/** A decoder of chunks: a character cut between two is held for the next. */
interface TextDecoding { write: (chunk: Buffer) => string, end: () => string }

/**
 * UTF-8 keeps a byte that is no character as an escape (see lib/core/utf8.ts), never U+FFFD:
 * a record holding one is refused with its bytes, and U+FFFD itself is a character like others.
 */
function decoding (encoding: CsvEncoding): TextDecoding {
  return encoding === 'utf8' ? new EscapingDecoder() : new StringDecoder(encoding)
}

const BOMS: ReadonlyArray<[Buffer, CsvEncoding]> = [[Buffer.from([0xef, 0xbb, 0xbf]), 'utf8'], [Buffer.from([0xff, 0xfe]), 'utf16le']]

/**
 * A CSV parser with csv-parse's rules for the options csv-read uses (`bom`, `raw`,
 * `relax_column_count`, strict quotes, the record delimiter found from the first line end
 * outside quotes: CRLF, LF or CR, then only that one ends a record), at several times its
 * speed: it works on decoded text and finds each cell with indexOf instead of copying it byte
 * by byte. test/csv/parse.test.ts holds it to csv-parse's output on generated inputs.
 */
export class CsvParser extends Transform implements TailDropper {
  private readonly delimiter: string
  private readonly quote: string
  private encoding: CsvEncoding
  private decoder: TextDecoding | undefined
  /** The first bytes, held until the BOM (if any) is known. */
  private head: Buffer | undefined
  /** Bytes of the byte order mark the input began with (0: none). */
  bomBytes = 0
  private text = ''
  /** Parse again once the text is this long: a record longer than a chunk is not rescanned per chunk. */
  private waitFor = 0
  private recordDelimiter: string | undefined
  private fields: string[] = []
  // Where the next delimiter / quote / line end is (-1: none in the text), so each is searched once.
  private nextDelimiter = -1
  private nextQuote = -1
  private nextLineEnd = -1

  private readonly lines: Coalescer | undefined
  private readonly maxBytes: number
  /** A record of at most this many characters has at most maxBytes bytes (3 per UTF-16 unit at most). */
  private readonly safeChars: number
  private skipping: Skipping | undefined
  private readonly onLong: ((long: LongRecord) => void) | undefined

  /**
   * Each record goes out through `toRecord` when one is given (a stage of its own would cost an
   * object and a stream hop per record); otherwise as a CsvRow. With `ndjson`, `toRecord` gives
   * each record's NDJSON line and the stream's output is bytes, many lines per chunk: a record
   * is then never an object waiting in a stream's buffer, which halves the collector's work.
   */
  constructor (o: CsvParseOptions, private readonly toRecord?: RowMapper, ndjson = false) {
    super({ readableObjectMode: true, readableHighWaterMark: ndjson ? 4 : 64 })
    this.delimiter = o.delimiter
    this.quote = o.quote
    this.encoding = o.encoding
    if (o.bom === false) this.decoder = decoding(this.encoding)
    else this.head = Buffer.alloc(0)
    this.lines = ndjson ? new Coalescer(this) : undefined
    this.maxBytes = o.maxRecordBytes ?? Infinity
    this.safeChars = Math.floor(this.maxBytes / 3)
    this.onLong = o.onLong
  }

  /** The input was cut short (see concatInputs): its unfinished last record is dropped. */
  flushWithoutTail (done: TransformCallback): void {
    this.lines?.flush()
    done()
  }

  override _destroy (err: Error | null, done: (err: Error | null) => void): void {
    this.lines?.cancel()
    done(err)
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      const text = this.decode(chunk, false)
      if (text === undefined) return done()
      this.text = this.text === '' ? text : this.text + text
      if (this.skipping !== undefined && !this.skip(false)) return done()
      if (this.text.length >= this.waitFor) this.parse(false)
      done()
    } catch (err) {
      done(err as Error)
    }
  }

  override _flush (done: TransformCallback): void {
    try {
      this.text += this.decode(Buffer.alloc(0), true) ?? ''
      if (this.skipping !== undefined) this.skip(true)
      this.parse(true)
      this.lines?.flush()
      done()
    } catch (err) {
      done(err as Error)
    }
  }

  /** Bytes to text; a leading BOM is dropped and sets the encoding, as csv-parse's `bom` does. */
  private decode (chunk: Buffer, end: boolean): string | undefined {
    if (this.head !== undefined) {
      const head = Buffer.concat([this.head, chunk])
      if (head.length < 3 && !end) { this.head = head; return undefined }
      this.head = undefined
      const bom = BOMS.find(([b]) => head.length >= b.length && b.equals(head.subarray(0, b.length)))
      if (bom !== undefined) {
        this.encoding = bom[1]
        this.bomBytes = bom[0].length
      }
      this.decoder = decoding(this.encoding)
      chunk = bom === undefined ? head : head.subarray(bom[0].length)
    }
    const decoder = this.decoder as TextDecoding
    return end ? decoder.write(chunk) + decoder.end() : decoder.write(chunk)
  }

  private parse (end: boolean): void {
    const text = this.text
    this.nextDelimiter = this.nextQuote = this.nextLineEnd = 0
    this.findDelimiter(0); this.findQuote(0); this.findLineEnd(0)
    let pos = 0
    while (pos < text.length) {
      const next = this.record(text, pos, end)
      if (next === MORE) break
      const raw = text.slice(pos, next)
      pos = next
      if (raw.length > this.safeChars && this.tooLong(raw)) continue
      if (this.toRecord === undefined) this.push({ record: this.fields, raw } satisfies CsvRow)
      else {
        const out = this.toRecord(this.fields, raw)
        if (out === undefined) continue
        if (this.lines !== undefined) this.lines.add(out as string + '\n', 1)
        else this.push(out)
      }
    }
    this.text = pos === 0 ? text : text.slice(pos)
    // The unfinished record is already too long: skip to its end instead of holding it.
    if (!end && this.text.length > this.safeChars && this.unfinishedBytes() > this.maxBytes) {
      this.skipping = { prefix: '', prefixOpen: true, bytes: 0, lineBreaks: 0, inside: false, afterCR: false }
      this.skip(false)
    }
    // Parsed again once the text doubled, or once it is surely too long.
    this.waitFor = Math.min(2 * this.text.length, this.maxBytes + 1)
  }

  /** The unfinished record's bytes so far: a CR at its end may be its line end, which does not count. */
  private unfinishedBytes (): number {
    const cr = this.text.endsWith('\r') ? Buffer.byteLength('\r', this.encoding) : 0
    return Buffer.byteLength(this.text, this.encoding) - cr
  }

  /** A whole record longer than the limit goes to onLong; false when it is not too long. */
  private tooLong (raw: string): boolean {
    const rd = this.recordDelimiter
    const body = rd !== undefined && raw.endsWith(rd) ? raw.slice(0, -rd.length) : raw
    const bytes = Buffer.byteLength(body, this.encoding)
    if (bytes <= this.maxBytes) return false
    this.onLong?.({ prefix: linePrefix([body]), bytes, lineBreaks: lineEnds(raw, false) })
    return true
  }

  /**
   * Skips this.text as part of the too long record, up to and with its line end (the first
   * outside quotes). Returns whether the record ended; at the `end` of the input it always does.
   */
  private skip (end: boolean): boolean {
    const s = this.skipping as Skipping
    const text = this.text
    const { quote } = this
    const rd = this.recordDelimiter
    // The next line end (before the record delimiter is known, a CR or an LF): searched again
    // only once a quoted field runs past it, so the text is scanned once.
    const findLineEnd = (from: number): number => {
      if (rd !== undefined) return text.indexOf(rd, from)
      const cr = text.indexOf('\r', from)
      const lf = text.indexOf('\n', from)
      return cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf)
    }
    let lineEnd = findLineEnd(0)
    let from = 0
    let stop = -1
    while (from < text.length) {
      if (s.inside) {
        const q = text.indexOf(quote, from)
        if (q < 0) break
        s.inside = false
        from = q + quote.length
        continue
      }
      if (lineEnd >= 0 && lineEnd < from) lineEnd = findLineEnd(from)
      const q = quote === '' ? -1 : text.indexOf(quote, from)
      if (q >= 0 && (lineEnd < 0 || q < lineEnd)) { s.inside = true; from = q + quote.length; continue }
      stop = lineEnd
      break
    }
    // The record delimiter that ends it (the first one fixes it, as in lineEndAt); a CR that
    // ends the text may be the first half of a CRLF: kept for the next chunk to decide.
    let rdLength = 0
    if (stop >= 0) {
      const found = rd ?? (text.charCodeAt(stop) === 0x0a ? '\n' : stop + 1 < text.length || end ? (text.charCodeAt(stop + 1) === 0x0a ? '\r\n' : '\r') : undefined)
      if (found === undefined) stop = -1
      else { this.recordDelimiter = found; rdLength = found.length }
    }
    const hold = stop < 0 && !end && !s.inside && (rd === undefined || rd === '\r\n') && text.endsWith('\r') ? 1 : 0
    const body = stop >= 0 ? stop : text.length - hold
    const part = body === text.length ? text : text.slice(0, body)
    s.bytes += Buffer.byteLength(part, this.encoding)
    s.lineBreaks += lineEnds(stop >= 0 ? text.slice(0, stop + rdLength) : part, s.afterCR)
    if (part.length > 0) s.afterCR = part.charCodeAt(part.length - 1) === 0x0d
    if (s.prefixOpen) {
      s.prefixOpen = s.prefix.length + part.length < LONG_LINE_PREFIX
      s.prefix = linePrefix([s.prefix, part])
    }
    this.text = text.slice(stop >= 0 ? stop + rdLength : body)
    if (stop < 0 && !end) return false
    this.skipping = undefined
    this.waitFor = 0
    this.onLong?.({ prefix: s.prefix, bytes: s.bytes, lineBreaks: s.lineBreaks })
    return true
  }

  private findDelimiter (from: number): void {
    if (this.nextDelimiter >= 0 && this.nextDelimiter < from) this.nextDelimiter = this.text.indexOf(this.delimiter, from)
    else if (from === 0) this.nextDelimiter = this.text.indexOf(this.delimiter)
  }

  private findQuote (from: number): void {
    if (this.quote === '') { this.nextQuote = -1; return }
    if (this.nextQuote >= 0 && this.nextQuote < from) this.nextQuote = this.text.indexOf(this.quote, from)
    else if (from === 0) this.nextQuote = this.text.indexOf(this.quote)
  }

  /** The next line end that may end a record (before the delimiter is known: a CR or LF). */
  private findLineEnd (from: number): void {
    if (!(this.nextLineEnd >= 0 && (this.nextLineEnd < from || from === 0))) return
    const rd = this.recordDelimiter
    if (rd !== undefined) { this.nextLineEnd = this.text.indexOf(rd, from); return }
    const cr = this.text.indexOf('\r', from)
    const lf = this.text.indexOf('\n', from)
    this.nextLineEnd = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf)
  }

  /**
   * The length of the record delimiter at `p` (0: none there), fixing it at the first line end
   * seen; MORE when a CR ends the text and the next character decides.
   */
  private lineEndAt (text: string, p: number, end: boolean): number {
    const rd = this.recordDelimiter
    if (rd !== undefined) {
      if (text.startsWith(rd, p)) return rd.length
      return !end && rd.length > 1 && p + rd.length > text.length && rd.startsWith(text.slice(p)) ? MORE : 0
    }
    const c = text.charCodeAt(p)
    if (c === 0x0a) { this.setRecordDelimiter('\n', p); return 1 }
    if (c !== 0x0d) return 0
    if (p + 1 >= text.length && !end) return MORE
    this.setRecordDelimiter(text.charCodeAt(p + 1) === 0x0a ? '\r\n' : '\r', p)
    return this.recordDelimiter?.length ?? 0
  }

  private setRecordDelimiter (rd: string, at: number): void {
    this.recordDelimiter = rd
    this.nextLineEnd = this.text.indexOf(rd, at)
  }

  /** Parses the record at `pos` into this.fields; returns where the next one starts, or MORE. */
  private record (text: string, pos: number, end: boolean): number {
    const fields: string[] = []
    const { delimiter, quote } = this
    const n = text.length
    let p = pos
    for (;;) {
      if (quote !== '' && text.startsWith(quote, p)) {
        // Quoted: up to the quote that is not doubled; then a delimiter, a line end or the end.
        let value = ''
        let from = p + quote.length
        for (;;) {
          const j = text.indexOf(quote, from)
          if (j < 0) {
            if (!end) return MORE
            throw new CsvSyntaxError('CSV_QUOTE_NOT_CLOSED', 'Quote Not Closed: the parsing is finished with an opening quote', text.slice(pos))
          }
          const after = j + quote.length
          if (text.startsWith(quote, after)) { value += text.slice(from, after); from = after + quote.length; continue }
          if (after >= n && !end) return MORE
          value += text.slice(from, j)
          p = after
          break
        }
        fields.push(value)
        if (p >= n) { this.fields = fields; return p }
        if (text.startsWith(delimiter, p)) { p += delimiter.length; continue }
        if (!end && p + delimiter.length > n && delimiter.startsWith(text.slice(p))) return MORE
        const rd = this.lineEndAt(text, p, end)
        if (rd === MORE) return MORE
        if (rd > 0) { this.fields = fields; return this.recordEnd(p + rd) }
        throw new CsvSyntaxError('CSV_INVALID_CLOSING_QUOTE', `Invalid Closing Quote: got ${JSON.stringify(String.fromCodePoint(text.codePointAt(p) ?? 0))} instead of delimiter, record delimiter, trimable character (if activated) or comment`, text.slice(pos, p))
      }
      // Unquoted: up to the next delimiter or record delimiter; a quote inside it is an error.
      this.findDelimiter(p); this.findLineEnd(p); this.findQuote(p)
      const d = this.nextDelimiter < 0 ? n : this.nextDelimiter
      const r = this.nextLineEnd < 0 ? n : this.nextLineEnd
      const stop = d < r ? d : r
      if (this.nextQuote >= 0 && this.nextQuote < stop) {
        throw new CsvSyntaxError('CSV_INVALID_OPENING_QUOTE', `Invalid Opening Quote: a quote is found on field ${fields.length}, value is ${JSON.stringify(text.slice(p, this.nextQuote))}`, text.slice(pos, this.nextQuote + quote.length))
      }
      if (stop >= n) {
        if (!end) return MORE
        fields.push(text.slice(p))
        this.fields = fields
        return n
      }
      if (stop === d) {
        fields.push(text.slice(p, d))
        p = d + delimiter.length
        continue
      }
      const rd = this.lineEndAt(text, r, end)
      if (rd === MORE) return MORE
      fields.push(text.slice(p, r))
      this.fields = fields
      return this.recordEnd(r + rd)
    }
  }

  private recordEnd (next: number): number {
    this.findLineEnd(next)
    return next
  }
}

/** Physical line ends in `text`: CRLF, LF and a lone CR each end one; `afterCR`: the text before it ended with CR. */
function lineEnds (text: string, afterCR: boolean): number {
  let n = 0
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1)) n++
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) if (i === 0 ? !afterCR : text.charCodeAt(i - 1) !== 0x0d) n++
  return n
}
