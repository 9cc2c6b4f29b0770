import type { Readable } from 'node:stream'
import type { StageContext } from '../core/context.js'
import { createContext } from '../core/context.js'
import { resolve } from 'node:path'
import { EspipeError, UsageError } from '../core/errors.js'
import { concatInputs } from '../core/input.js'
import { escapedBytes, hasEscapes, invalidUtf8Record } from '../core/utf8.js'
import type { PageHost, PageSource, SourceStream } from '../core/paged-source.js'
import { PagedSource } from '../core/paged-source.js'
import { POSITION_KEY, positionMember, positionText } from '../core/position.js'
import { failLongLine } from '../core/line-limit.js'
import { LosslessNumber, parseExact, stringifyExact } from '../core/json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'
import type { CsvEncoding } from './dialect.js'
import type { CsvParseOptions, RowMapper } from './parse.js'
import { CsvParser } from './parse.js'

export type { CsvEncoding }

export interface CsvReadOptions {
  /** Input files; none or `-` is stdin. */
  files?: string[]
  idColumn?: string
  contentColumn?: string
  delimiter?: string
  quote?: string
  /** The first line is data, not a header: `columns` must then name the columns. */
  noHeader?: boolean
  /** Column names; with a header line they replace the header's names. */
  columns?: string[]
  limit?: number
  skip?: number
  encoding?: CsvEncoding
  /** Numbers, booleans and null instead of strings in `_source` (ids stay strings). */
  cast?: boolean
  /**
   * Emit NDJSON bytes (Buffers, each a run of whole lines) instead of objects: the lines
   * stringifyExact would give for the records, built without the intermediate objects.
   */
  serialize?: boolean
  /** Cursor file (the file, its byte offset and line): saved as records are written, resumed from when it exists. Not for stdin. */
  checkpoint?: string
  /** With a checkpoint: records carry their positions for a writer downstream to acknowledge. */
  positions?: boolean
  context?: StageContext
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/

/**
 * `--cast`: true, false, null and numbers become JSON values. A number keeps its text: one
 * that prints back the same is a JS number, any other (1.0, 1e3, -0, 9007199254740993) a
 * LosslessNumber written as it was. `007` is not a JSON number and stays a string.
 */
export function castValue (v: string): unknown {
  if (v === 'true') return true
  if (v === 'false') return false
  if (v === 'null' || v === '') return null
  if (NUMBER.test(v)) return String(Number(v)) === v ? Number(v) : new LosslessNumber(v)
  return v
}

/** A cell's value as JSON text. */
function cellJson (v: unknown): string {
  return v instanceof LosslessNumber ? v.value : JSON.stringify(v)
}

function parseContent (text: string | undefined): JsonObject | undefined {
  if (text === undefined) return undefined
  const t = text.trimStart()
  if (!t.startsWith('{')) return undefined
  try {
    // Exact: the cell's numbers keep their digits (its text may span lines, so it is parsed
    // and written again, compact, rather than passed through).
    const v: unknown = parseExact(t)
    return isJsonObject(v) ? v : undefined
  } catch {
    return undefined
  }
}

/**
 * Header names as keys: a repeated name gets `_2`, `_3`…, an empty one `column_N` (its
 * position), so no cell is lost to a name another cell has. Returns what was renamed.
 */
export function uniqueColumns (names: readonly string[]): { columns: string[], renamed: string[] } {
  const taken = new Set(names.filter((n) => n !== ''))
  const seen = new Set<string>()
  const renamed: string[] = []
  const columns = names.map((name, i) => {
    if (name !== '' && !seen.has(name)) { seen.add(name); return name }
    const base = name === '' ? `column_${i + 1}` : name
    let k = name === '' ? 1 : 2
    let fresh = name === '' ? base : `${base}_${k}`
    while (taken.has(fresh) || seen.has(fresh)) fresh = `${base}_${++k}`
    seen.add(fresh)
    renamed.push(`column ${i + 1} ${name === '' ? '(empty)' : `'${name}'`} is ${fresh}`)
    return fresh
  })
  return { columns, renamed }
}

/** Line breaks in CSV text: CRLF, LF and a lone CR each end one physical line. */
function lineBreaks (text: string, from = 0, to = text.length): number {
  let n = 0
  for (let i = text.indexOf('\r', from); i >= 0 && i < to; i = text.indexOf('\r', i + 1)) n++
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) if (i === 0 || text.charCodeAt(i - 1) !== 0x0d) n++
  return n
}

