import { EspipeError } from '../core/errors.js'

/**
 * Reads a search response from its raw bytes without building objects for the hits: each hit's
 * output line is copied together from byte ranges of the response, so `_source` stays
 * byte-exact (big numbers included), nothing is decoded and encoded again, and `search_after`
 * gets back exactly the sort values the server sent (Long.MIN/MAX sentinels do not survive
 * `JSON.parse`, ES-NOTES "Point in time"). Every structural character of JSON is ASCII, and no
 * byte of a multi-byte UTF-8 character is, so the scan is the same on bytes as on text.
 */

export interface ShardsInfo {
  total: number
  successful: number
  skipped?: number
  failed: number
  failures?: Array<{ shard?: number, index?: string, reason?: { type?: string, reason?: string } }>
}

const QUOTE = 34
const BACKSLASH = 92
const OPEN_BRACE = 123
const CLOSE_BRACE = 125
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93
const COMMA = 44
const COLON = 58
const NEWLINE = 10
const RETURN = 13

/** One page of hits: their NDJSON lines as bytes, and the page's paging state. */
export class SearchPage {
  pitId?: string
  scrollId?: string
  shards?: ShardsInfo
  timedOut = false
  private decodedLines: string[] | undefined

  /**
   * @param ndjson one line per hit, each ending in "\n": `_index`, `_id`, `_routing` when set,
   *   `_source`, `fields` when asked
   * @param ends where each hit's line ends in `ndjson` (just past its "\n")
   * @param sorts each hit's raw `sort` array, as the server sent it (undefined when absent)
   */
  constructor (readonly ndjson: Buffer, readonly ends: readonly number[], readonly sorts: ReadonlyArray<string | undefined>) {}

  /** How many hits the page holds. */
  get count (): number {
    return this.ends.length
  }

  /** The NDJSON bytes of the first `n` hits. */
  head (n: number): Buffer {
    if (n >= this.ends.length) return this.ndjson
    return this.ndjson.subarray(0, n > 0 ? this.ends[n - 1] : 0)
  }

  /**
   * The NDJSON bytes of the first `n` hits, each with `member(i)` (`,"key":value`) last in its
   * object: one copy of the lines, in one buffer.
   */
  headWith (n: number, member: (i: number) => string): Buffer {
    const members = Array.from({ length: n }, (_v, i) => Buffer.from(member(i), 'utf8'))
    let size = n > 0 ? this.ends[n - 1] : 0
    for (const m of members) size += m.length
    const out = Buffer.allocUnsafe(size)
    let at = 0
    let from = 0
    for (let i = 0; i < n; i++) {
      // Each line ends in "}\n": the member goes before that brace.
      const end = this.ends[i] - 2
      at += this.ndjson.copy(out, at, from, end)
      at += members[i].copy(out, at)
      out[at++] = 0x7d
      out[at++] = 0x0a
      from = this.ends[i]
    }
    return out
  }

  /**
   * Hit `i`'s `_index` and `_id` as the text of a JSON array (`["logs","a1"]`), read from the
   * start of its line, where they are as the server wrote them (`null` for a hit without `_index`).
   */
  key (i: number): string {
    const bytes = this.ndjson
    let at = (i === 0 ? 0 : this.ends[i - 1]) + 1
    let index = 'null'
    if (startsAt(bytes, at, PREFIX_INDEX)) {
      at += PREFIX_INDEX.length
      const end = skipValue(bytes, at)
      index = bytes.toString('utf8', at, end)
      at = end + 1
    }
    if (!startsAt(bytes, at, PREFIX_ID)) throw bad(bytes, at, 'hit line without _id')
    at += PREFIX_ID.length
    return `[${index},${bytes.toString('utf8', at, skipValue(bytes, at))}]`
  }

  /** One NDJSON line per hit, as text (decoded on first use). */
  get lines (): string[] {
    if (this.decodedLines === undefined) {
      const lines: string[] = []
      let from = 0
      for (const end of this.ends) {
        lines.push(this.ndjson.toString('utf8', from, end - 1))
        from = end
      }
      this.decodedLines = lines
    }
    return this.decodedLines
  }
}

function startsAt (bytes: Buffer, at: number, prefix: Buffer): boolean {
  if (at + prefix.length > bytes.length) return false
  for (let k = 0; k < prefix.length; k++) if (bytes[at + k] !== prefix[k]) return false
  return true
}

function isWs (c: number): boolean {
  return c === 32 || c === NEWLINE || c === RETURN || c === 9
}

function bad (bytes: Buffer, at: number, why: string): EspipeError {
  const near = bytes.toString('utf8', Math.max(0, at - 20), Math.min(bytes.length, at + 20))
  return new EspipeError('ES_BAD_RESPONSE', `unreadable search response at byte ${at} (${why}) near '${near}'`)
}

