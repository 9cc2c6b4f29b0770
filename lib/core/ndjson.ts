import type { Readable } from 'node:stream'
import { Transform } from 'node:stream'
import { Coalescer } from './coalesce.js'
import type { StageContext } from './context.js'
import { failSource } from './context.js'
import { concatInputs } from './input.js'
import { failLongLine, lineStage } from './line-limit.js'
import { numbersSurviveJsonParse, parseExact } from './json.js'
import type { WriteLedger } from './ledger.js'
import type { RawObject } from './raw-json.js'
import { scanObject, stringToken } from './raw-json.js'
import type { JsonObject, PathGetter } from './record.js'
import { idToString, isJsonObject, jsonKind } from './record.js'
import { invalidUtf8Record } from './utf8.js'

/** One input line that parsed as a JSON object, with where it came from. */
export class ParsedLine {
  private exactValue: JsonObject | undefined
  private parsedValue: JsonObject | undefined

  constructor (
    /** JSON.parse of the line; undefined when `raw` is given (then parsed when first asked for). */
    value: JsonObject | undefined,
    /** The line as it came (without its line end): writers that pass records through write it as is. */
    readonly text: string,
    readonly line: number,
    readonly file?: string,
    /** The line's top-level members as text, when it was scanned instead of parsed (see scanObject). */
    readonly raw?: RawObject
  ) {
    this.parsedValue = value
  }

  /**
   * JSON.parse's reading of the line: its keys and strings are the record's, but a number
   * may be rounded (9007199254740993, 1.0, 1e400). Find things with it; never write a value
   * from it: write `text` (or a slice of it), or `exact` through stringifyExact.
   */
  get value (): JsonObject {
    this.parsedValue ??= JSON.parse(this.text) as JsonObject
    return this.parsedValue
  }

  /**
   * The record with every number exactly as written (a LosslessNumber where JSON.parse would
   * change it; see json.ts), parsed again only when the line has such a number.
   */
  get exact (): JsonObject {
    this.exactValue ??= numbersSurviveJsonParse(this.text) ? this.value : parseExact(this.text) as JsonObject
    return this.exactValue
  }
}

/**
 * The id of a record (a parsed line or an object), as the text it was written as: a number id
 * beyond 2^53, or written 1.0, is read from the exact parse.
 */
export function recordId (record: ParsedLine | JsonObject, getId: PathGetter): string | undefined {
  if (!(record instanceof ParsedLine)) return idToString(getId(record))
  const v = getId(record.value)
  return idToString(typeof v === 'number' ? getId(record.exact) : v)
}

export interface NdjsonInputOptions {
  /**
   * Scan each line (scanObject) instead of parsing it: for a reader of `ParsedLine.raw` that
   * mostly cuts members from the text. Lines the scan leaves alone are parsed as usual, and
   * `value` is still there for the others, parsed when first read.
   */
  scan?: boolean
}

/**
 * recordId of a scanned line whose id is the top-level member `key`, read from the text: a
 * string id is its characters, a number id the token as written.
 */
export function rawRecordId (raw: RawObject, key: string): string | undefined {
  const range = raw.member(key)
  return range === undefined ? undefined : rawIdAt(raw.text, range)
}

/** rawRecordId of the value token at text[start, end): a non-empty string or a number, else undefined. */
export function rawIdAt (text: string, [start, end]: readonly [number, number]): string | undefined {
  const c = text.charCodeAt(start)
  if (c === 0x22 /* " */) return end - start === 2 ? undefined : stringToken(text, start, end)
  if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return text.slice(start, end)
  return undefined
}

/**
 * NDJSON framing in: bytes → ParsedLine objects. A line that is not a JSON object is a
 * record error (counted, dead-lettered) and the stream goes on; so is a line longer than
 * `maxLineBytes` (default: the context's, --max-line-bytes), skipped without being held, and a
 * line that is not UTF-8 (NDJSON_INVALID_UTF8: never read with U+FFFD in place of its bad
 * bytes; the dead letter shows every byte, see invalidUtf8Record). A byte order mark at the
 * start of the input, or of a line (inputs joined with cat), is skipped, and said once.
 * Blank lines are ignored. Every other line counts as `read`. Lines end at \n (a \r before
 * it is dropped).
 */