/** Where the quote that is still open at the end of `raw` was opened. */
function openQuoteAt (raw: string, quote: string): number {
  let open = -1
  let inside = false
  for (let i = raw.indexOf(quote); i >= 0; i = raw.indexOf(quote, i + 1)) {
    inside = !inside
    if (inside) open = i
  }
  return inside ? open : raw.length
}

/** The physical line each record of one file starts on, for messages and dead-letter entries. */
interface LineCounter { next: number }

/**
 * Where the read stands, for a checkpoint: the file being read, the byte offset and physical
 * line after the last record of it, and how many data records of it were read. A byte offset
 * is exact only while every record's bytes came through the count (invalid UTF-8 does, kept
 * as escapes; a record too long to hold does not): past such a record, a rerun reads the file
 * again from its start, passing over the records already read.
 */
interface CsvTracker {
  file: number
  /** Byte offset after the last record; -1 once it cannot be known exactly. */
  bytes: number
  records: number
  /** Records of this file to pass over (a rerun of a file whose offset was not exact). */
  pass: number
  /** Records emitted over all runs (the position's N). */
  n: number
  embed: boolean
  /** The positions of the lines made and not yet handed downstream, in order. */
  positions: string[]
  /** The byte order mark the file began with, as its parser found it. */
  bom: () => number
  /** Columns a file's header named (kept so that a rerun in the middle of the file knows them). */
  onHeader: (file: number, columns: string[]) => void
}

type RecordOptions = Required<Pick<CsvReadOptions, 'idColumn' | 'contentColumn' | 'cast' | 'noHeader' | 'serialize'>> & { columns?: string[], encoding: CsvEncoding }

/**
 * Turns one file's CSV rows into records `{"_id", "_source"}`. The header (unless --no-header)
 * names the columns; a row of the wrong width or with no id is a record error and the rest
 * flows on.
 */