function skipWs (bytes: Buffer, i: number): number {
  while (i < bytes.length && isWs(bytes[i])) i++
  return i
}

/** `i` is at the opening quote; returns the index after the closing quote. */
function skipString (bytes: Buffer, i: number): number {
  // A byte at a time beats indexOf here: most strings are a few bytes, and each indexOf is a
  // call into C++.
  const n = bytes.length
  for (let j = i + 1; j < n; j++) {
    const c = bytes[j]
    if (c === QUOTE) return j + 1
    if (c === BACKSLASH) j++
  }
  throw bad(bytes, i, 'unterminated string')
}

/** Returns the index just after the JSON value starting at `i` (no leading whitespace). */
export function skipValue (bytes: Buffer, i: number): number {
  const c = bytes[i]
  if (c === QUOTE) return skipString(bytes, i)
  const n = bytes.length
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0
    for (let j = i; j < n; j++) {
      const d = bytes[j]
      if (d === QUOTE) { j = skipString(bytes, j) - 1; continue }
      // `{` and `[` differ only in bit 5, as do `}` and `]`: one test each, on every byte.
      const folded = d & 0xDF
      if (folded === OPEN_BRACKET) depth++
      else if (folded === CLOSE_BRACKET && --depth === 0) return j + 1
    }
    throw bad(bytes, i, 'unterminated object')
  }
  let j = i
  while (j < n) {
    const d = bytes[j]
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isWs(d)) break
    j++
  }
  if (j === i) throw bad(bytes, i, 'value expected')
  return j
}

/** A key's text; an escaped one (`"_\u0069d"`) is decoded. */
function keyText (bytes: Buffer, start: number, end: number): string {
  const raw = bytes.toString('utf8', start + 1, end - 1)
  return raw.includes('\\') ? JSON.parse(bytes.toString('utf8', start, end)) as string : raw
}

/**
 * Calls `member` for each key of the object at `i`; returns the index after the object. A
 * callback that reads the value itself returns where it ends, so no byte is scanned twice.
 */
function eachMember<K> (bytes: Buffer, i: number, keyOf: (bytes: Buffer, start: number, end: number) => K, member: (key: K, start: number) => number | undefined): number {
  if (bytes[i] !== OPEN_BRACE) throw bad(bytes, i, 'object expected')
  i = skipWs(bytes, i + 1)
  if (bytes[i] === CLOSE_BRACE) return i + 1
  for (;;) {
    if (bytes[i] !== QUOTE) throw bad(bytes, i, 'key expected')
    const keyEnd = skipString(bytes, i)
    const key = keyOf(bytes, i, keyEnd)
    i = skipWs(bytes, keyEnd)
    if (bytes[i] !== COLON) throw bad(bytes, i, "':' expected")
    const start = skipWs(bytes, i + 1)
    const end = member(key, start) ?? skipValue(bytes, start)
    i = skipWs(bytes, end)
    const c = bytes[i]
    if (c === CLOSE_BRACE) return i + 1
    if (c !== COMMA) throw bad(bytes, i, "',' or '}' expected")
    i = skipWs(bytes, i + 1)
  }
}

/** Calls `element` for each value of the array at `i`. */
function eachElement (bytes: Buffer, i: number, element: (start: number) => number | undefined): number {
  if (bytes[i] !== OPEN_BRACKET) throw bad(bytes, i, 'array expected')
  i = skipWs(bytes, i + 1)
  if (bytes[i] === CLOSE_BRACKET) return i + 1
  for (;;) {
    const end = element(i) ?? skipValue(bytes, i)
    i = skipWs(bytes, end)
    const c = bytes[i]
    if (c === CLOSE_BRACKET) return i + 1
    if (c !== COMMA) throw bad(bytes, i, "',' or ']' expected")
    i = skipWs(bytes, i + 1)
  }
}

/** The raw text of each element of a JSON array, unparsed. */
export function rawElements (array: string): string[] {
  const bytes = Buffer.from(array)
  const out: string[] = []
  eachElement(bytes, skipWs(bytes, 0), (s) => {
    const e = skipValue(bytes, s)
    out.push(bytes.toString('utf8', s, e))
    return e
  })
  return out
}

/** Drops the insignificant whitespace of `bytes[start, end)` in place; returns the new end. */
function compactRange (bytes: Buffer, start: number, end: number): number {
  let w = start
  for (let r = start; r < end; r++) {
    const c = bytes[r]
    if (c === QUOTE) {
      const close = skipString(bytes, r)
      bytes.copyWithin(w, r, close)
      w += close - r
      r = close - 1
    } else if (!isWs(c)) bytes[w++] = c
  }
  return w
}