export function parseNdjson (ctx: StageContext, opts: NdjsonInputOptions & { file?: string, maxLineBytes?: number } = {}): Transform {
  const file = opts.file
  const where = file ?? 'stdin'
  let bomSaid = false
  const bom = (line: number): void => {
    if (bomSaid) return
    bomSaid = true
    ctx.logger.info(line === 0 ? `${where} begins with a UTF-8 byte order mark: skipped` : `line ${line} of ${where} begins with a UTF-8 byte order mark (inputs joined with cat?): skipped, here and on any later line`, { file, line: line === 0 ? undefined : line })
  }
  const parse = (raw: string, line: number, push: (item: unknown) => void): void => {
    const text = raw.charCodeAt(raw.length - 1) === 0x0d ? raw.slice(0, -1) : raw
    if (text.trim() === '') return
    ctx.stats.add('read')
    take(text, line, push)
  }
  const take = (text: string, line: number, push: (item: unknown) => void): void => {
    if (opts.scan === true) {
      const raw = scanObject(text)
      if (raw !== undefined) { push(new ParsedLine(undefined, text, line, file, raw)); return }
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      // Looked for only here: a line that parses never begins with one.
      if (text.charCodeAt(0) === 0xfeff) {
        bom(line)
        take(text.slice(1), line, push)
        return
      }
      ctx.failures.fail({ record: text, line, code: 'NDJSON_INVALID_JSON', message: `line ${line} is not JSON: ${(err as Error).message}`, context: { file } })
      return
    }
    if (!isJsonObject(value)) {
      ctx.failures.fail({ record: text, line, code: 'NDJSON_NOT_OBJECT', message: `line ${line} is JSON but not an object: ${jsonKind(value)}`, context: { file } })
      return
    }
    push(new ParsedLine(value, text, line, file))
  }
  const invalid = (bytes: Buffer, line: number): void => {
    ctx.stats.add('read')
    const bad = invalidUtf8Record(bytes, line)
    ctx.failures.fail({ record: bad.record, line, code: 'NDJSON_INVALID_UTF8', message: bad.message, context: { file, ...bad.context } })
  }
  // A failure past --max-errors throws: the run stops with that error.
  const limit = opts.maxLineBytes ?? ctx.maxLineBytes
  return lineStage(limit, { line: parse, invalid, bom: () => bom(0), long: (long) => failLongLine(ctx, long, { file, limit }) })
}

/**
 * What a writer stage reads: the records of its input files (none or `-` is stdin) one file
 * after another, each with its own line numbers; a file that can't be read ends the input
 * as CONTRACT.md §4 wants a fatal source error to (see failSource).
 */
export function ndjsonInputs (files: readonly string[], ctx: StageContext, opts: NdjsonInputOptions = {}): Readable {
  return concatInputs(files, (name) => [parseNdjson(ctx, { ...opts, file: name === '-' ? undefined : name })], { signal: ctx.signal, onFatal: (out, err) => failSource(ctx, out, err) })
}

/** Serialises one item to a line (no newline), or returns undefined to drop it. */
export type LineMapper = (chunk: unknown) => string | undefined

const defaultMapper: LineMapper = (chunk) => typeof chunk === 'string' ? chunk : chunk instanceof ParsedLine ? chunk.text : JSON.stringify(chunk)

/**
 * NDJSON framing out: objects → bytes, one line each (strings are taken as serialised lines),
 * in large writes on a busy pipe and line by line for a trickle (see Coalescer).
 * With a ledger, each write is entered there with its line count, for the sink to confirm.
 */
export function toNdjson (map: LineMapper = defaultMapper, ledger?: WriteLedger): Transform {
  const stream = new Transform({
    writableObjectMode: true,
    writableHighWaterMark: 256,
    transform (chunk: unknown, _enc, done) {
      let line: string | undefined
      try {
        line = map(chunk)
      } catch (err) {
        return done(err as Error)
      }
      if (line !== undefined) out.add(line + '\n', 1)
      done()
    },
    flush (done) {
      out.flush()
      done()
    },
    destroy (err, done) {
      out.cancel()
      done(err)
    }
  })
  const out = new Coalescer(stream, 'utf8', ledger)
  return stream
}