function rowsToRecords (name: string, o: RecordOptions, ctx: StageContext, quota: { skip: number, limit: number, onLimit: () => void }, lines: LineCounter, track?: CsvTracker): RowMapper {
  const file = name === '-' ? undefined : name
  let columns = o.noHeader ? o.columns : undefined
  let idIndex = columns?.indexOf(o.idColumn) ?? -1
  let contentIndex = columns?.indexOf(o.contentColumn) ?? -1
  // For `serialize`: each column's `"name":` prefix, escaped once per file.
  let keyPrefixes: string[] | undefined
  const setColumns = (given: string[], line: number): void => {
    const { columns: cols, renamed } = uniqueColumns(given)
    if (renamed.length > 0) ctx.logger.warn(`${file ?? 'stdin'} line ${line}: column names repeated or empty, so renamed: ${renamed.join(', ')}`, { file, line })
    columns = cols
    keyPrefixes = o.serialize ? cols.map((c) => JSON.stringify(c) + ':') : undefined
    idIndex = cols.indexOf(o.idColumn)
    contentIndex = cols.indexOf(o.contentColumn)
    if (idIndex < 0) {
      throw new EspipeError('CSV_MISSING_ID_COLUMN', `${file ?? 'stdin'} line ${line} has no column '${o.idColumn}' (columns: ${cols.join(', ')}); name the id column with --id-column`, { context: { file, line, column: o.idColumn } })
    }
  }
  if (columns !== undefined) setColumns(columns, 1)
  // Physical line numbers are counted from the raw text of each record (CRLF, LF or CR ends a
  // line, inside quotes too).
  return (record, raw) => {
    const line = lines.next
    lines.next += lineBreaks(raw)
    if (track !== undefined && track.bytes >= 0) {
      if (track.bytes === 0) track.bytes = track.bom()
      // Bytes that are no character are kept as escapes (utf8.ts): counted as the bytes they were.
      track.bytes += o.encoding === 'utf8' && hasEscapes(raw) ? escapedBytes(raw).length : Buffer.byteLength(raw, o.encoding)
    }
    // Blank lines reach us as one empty field: skipped, but counted as lines.
    if (record.length === 1 && record[0] === '' && raw.trim() === '') return undefined
    if (columns === undefined) {
      // Column names become keys of every record: one that is not text stops the read.
      if (o.encoding === 'utf8' && hasEscapes(raw)) {
        const bad = invalidUtf8Record(escapedBytes(raw.replace(/\r?\n$|\r$/, '')), line)
        throw new EspipeError('CSV_INVALID_ENCODING', `${file ?? 'stdin'} line ${line}, the header, is not valid UTF-8: ${bad.where} (if the file is Latin-1, use --encoding latin1)`, { context: { file, line } })
      }
      const header = record.map((c) => c.trim())
      setColumns(o.columns ?? header, line)
      track?.onHeader(track.file, columns as unknown as string[])
      return undefined
    }
    if (track !== undefined) {
      track.records++
      if (track.pass > 0) { track.pass--; return undefined }
    }
    if (quota.limit <= 0) return undefined
    ctx.stats.add('read')
    const fail = (code: string, message: string): void => {
      ctx.failures.fail({ record: raw.replace(/\r?\n$|\r$/, ''), line, code, message: `${file ?? 'stdin'} line ${line} ${message}`, context: { file } })
    }
    if (o.encoding === 'utf8' && hasEscapes(raw)) {
      // Shown byte for byte, as every espipe reader shows such a line (see invalidUtf8Record).
      const bad = invalidUtf8Record(escapedBytes(raw.replace(/\r?\n$|\r$/, '')), line)
      ctx.failures.fail({ record: bad.record, line, code: 'CSV_INVALID_ENCODING', message: `${file ?? 'stdin'} line ${line} is not valid UTF-8: ${bad.where} (if the file is Latin-1, use --encoding latin1; the record is shown as Latin-1, one character per byte)`, context: { file, ...bad.context } })
      return undefined
    }
    if (record.length !== columns.length) {
      fail('CSV_RECORD_INCONSISTENT_FIELDS_LENGTH', `has ${record.length} fields, the header has ${columns.length}`)
      return undefined
    }
    const id = record[idIndex]
    if (id === undefined || id === '') {
      fail('CSV_MISSING_ID', `has an empty '${o.idColumn}'`)
      return undefined
    }
    if (quota.skip > 0) { quota.skip--; return undefined }
    quota.limit--
    if (quota.limit <= 0) quota.onLimit()
    // This record's place: its line is the last made, so the next run starts after it.
    let member: string | undefined
    let pos: string | undefined
    if (track !== undefined) {
      const position = JSON.stringify([track.file, track.bytes, lines.next, track.records])
      track.positions.push(position)
      track.n++
      if (track.embed) {
        pos = positionText(0, track.n, position)
        member = positionMember(0, track.n, position)
      }
    }
    let source = contentIndex >= 0 ? parseContent(record[contentIndex]) : undefined
    if (source === undefined && keyPrefixes !== undefined) {
      let text = '{"_id":' + JSON.stringify(id) + ',"_source":{'
      for (let i = 0; i < keyPrefixes.length; i++) {
        text += (i === 0 ? '' : ',') + keyPrefixes[i] + (o.cast ? cellJson(castValue(record[i])) : JSON.stringify(record[i]))
      }
      return text + '}' + (member ?? '') + '}'
    }
    if (source === undefined) {
      const row: JsonObject = {}
      for (let i = 0; i < columns.length; i++) row[columns[i]] = o.cast ? castValue(record[i]) : record[i]
      source = row
    }
    if (!o.serialize) return pos === undefined ? { _id: id, _source: source } : { _id: id, _source: source, [POSITION_KEY]: pos }
    const text = stringifyExact({ _id: id, _source: source })
    return member === undefined ? text : text.slice(0, -1) + member + '}'
  }
}

/** The next chunk of `stream`: null at its end; its error if it fails. */
async function nextChunk (stream: Readable): Promise<unknown> {
  for (;;) {
    const chunk: unknown = stream.read()
    if (chunk !== null) return chunk
    if (stream.errored !== null) throw stream.errored
    if (stream.readableEnded || stream.destroyed) return null
    await new Promise<void>((resolve) => {
      const done = (): void => { stream.off('readable', done).off('end', done).off('error', done).off('close', done); resolve() }
      stream.on('readable', done).on('end', done).on('error', done).on('close', done)
    })
  }
}