/** Drops insignificant whitespace (a pretty-printed response must still give one line per hit). */
export function compactJson (text: string): string {
  const bytes = Buffer.from(text)
  return bytes.toString('utf8', 0, compactRange(bytes, 0, bytes.length))
}

/** The hit members a line is made of, as small numbers for a switch. */
const Key = { Other: 0, Index: 1, Id: 2, Routing: 3, Source: 4, Fields: 5, Sort: 6 } as const
type Key = typeof Key[keyof typeof Key]

const KEYS: ReadonlyArray<[Buffer, Key]> = [
  [Buffer.from('_index'), Key.Index],
  [Buffer.from('_id'), Key.Id],
  [Buffer.from('_routing'), Key.Routing],
  [Buffer.from('_source'), Key.Source],
  [Buffer.from('fields'), Key.Fields],
  [Buffer.from('sort'), Key.Sort]
]

function keyNamed (name: string): Key {
  for (const [bytes, key] of KEYS) if (bytes.toString() === name) return key
  return Key.Other
}

/** Which hit member the key `bytes[start, end)` (quotes included) names. */
function hitKey (bytes: Buffer, start: number, end: number): Key {
  const from = start + 1
  const length = end - 1 - from
  for (let k = from; k < end - 1; k++) if (bytes[k] === BACKSLASH) return keyNamed(keyText(bytes, start, end))
  for (const [name, key] of KEYS) {
    if (name.length !== length) continue
    let same = true
    for (let k = 0; k < length && same; k++) same = bytes[from + k] === name[k]
    if (same) return key
  }
  return Key.Other
}

const PREFIX_INDEX = Buffer.from('"_index":')
const PREFIX_ID = Buffer.from('"_id":')
const PREFIX_ROUTING = Buffer.from(',"_routing":')
const PREFIX_SOURCE = Buffer.from(',"_source":')
const PREFIX_FIELDS = Buffer.from(',"fields":')

/**
 * Writes the hits' output lines from byte ranges of the response, over the response itself
 * while that is safe: a page is then one buffer, not two. (A large buffer per page made V8
 * count enough external memory for a full collection every ~15 pages.)
 */
class LineWriter {
  /** The response until a line could overwrite bytes still to be read; then a buffer of its own. */
  out: Buffer
  at = 0
  readonly ends: number[] = []
  readonly sorts: Array<string | undefined> = []

  constructor (private readonly bytes: Buffer, private readonly withFields: boolean, private readonly multiline: boolean) {
    this.out = bytes
  }

  // The members of the hit being read, as [start, end) ranges of the response (-1: absent).
  private index = -1
  private indexEnd = 0
  private id = -1
  private idEnd = 0
  private routing = -1
  private routingEnd = 0
  private source = -1
  private sourceEnd = 0
  private fields = -1
  private fieldsEnd = 0
  private sort = -1
  private sortEnd = -1

  /** Notes where a member of the hit is; one function for every hit, so no closure per hit. */
  private readonly member = (key: Key, s: number): number => {
    const e = skipValue(this.bytes, s)
    switch (key) {
      case Key.Index: this.index = s; this.indexEnd = e; break
      case Key.Id: this.id = s; this.idEnd = e; break
      case Key.Routing: this.routing = s; this.routingEnd = e; break
      case Key.Source: this.source = s; this.sourceEnd = e; break
      case Key.Fields: this.fields = s; this.fieldsEnd = e; break
      case Key.Sort: this.sort = s; this.sortEnd = e; break
    }
    return e
  }

  /** Reads the hit at `i` and writes its line; returns the index after the hit. */
  hit (i: number): number {
    this.index = this.id = this.routing = this.source = this.fields = this.sort = this.sortEnd = -1
    const end = eachMember(this.bytes, i, hitKey, this.member)
    const { index, indexEnd, id, idEnd, routing, routingEnd, source, sourceEnd, fields, fieldsEnd, sort, sortEnd } = this
    if (id < 0) throw bad(this.bytes, i, 'hit without _id')
    // Read before the line is written: it may be written over the hit's own bytes.
    this.sorts.push(sort < 0 ? undefined : this.bytes.toString('utf8', sort, sortEnd))
    if (this.out === this.bytes && !this.fitsInPlace(end)) this.moveOut()
    const out = this.out
    const lineStart = this.at
    out[this.at++] = OPEN_BRACE
    if (index >= 0) {
      this.put(PREFIX_INDEX)
      this.copy(index, indexEnd)
      out[this.at++] = COMMA
    }
    this.put(PREFIX_ID)
    this.copy(id, idEnd)
    if (routing >= 0) {
      this.put(PREFIX_ROUTING)
      this.copy(routing, routingEnd)
    }
    if (source >= 0) {
      this.put(PREFIX_SOURCE)
      this.copy(source, sourceEnd)
    }
    if (fields >= 0 && this.withFields) {
      this.put(PREFIX_FIELDS)
      this.copy(fields, fieldsEnd)
    }
    out[this.at++] = CLOSE_BRACE
    if (this.multiline && this.hasLineBreak(lineStart)) this.at = compactRange(out, lineStart, this.at)
    out[this.at++] = NEWLINE
    this.ends.push(this.at)
    return end
  }

