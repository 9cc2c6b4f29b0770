import type { ByteWriter, ColumnKind, WriterOptions } from './values.js'
import { ValueError, byteWriter, copy, idWriter, partText, plainValue, quoteJson, writeJsonText } from './values.js'
import type { LineBuffer } from './line-buffer.js'
import type { SourceColumn } from './source.js'

export interface RowFormatOptions extends WriterOptions {
  /** `_index` of every record; none leaves the member out. */
  index?: string
  /** Columns whose values make `_id` (one: its text; several: see idFromParts); none: no `_id`. */
  idColumns?: readonly string[]
  /** Its JSON text is `_source`, as stored. */
  contentColumn?: string
  /** Columns whose values make the cursor, in ORDER BY order (--since-column, then the key). */
  cursorColumns?: readonly string[]
  /** A column whose value, when not NULL or 0, makes the row's record `{"_index","_id","_op":"delete"}` (--deleted-column). */
  deletedColumn?: string
}

/**
 * The `_id` of a composite key: each part's text with `%` written `%25` and `,` written `%2C`,
 * joined by commas. So `1,a%2Cb` is the key (1, 'a,b'), and any id splits back exactly
 * (`split(',').map(decodeURIComponent)`). A one-column key is its text as it is.
 */
export function idFromParts (parts: readonly string[]): string {
  if (parts.length === 1) return parts[0]
  return parts.map((p) => p.includes('%') || p.includes(',') ? p.replace(/%/g, '%25').replace(/,/g, '%2C') : p).join(',')
}

/** How many bytes of output a value of each kind can take per byte of input (JSON escapes: \u00xx). */
function growth (kind: ColumnKind): number {
  return kind === 'text' || kind === 'enum' || kind === 'set' ? 6 : 2
}

interface Part { at: number, kind: ColumnKind, name: string }

const ascii = (s: string): Buffer => Buffer.from(s, 'utf8')
const NULL = ascii('null')
/** A deleted row's record ends after its id: the operation, and no _source. */
const DELETE_MEMBER = ',"_op":"delete"'

/**
 * Builds each row's NDJSON line, `{"_index":…,"_id":…,"_source":{…}}`, as bytes, from the row
 * packet the server sent: the values' offsets are read into `spans`, then each column's writer
 * copies (or converts) its bytes into the line.
 */
export class RowFormat {
  readonly names: string[]
  /** Per column [start, end) in the row's bytes; start -1 for NULL. */
  readonly spans: Int32Array
  private readonly kinds: ColumnKind[]
  private readonly head: Buffer
  private readonly sourceKey: Buffer
  private readonly members: Array<{ at: number, key: Buffer, write: ByteWriter }>
  private readonly ids: Part[]
  private readonly idWrite: ByteWriter | undefined
  private readonly cursorAt: Part[]
  private readonly content: { at: number, name: string, trusted: boolean } | undefined
  private readonly growths: Float64Array
  private readonly fixed: number
  private readonly deletedAt: number

  constructor (columns: readonly SourceColumn[], opts: RowFormatOptions) {
    this.names = columns.map((c) => c.name)
    this.kinds = columns.map((c) => c.kind)
    this.spans = new Int32Array(columns.length * 2)
    const at = (name: string): number => columns.findIndex((c) => c.name === name)
    const part = (name: string): Part => ({ at: at(name), kind: columns[at(name)].kind, name })
    this.ids = (opts.idColumns ?? []).map(part)
    this.idWrite = this.ids.length === 1 ? idWriter(this.ids[0].kind) : undefined
    this.cursorAt = (opts.cursorColumns ?? []).map(part)
    const ci = opts.contentColumn === undefined ? -1 : at(opts.contentColumn)
    this.content = ci < 0 ? undefined : { at: ci, name: columns[ci].name, trusted: columns[ci].kind === 'json' }
    this.head = ascii((opts.index === undefined ? '{' : `{"_index":${quoteJson(opts.index)},`) + (this.ids.length > 0 ? '"_id":' : ''))
    this.sourceKey = ascii(this.ids.length > 0 ? ',"_source":' : '"_source":')
    this.members = []
    columns.forEach((c, i) => {
      if (!c.inSource || i === ci) return
      this.members.push({ at: i, key: ascii((this.members.length === 0 ? '{' : ',') + quoteJson(c.name) + ':'), write: byteWriter(c.kind, c.name, { ...opts, zerofill: c.zerofill, float32: c.float32 }) })
    })
    this.growths = Float64Array.from(columns, (c, i) => growth(c.kind) * (this.ids.some((p) => p.at === i) ? 2 : 1))
    this.deletedAt = opts.deletedColumn === undefined ? -1 : at(opts.deletedColumn)
    this.fixed = this.head.length + this.sourceKey.length + this.members.reduce((n, m) => n + m.key.length, 0) + 64 * (columns.length + 1)
  }

  /** Reads the values' offsets of a text-protocol row packet, src[off, end): each a length-coded string or NULL. */
  readRow (src: Buffer, off: number): void {
    const spans = this.spans
    for (let i = 0; i < spans.length; i += 2) {
      let len = src[off++]
      if (len === 0xfb) { spans[i] = -1; continue }
      if (len === 0xfc) { len = src[off] | (src[off + 1] << 8); off += 2 } else if (len === 0xfd) { len = src[off] | (src[off + 1] << 8) | (src[off + 2] << 16); off += 3 } else if (len === 0xfe) { len = src.readUInt32LE(off) + src.readUInt32LE(off + 4) * 2 ** 32; off += 8 }
      spans[i] = off
      spans[i + 1] = off + len
      off += len
    }
  }