function countLines (chunk: unknown): number {
  if (typeof chunk === 'string') {
    let n = 0
    for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) n++
    return n
  }
  if (Buffer.isBuffer(chunk)) {
    let n = 0
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) n++
    return n
  }
  return 1
}

/** The files, one stream: their records, as parsed, go downstream as fast as it takes them. */
class CsvStream implements SourceStream {
  readonly id = 0
  done = false

  constructor (private readonly records: Readable, private readonly serialize: boolean, private readonly track?: CsvTracker) {}

  async next (host: PageHost): Promise<void> {
    const first = await nextChunk(this.records)
    if (first === null) {
      this.done = true
      host.ended(this.id)
      return
    }
    // What is parsed already goes on as far as downstream takes it.
    let chunk: unknown = first
    while (chunk !== null && !host.stopped && this.deliver(host, chunk)) {
      chunk = this.records.read() as unknown
    }
  }

  /** One chunk of lines downstream, with the positions of its records (made in the same order). */
  private deliver (host: PageHost, chunk: unknown): boolean {
    const lines = this.serialize ? countLines(chunk) : 1
    const positions = this.track?.positions.splice(0, lines)
    return host.deliver(this.id, chunk, lines, positions)
  }
}

/** What a rerun must match: the same files, read the same way. */
function readKey (files: readonly string[], o: RecordOptions, opts: CsvReadOptions, csv: CsvParseOptions): string {
  return JSON.stringify({ files: files.map((f) => resolve(f)), delimiter: csv.delimiter, quote: csv.quote, encoding: csv.encoding, header: !o.noHeader, columns: o.columns ?? null, id: o.idColumn, content: o.contentColumn, cast: o.cast, skip: opts.skip ?? 0 })
}

/** A position [file, byte offset, next line, data records] from a checkpoint. */
type CsvPosition = [number, number, number, number]

