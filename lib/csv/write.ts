import { Transform } from 'node:stream'
import type { StageContext } from '../core/context.js'
import { createContext } from '../core/context.js'
import { Coalescer } from '../core/coalesce.js'
import { UsageError } from '../core/errors.js'
import type { WriteLedger } from '../core/ledger.js'
import { ParsedLine } from '../core/ndjson.js'
import type { JsonObject } from '../core/record.js'
import { RECORD_FIELDS, idToString, isJsonObject } from '../core/record.js'
import { RecordFields } from '../core/record-fields.js'
import type { OrderedAcks } from '../core/checkpoint-writer.js'
import { POSITION_KEY } from '../core/position.js'
import { OP_KEY, isOpProblem, recordOp } from '../core/operation.js'
import { OpApplier } from '../core/apply-ops.js'
import { recordId } from '../core/ndjson.js'
import { doneWhen } from '../core/callback.js'
import { stringifyExact } from '../core/json.js'
import { leafPathsOfJson } from './columns.js'
import type { CsvDialect } from './dialect.js'
import { checkDialect } from './dialect.js'
import { RowFormatter } from './format.js'
import type { ExtraKeys, RowProblem } from './placer.js'
import { RowPlacer, isRowProblem } from './placer.js'
import { ColumnSample } from './sample.js'

export type { ExtraKeys } from './placer.js'
export { EXTRA_KEYS } from './placer.js'

/** `deleted`, `not found` and `skipped` count what --apply-ops did with records that carry `_op` (shown once they count one). */
export const CSV_WRITE_COUNTERS: Array<string | [string, string]> = ['read', 'written', ['partial', 'keys outside the columns left out'], 'deleted', 'not found', ['skipped', 'duplicate id']]

export interface CsvWriteOptions extends Partial<CsvDialect> {
  /** Dot paths into the content, in order; without them the columns come from the first `sample` records. */
  columns?: string[]
  /** How many records to look at for the columns when none are given (default 1000). */
  sample?: number
  /** End the sample, and write what it holds, once no record has come for this long (a trickle). */
  sampleIdleMs?: number
  /** The id's column (default `id`; first, unless the content or `columns` has a key of that name); false: no id column. */
  idColumn?: string | false
  idField?: string
  contentField?: string
  extraKeys?: ExtraKeys
  /** Write the header line (default true). */
  header?: boolean
  crlf?: boolean
  bom?: boolean
  escapeFormulas?: boolean
  /**
   * Counts `written` as the sink confirms the bytes (fileSink / ledgerSink with the same
   * ledger); without one, a record counts as written when its row is made.
   */
  ledger?: WriteLedger
  /** With --checkpoint: each record's ticket, settled once its bytes are committed (see OrderedAcks). */
  acks?: OrderedAcks
  /** Write the end state of the records' operations (`_op`) instead of the records, in id order (see OpApplier). */
  applyOps?: boolean
  /** Where --apply-ops sorts (default: the OS temporary directory). */
  tmpdir?: string
  context?: StageContext
}

const NO_CONTENT: JsonObject = Object.freeze({})

/** One record on its way to a row (a class: one shape for every record keeps V8 on its fast path). */
class Pending {
  content: JsonObject = NO_CONTENT
  id: string | undefined = undefined
  /** Its ticket with the checkpoint's writer (--checkpoint). */
  ticket: number | undefined = undefined
  constructor (
    /** The line it came as; undefined for an object given in code. */
    readonly parsed: ParsedLine | undefined,
    readonly value: unknown,
    /** Its number among the records read, to name an object given in code. */
    readonly n: number
  ) {}

  /** How messages name it. */
  get where (): string {
    return this.parsed === undefined ? `record ${this.n}` : `line ${this.parsed.line}`
  }
}

/** Takes from each record what its row is made of: its id (unless --no-id) and its content object. */
class RowParts {
  readonly getId: RecordFields['getId']
  readonly getContent: RecordFields['getContent']
  readonly idPath: string
  readonly contentPath: string
  constructor (private readonly fields: RecordFields, private readonly withId: boolean) {
    this.getId = fields.getId
    this.getContent = fields.getContent
    this.idPath = fields.idPath
    this.contentPath = fields.contentPath
  }