  /** For a row given as one Buffer per value (or null): the same spans, over one Buffer of them all. */
  joinValues (values: ReadonlyArray<Buffer | null>): Buffer {
    let off = 0
    values.forEach((v, i) => {
      this.spans[2 * i] = v === null ? -1 : off
      this.spans[2 * i + 1] = v === null ? -1 : (off += v.length)
    })
    return Buffer.concat(values.filter((v): v is Buffer => v !== null))
  }

  /** An upper bound of the line's bytes, for LineBuffer.reserve. */
  maxBytes (): number {
    const spans = this.spans
    let n = this.fixed
    for (let i = 0; i < spans.length; i += 2) if (spans[i] >= 0) n += (spans[i + 1] - spans[i]) * this.growths[i >> 1]
    return n
  }

  /**
   * Writes the row's line (with its newline), with `member` (`,"key":value`) last in its
   * object; throws ValueError, leaving the line unfinished (roll it back).
   */
  write (out: LineBuffer, src: Buffer, member?: string): void {
    const spans = this.spans
    copy(out, this.head, 0, this.head.length)
    if (this.idWrite !== undefined) {
      const { at, name } = this.ids[0]
      const a = spans[2 * at]
      if (a < 0) throw new ValueError('ROW_NULL_ID', `id column ${name} is NULL`, name)
      this.idWrite(out, src, a, spans[2 * at + 1])
    } else if (this.ids.length > 0) {
      out.pos += out.buf.write(quoteJson(this.id(src) as string), out.pos, 'utf8')
    }
    if (this.deleted(src)) {
      out.pos += out.buf.write(DELETE_MEMBER, out.pos, 'latin1')
      if (member !== undefined) out.pos += out.buf.write(member, out.pos, 'utf8')
      out.buf[out.pos++] = 0x7d
      out.endLine()
      return
    }
    copy(out, this.sourceKey, 0, this.sourceKey.length)
    if (this.content !== undefined) {
      const { at, name, trusted } = this.content
      const a = spans[2 * at]
      if (a < 0) throw new ValueError('ROW_NULL_CONTENT', `content column ${name} is NULL`, name)
      writeJsonText(out, src, a, spans[2 * at + 1], name, trusted, true)
    } else {
      const members = this.members
      if (members.length === 0) out.buf[out.pos++] = 0x7b // {
      for (let i = 0; i < members.length; i++) {
        const m = members[i]
        copy(out, m.key, 0, m.key.length)
        const a = spans[2 * m.at]
        if (a < 0) {
          copy(out, NULL, 0, 4)
        } else {
          m.write(out, src, a, spans[2 * m.at + 1])
        }
      }
      out.buf[out.pos++] = 0x7d // }
    }
    if (member !== undefined) out.pos += out.buf.write(member, out.pos, 'utf8')
    out.buf[out.pos++] = 0x7d
    out.endLine()
  }

  /** Whether the row is deleted (--deleted-column): its flag is neither NULL nor 0. */
  deleted (src: Buffer): boolean {
    if (this.deletedAt < 0) return false
    const a = this.spans[2 * this.deletedAt]
    const b = this.spans[2 * this.deletedAt + 1]
    return a >= 0 && !(b - a === 1 && src[a] === 0x30 /* 0 */)
  }

  /** The record's `_id` as a string (for messages and dead-letter entries); throws ValueError when a key part is NULL. */
  id (src: Buffer): string | undefined {
    if (this.ids.length === 0) return undefined
    return idFromParts(this.ids.map(({ at, kind, name }) => {
      const a = this.spans[2 * at]
      if (a < 0) throw new ValueError('ROW_NULL_ID', `id column ${name} is NULL`, name)
      return partText(kind, src, a, this.spans[2 * at + 1])
    }))
  }

  /** The row's place in the read: the texts of its cursor columns, or undefined if one is NULL. */
  cursor (src: Buffer): string[] | undefined {
    const out = new Array<string>(this.cursorAt.length)
    for (let i = 0; i < this.cursorAt.length; i++) {
      const { at, kind } = this.cursorAt[i]
      const a = this.spans[2 * at]
      if (a < 0) return undefined
      out[i] = partText(kind, src, a, this.spans[2 * at + 1], true)
    }
    return out
  }

  /** Keeps where the current row's cursor values are (read later with savedCursor, over the same bytes). */
  saveCursor (into: Int32Array): void {
    for (let i = 0; i < this.cursorAt.length; i++) {
      const at = this.cursorAt[i].at
      into[2 * i] = this.spans[2 * at]
      into[2 * i + 1] = this.spans[2 * at + 1]
    }
  }

  /** The cursor of a row kept with saveCursor; undefined if a value is NULL. */
  savedCursor (src: Buffer, saved: Int32Array): string[] | undefined {
    const out = new Array<string>(this.cursorAt.length)
    for (let i = 0; i < this.cursorAt.length; i++) {
      if (saved[2 * i] < 0) return undefined
      out[i] = partText(this.cursorAt[i].kind, src, saved[2 * i], saved[2 * i + 1], true)
    }
    return out
  }

  /** The column that made the cursor NULL, for the message. */
  nullCursorColumn (): string | undefined {
    return this.cursorAt.find(({ at }) => this.spans[2 * at] < 0)?.name
  }

  /** The row as a plain object (binary as base64, numbers as the server's text), for a dead-letter entry. */
  plain (src: Buffer): Record<string, unknown> {
    const o: Record<string, unknown> = {}
    this.names.forEach((n, i) => {
      const a = this.spans[2 * i]
      o[n] = a < 0 ? null : plainValue(this.kinds[i], src, a, this.spans[2 * i + 1])
    })
    return o
  }
}