/** A readable stream of records from one or more CSV files (or stdin), one file after another. */
export function csvRead (opts: CsvReadOptions = {}): PagedSource {
  const ctx = opts.context ?? createContext({ tool: 'csv-read', counters: ['read', 'emitted'] })
  const encoding = opts.encoding ?? 'utf8'
  const files = opts.files ?? ['-']
  if (opts.checkpoint !== undefined && files.includes('-')) throw new UsageError('--checkpoint needs files: a rerun cannot read standard input again from where it stopped')
  // --limit ends the input early, as a signal does: nothing more is read.
  const stop = new AbortController()
  const quota = { skip: opts.skip ?? 0, limit: opts.limit ?? Infinity, onLimit: () => stop.abort() }
  const o: RecordOptions = {
    idColumn: opts.idColumn ?? 'id',
    contentColumn: opts.contentColumn ?? 'content',
    cast: opts.cast ?? false,
    serialize: opts.serialize ?? false,
    noHeader: opts.noHeader ?? false,
    columns: opts.columns,
    encoding
  }
  const csvOptions: CsvParseOptions = { encoding, delimiter: opts.delimiter ?? ',', quote: opts.quote ?? '"', maxRecordBytes: ctx.maxLineBytes }
  const quote = csvOptions.quote
  let lines: LineCounter = { next: 1 }
  let records: Readable | undefined
  const source: PageSource = {
    open: async (host, checkpoint) => {
      const signal = AbortSignal.any([ctx.signal, stop.signal])
      let track: CsvTracker | undefined
      let from: CsvPosition = [0, 0, 1, 0]
      // Each file's header, kept as it was read: a reader may have read past the file in
      // which the writer's last committed record is.
      let headers: Record<string, string[]> = {}
      if (checkpoint !== undefined) {
        const key = readKey(files, o, opts, csvOptions)
        const part = checkpoint.load(key, 'files or options')
        if (part?.complete === true) {
          ctx.logger.info(`checkpoint ${checkpoint.file} says this read is complete (${part.emitted} records); nothing to do (delete it to read again)`)
          checkpoint.begin(part)
          return []
        }
        const after = part?.streams[0]?.after
        if (after !== undefined) {
          from = JSON.parse(after) as CsvPosition
          headers = (part?.state.headers ?? {}) as Record<string, string[]>
          // --skip was spent before the first record this position follows.
          quota.skip = 0
          ctx.logger.info(`resuming from checkpoint ${checkpoint.file} (${part?.emitted ?? 0} records written before): ${files[from[0]]} line ${from[2]}`)
        }
        let parser: CsvParser | undefined
        track = {
          file: from[0],
          bytes: from[1],
          records: from[3],
          pass: from[1] < 0 ? from[3] : 0,
          n: part?.streams[0]?.n ?? 0,
          embed: host.embedsPositions,
          positions: [],
          bom: () => parser?.bomBytes ?? 0,
          onHeader: (file, columns) => {
            headers = { ...headers, [file]: columns }
            checkpoint.setState({ headers })
          }
        }
        checkpoint.begin(part ?? { tool: 'csv-read', read: key, state: {}, streams: [{ id: 0, done: false }], emitted: 0, complete: false })
        track.embed = host.embedsPositions
        const t = track
        records = concatInputs(files, (name, index) => {
          const resumed = index === from[0] && from[1] > 0
          lines = { next: index === from[0] ? (resumed ? from[2] : 1) : 1 }
          if (index !== from[0]) {
            t.file = index
            t.bytes = 0
            t.records = 0
            t.pass = 0
          } else if (from[1] < 0) {
            t.bytes = -1
            t.records = 0
          }
          // A file resumed in its middle starts after its header: its columns are the saved ones.
          const saved = headers[String(index)]
          if (resumed && saved === undefined && !o.noHeader) throw new EspipeError('ECHECKPOINT', `checkpoint ${checkpoint.file} resumes ${name} at byte ${from[1]} but does not hold its header; delete the checkpoint to read again`, { context: { file: checkpoint.file } })
          const fileOptions = resumed && saved !== undefined ? { ...o, noHeader: true, columns: saved } : o
          // A record too long to be a record is not one: its bytes no longer come through the
          // count, so this file's positions stop being byte offsets.
          const onLong = longLines(name, () => { t.bytes = -1 })
          parser = new CsvParser({ ...csvOptions, bom: !resumed, onLong }, rowsToRecords(name, fileOptions, ctx, quota, lines, t), o.serialize)
          return [parser]
        }, { signal, mapError, startAt: (index) => index < from[0] ? -1 : index === from[0] && from[1] > 0 ? from[1] : 0 })
        return [new CsvStream(records, o.serialize, track)]
      }
      records = concatInputs(files, (name) => {
        lines = { next: 1 }
        return [new CsvParser({ ...csvOptions, onLong: longLines(name) }, rowsToRecords(name, o, ctx, quota, lines), o.serialize)]
      }, { signal, mapError })
      return [new CsvStream(records, o.serialize)]
    },
    close: async () => {
      stop.abort()
      records?.destroy()
    }
  }
  // A record longer than --max-line-bytes: a record error on the line it starts on.
  const longLines = (name: string, also?: () => void): CsvParseOptions['onLong'] => (long) => {
    if (quota.limit > 0) failLongLine(ctx, { ...long, line: lines.next }, { file: name === '-' ? undefined : name, what: 'the record on line' })
    lines.next += long.lineBreaks
    also?.()
  }
  // The parser's errors (a broken quote) are fatal: name the file and the physical line,
  // counted from where the record began (an unclosed quote: the line it opened on).
  const mapError = (name: string, err: unknown): unknown => {
    const e = err as Error & { code?: string, raw?: string }
    if (err instanceof EspipeError || typeof e.code !== 'string' || !e.code.startsWith('CSV_')) return err
    const file = name === '-' ? undefined : name
    const raw = e.raw ?? ''
    const notClosed = e.code === 'CSV_QUOTE_NOT_CLOSED'
    const line = lines.next + lineBreaks(raw, 0, notClosed ? openQuoteAt(raw, quote) : raw.length)
    const message = notClosed ? 'Quote Not Closed: the quote opened on this line is never closed' : e.message.replace(/ at line \d+/, '')
    return new EspipeError(e.code, `${file ?? 'stdin'} line ${line}: ${message}`, { context: { file, line } })
  }
  // A signal cuts the inputs (stdin after a grace: see openInput), and the records parsed
  // before the cut still go out.
  return new PagedSource({ tool: 'csv-read', context: ctx, source, objectMode: true, highWaterMark: 64, stopsOnSignal: true, limit: opts.limit, checkpoint: opts.checkpoint, positions: opts.positions })
}