  /** Fills the record's id and content, or says why it has none. */
  read (rec: Pending): RowProblem | undefined {
    // Every number as written: the line is parsed again only when JSON.parse changed one.
    const value = rec.parsed === undefined ? rec.value : rec.parsed.exact
    if (!isJsonObject(value)) return { code: 'RECORD_NOT_OBJECT', message: `${rec.where} is not a JSON object` }
    if (this.withId) {
      rec.id = idToString(this.fields.getId(value))
      if (rec.id === undefined) return { code: 'RECORD_MISSING_ID', message: `${rec.where} has no id at '${this.fields.idPath}' (--no-id writes rows without one)` }
    }
    const op = recordOp(undefined, value)
    if (isOpProblem(op)) return op
    let content = this.fields.getContent(value)
    // A record that carries its operation keeps it, as a column: the file replays (a delete has its id alone).
    if (op === 'delete' && content === undefined) content = NO_CONTENT
    if (op !== undefined && this.fields.contentKey !== '' && isJsonObject(content)) content = { [OP_KEY]: op, ...content }
    if (content === undefined) return { code: 'RECORD_MISSING_CONTENT', message: `${rec.where} has no content at '${this.fields.contentPath}'` }
    if (!isJsonObject(content)) return { code: 'RECORD_CONTENT_NOT_OBJECT', message: `${rec.where}: the content at '${this.fields.contentPath}' is not an object, so it has no columns` }
    // The whole record is the content: its checkpoint position is not a column.
    if (this.fields.contentKey === '' && POSITION_KEY in content) {
      const { [POSITION_KEY]: _pos, ...rest } = content
      rec.content = rest
      return undefined
    }
    rec.content = content
    return undefined
  }
}

/** What csvWrite does unless told; csv-write's options show these. */
export const CSV_WRITE_DEFAULTS = { sample: 1000, idColumn: 'id', extraKeys: 'fail' as ExtraKeys, ...RECORD_FIELDS }

/** The options checked before any record is read: what to take from a record, and the columns if given. */
function checkOptions (opts: CsvWriteOptions): { dialect: CsvDialect, sample: number, idColumn: string | false } {
  const dialect = checkDialect(opts)
  const sample = opts.sample ?? CSV_WRITE_DEFAULTS.sample
  if (!Number.isInteger(sample) || sample < 1) throw new UsageError(`invalid value for --sample: ${sample} (must be at least 1)`)
  if (opts.bom === true && dialect.encoding === 'latin1') throw new UsageError('--bom needs --encoding utf8 or utf16le: Latin-1 has no byte order mark')
  const given = opts.columns
  if (given !== undefined) {
    if (given.length === 0) throw new UsageError('--columns needs at least one column')
    const twice = given.find((c, i) => given.indexOf(c) !== i)
    if (twice !== undefined) throw new UsageError(`--columns names '${twice}' twice`)
  }
  const idColumn = opts.idColumn === undefined ? CSV_WRITE_DEFAULTS.idColumn : opts.idColumn
  if (idColumn === '') throw new UsageError('--id-column needs a name (--no-id leaves the id out)')
  return { dialect, sample, idColumn }
}

/**
 * Records in (parsed lines or plain objects), CSV bytes out: a header of column paths, then
 * one row per record (RowPlacer). Without `columns`, the first `sample` records are held to
 * learn the columns (ColumnSample), then written in input order.
 */
/** --apply-ops' applier, once its options are checked. */
function newApplier (opts: CsvWriteOptions, contentField: string): OpApplier {
  if (opts.acks !== undefined) throw new UsageError('--apply-ops writes the file only once the input has ended, so nothing could be acknowledged as it goes: it cannot be combined with --checkpoint')
  const fields = new RecordFields(opts.idField, contentField)
  if (fields.contentKey === undefined) throw new UsageError(`--apply-ops merges updates into a top-level --content-field or the whole record (.), not ${contentField}`)
  return new OpApplier({ fields, tmpdir: opts.tmpdir, prefix: 'csv-write-' })
}