  /**
   * Whether the current hit's line may be written over the response: each piece lands at or
   * before where it is read, the pieces come in the response's order (so a write never reaches
   * a piece still to be copied; an overlap within a piece moves like memmove), and the line ends
   * before `hitEnd`, the comma or bracket the array reader looks at next.
   */
  private fitsInPlace (hitEnd: number): boolean {
    let at = this.at + 1
    let read = 0
    const piece = (prefix: number, start: number, end: number): boolean => {
      if (start < 0) return true
      at += prefix
      if (at > start || start < read) return false
      at += end - start
      read = end
      return true
    }
    const fits = piece(PREFIX_INDEX.length, this.index, this.indexEnd) &&
      piece(PREFIX_ID.length + (this.index >= 0 ? 1 : 0), this.id, this.idEnd) &&
      piece(PREFIX_ROUTING.length, this.routing, this.routingEnd) &&
      piece(PREFIX_SOURCE.length, this.source, this.sourceEnd) &&
      (!this.withFields || piece(PREFIX_FIELDS.length, this.fields, this.fieldsEnd))
    return fits && at + 2 <= hitEnd
  }

  /** From now on, lines go to a buffer of their own, the lines so far with them. */
  private moveOut (): void {
    // A line is never longer than its hit plus the comma or bracket after it: the keys and
    // separators it writes are ones the hit holds (or longer, escaped), less whitespace.
    const out = Buffer.allocUnsafe(this.bytes.length + 1)
    this.bytes.copy(out, 0, 0, this.at)
    this.out = out
  }

  private put (prefix: Buffer): void {
    for (let k = 0; k < prefix.length; k++) this.out[this.at++] = prefix[k]
  }

  private copy (start: number, end: number): void {
    // Buffer.copy costs a call into C++ and a view object: a loop is cheaper for short ranges.
    if (end - start > 128) {
      this.bytes.copy(this.out, this.at, start, end)
      this.at += end - start
      return
    }
    const bytes = this.bytes
    const out = this.out
    let at = this.at
    for (let k = start; k < end; k++) out[at++] = bytes[k]
    this.at = at
  }

  private hasLineBreak (from: number): boolean {
    for (let k = from; k < this.at; k++) if (this.out[k] === NEWLINE || this.out[k] === RETURN) return true
    return false
  }
}

/** Splits a successful search (or scroll) response into output lines and paging state. */
export function parseSearchPage (response: Buffer | string, opts: { fields?: boolean } = {}): SearchPage {
  const bytes = typeof response === 'string' ? Buffer.from(response) : response
  // A response without a line break (the usual, compact one) has none in any hit either.
  const multiline = bytes.includes(NEWLINE) || bytes.includes(RETURN)
  const writer = new LineWriter(bytes, opts.fields === true, multiline)
  const value = (s: number): unknown => JSON.parse(bytes.toString('utf8', s, skipValue(bytes, s)))
  let pitId: string | undefined
  let scrollId: string | undefined
  let shards: ShardsInfo | undefined
  let timedOut = false
  eachMember(bytes, skipWs(bytes, 0), keyText, (key, s) => {
    switch (key) {
      case 'pit_id': pitId = value(s) as string; return
      case '_scroll_id': scrollId = value(s) as string; return
      case '_shards': shards = value(s) as ShardsInfo; return
      case 'timed_out': timedOut = value(s) === true; return
      case 'hits':
        return eachMember(bytes, s, keyText, (k, hs) => {
          if (k !== 'hits') return
          return eachElement(bytes, hs, (a) => writer.hit(a))
        })
    }
  })
  // Writes past a Buffer's end are dropped without a word: make sure none was.
  if (writer.at > writer.out.length) throw new EspipeError('ES_BAD_RESPONSE', `search response of ${bytes.length} bytes gave ${writer.at} bytes of lines`)
  const page = new SearchPage(writer.out.subarray(0, writer.at), writer.ends, writer.sorts)
  page.pitId = pitId
  page.scrollId = scrollId
  page.shards = shards
  page.timedOut = timedOut
  return page
}