export function csvWrite (opts: CsvWriteOptions = {}, resume?: { columns?: unknown }): Transform & { outputState: () => Record<string, unknown> } {
  const ctx = opts.context ?? createContext({ tool: 'csv-write', counters: CSV_WRITE_COUNTERS })
  const { dialect, sample: sampleSize, idColumn } = checkOptions(opts)
  const contentField = opts.contentField ?? CSV_WRITE_DEFAULTS.contentField
  const parts = new RowParts(new RecordFields(opts.idField, contentField), idColumn !== false)
  const contentPath = contentField === '.' || contentField === '' ? [] : contentField.replace(/^\./, '').split('.')
  const formatter = new RowFormatter({ ...dialect, escapeFormulas: opts.escapeFormulas })
  const eol = opts.crlf === true ? '\r\n' : '\n'
  const sample = opts.columns === undefined && resume?.columns === undefined ? new ColumnSample<Pending>(sampleSize) : undefined
  let placer: RowPlacer | undefined

  const fail = (rec: Pending, code: string, message: string): void => {
    const { parsed } = rec
    ctx.failures.fail({ record: parsed?.text ?? rec.value, line: parsed?.line, code, message, context: { file: parsed?.file } })
    if (rec.ticket !== undefined) opts.acks?.done(rec.ticket)
  }
  // A file continued after a crash has its header already, with the columns it was given then.
  const resumed = Array.isArray(resume?.columns) ? resume.columns as string[] : undefined

  /** Runs one record's work; a record nested deeper than the stack allows is a failed record, not the end of the run. */
  const guard = (rec: Pending, work: () => void): void => {
    try {
      work()
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      fail(rec, 'RECORD_TOO_DEEP', `${rec.where} is nested too deeply to be written (${err.message})`)
    }
  }

  const fixColumns = (columns: string[], header = opts.header !== false): void => {
    const cols = idColumn !== false && !columns.includes(idColumn) ? [idColumn, ...columns] : columns
    placer = new RowPlacer({ columns: cols, idColumn, formatter, encoding: dialect.encoding, extraKeys: opts.extraKeys ?? CSV_WRITE_DEFAULTS.extraKeys, warn: (m) => ctx.logger.warn(m) })
    if (header && cols.length > 0) out.add(placer.header() + eol)
  }

  const write = (rec: Pending): void => {
    if (placer === undefined) return
    const line = placer.line(rec.content, rec.id, rec.where)
    if (isRowProblem(line)) return fail(rec, line.code, line.message)
    if (line.partial) ctx.stats.add('partial')
    if (opts.ledger === undefined) ctx.stats.add('written')
    if (rec.ticket !== undefined) opts.acks?.written(rec.ticket)
    out.add(line.text + eol, 1)
  }

  const endSample = (): void => {
    const learned = sample?.end(idColumn)
    if (learned === undefined) return
    fixColumns(learned.columns)
    for (const rec of learned.records) guard(rec, () => write(rec))
  }

  /** A record's id and content, then its row (or its place in the sample). */
  const handle = (rec: Pending): void => {
    const problem = parts.read(rec)
    if (problem !== undefined) return fail(rec, problem.code, problem.message)
    if (sample?.open !== true) return write(rec)
    const { parsed } = rec
    if (sample.hold(rec, rec.content, parsed === undefined ? undefined : () => leafPathsOfJson(parsed.text, contentPath))) endSample()
    else if (opts.sampleIdleMs !== undefined) {
      clearTimeout(idle)
      idle = setTimeout(() => {
        try {
          endSample()
          out.flush()
        } catch (err) {
          stream.destroy(err as Error)
        }
      }, opts.sampleIdleMs)
    }
  }
  let idle: NodeJS.Timeout | undefined

  const applier = opts.applyOps === true ? newApplier(opts, contentField) : undefined
  ctx.stats.showOnceCounted('deleted', 'not found', 'skipped')
  /** --apply-ops: a record checked and handed to the applier; its row comes with the end state. */
  const apply = (rec: Pending, a: OpApplier): Promise<void> | undefined => {
    const value = rec.parsed === undefined ? rec.value : rec.parsed.exact
    if (!isJsonObject(value)) { fail(rec, 'RECORD_NOT_OBJECT', `${rec.where} is not a JSON object`); return }
    const op = recordOp(undefined, value)
    if (isOpProblem(op)) { fail(rec, op.code, op.message); return }
    const id = recordId(rec.parsed ?? value, parts.getId)
    if (id === undefined) { fail(rec, 'RECORD_MISSING_ID', `${rec.where} has no id at '${parts.idPath}' (--apply-ops finds each id's records by it)`); return }
    const content = parts.getContent(value)
    if (op !== 'delete' && !isJsonObject(content)) { fail(rec, content === undefined ? 'RECORD_MISSING_CONTENT' : 'RECORD_CONTENT_NOT_OBJECT', `${rec.where} has no content object at '${parts.contentPath}'`); return }
    return a.add(id, rec.parsed?.text ?? stringifyExact(value), rec.parsed?.line, rec.parsed?.file)
  }
  let wake: (() => void) | undefined
  /** Each id's end state through the rows' way, waiting for the output's reader (it can be larger than memory). */
  const applied = async (a: OpApplier): Promise<void> => {
    let n = 0
    for await (const r of a.results()) {
      if (stream.destroyed) return
      const rec = new Pending(undefined, r.value, ++n)
      guard(rec, () => handle(rec))
      if (stream.readableLength >= stream.readableHighWaterMark) await new Promise<void>((resolve) => { wake = resolve })
    }
    const { deleted, notFound, skipped } = a.counts
    if (deleted > 0) ctx.stats.add('deleted', deleted)
    if (notFound > 0) ctx.stats.add('not found', notFound)
    if (skipped > 0) ctx.stats.add('skipped', skipped)
  }
  const finish = (): void => {
    endSample()
    out.flush()
    const outside = placer?.outsideSummary()
    if (outside !== undefined) ctx.logger.warn(outside)
  }

  const stream = new Transform({
    writableObjectMode: true,
    writableHighWaterMark: 16,
    transform (chunk: unknown, _enc, done) {
      try {
        const parsed = chunk instanceof ParsedLine ? chunk : undefined
        // Parsed lines were counted by the parser; objects handed in by code are counted here.
        if (parsed === undefined) ctx.stats.add('read')
        const rec = new Pending(parsed, parsed === undefined ? chunk : parsed.value, ctx.stats.get('read'))
        if (applier !== undefined) { doneWhen(apply(rec, applier), done); return }
        rec.ticket = opts.acks?.take(parsed?.raw, parsed?.raw === undefined ? rec.value as JsonObject : undefined, rec.where)
        guard(rec, () => handle(rec))
        done()
      } catch (err) {
        done(err as Error)
      }
    },
    flush (done) {
      clearTimeout(idle)
      if (applier !== undefined) {
        applied(applier).then(() => { finish() }).then(async () => { await applier.dispose(); done() }, async (err: unknown) => { await applier.dispose(); done(err as Error) })
        return
      }
      try {
        finish()
        done()
      } catch (err) {
        done(err as Error)
      }
    },
    destroy (err, done) {
      clearTimeout(idle)
      out.cancel()
      wake?.()
      if (applier === undefined) { done(err); return }
      applier.dispose().then(() => { done(err) }, () => { done(err) })
    }
  })
  // The output's reader asks for more: the end state held back for it may go on.
  const read = stream._read.bind(stream)
  stream._read = (size: number) => { read(size); const w = wake; wake = undefined; w?.() }

  const out = new Coalescer(stream, dialect.encoding, opts.ledger)
  if (resumed !== undefined) {
    // The columns as the header has them (the id column placed already).
    placer = new RowPlacer({ columns: resumed, idColumn, formatter, encoding: dialect.encoding, extraKeys: opts.extraKeys ?? CSV_WRITE_DEFAULTS.extraKeys, warn: (m) => ctx.logger.warn(m) })
  } else {
    if (opts.bom === true) out.add('\uFEFF')
    if (opts.columns !== undefined) fixColumns(opts.columns)
  }
  return Object.assign(stream, { outputState: () => placer === undefined ? {} : { columns: placer.columns } })
}
