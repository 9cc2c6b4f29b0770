import { EspipeError } from '../core/errors.js'

/**
 * Reads a search response from its raw text without building objects for the hits: each hit is
 * written back from slices of the text, so `_source` stays byte-exact (big numbers included) and
 * `search_after` gets back exactly the sort values the server sent (Long.MIN/MAX sentinels do
 * not survive `JSON.parse`, ES-NOTES "Point in time").
 */

export interface ShardsInfo {
  total: number
  successful: number
  skipped?: number
  failed: number
  failures?: Array<{ shard?: number, index?: string, reason?: { type?: string, reason?: string } }>
}

export interface SearchPage {
  /** One NDJSON line per hit: `_index`, `_id`, `_routing` when set, `_source`, `fields` when asked. */
  lines: string[]
  /** Each hit's raw `sort` array (as sent by the server), parallel to `lines`. */
  sorts: Array<string | undefined>
  pitId?: string
  scrollId?: string
  shards?: ShardsInfo
  timedOut: boolean
}

const QUOTE = 34
const BACKSLASH = 92
const OPEN_BRACE = 123
const CLOSE_BRACE = 125
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93
const COMMA = 44
const COLON = 58

function isWs (c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9
}

function bad (text: string, at: number, why: string): EspipeError {
  const near = text.slice(Math.max(0, at - 20), at + 20)
  return new EspipeError('ES_BAD_RESPONSE', `unreadable search response at byte ${at} (${why}) near '${near}'`)
}

function skipWs (text: string, i: number): number {
  while (i < text.length && isWs(text.charCodeAt(i))) i++
  return i
}

/** `i` is at the opening quote; returns the index after the closing quote. */
function skipString (text: string, i: number): number {
  let j = i + 1
  for (;;) {
    const k = text.indexOf('"', j)
    if (k < 0) throw bad(text, i, 'unterminated string')
    if (text.charCodeAt(k - 1) !== BACKSLASH) return k + 1
    let b = k - 2
    while (text.charCodeAt(b) === BACKSLASH) b--
    if ((k - 1 - b) % 2 === 0) return k + 1
    j = k + 1
  }
}

/** Returns the index just after the JSON value starting at `i` (no leading whitespace). */
export function skipValue (text: string, i: number): number {
  const c = text.charCodeAt(i)
  if (c === QUOTE) return skipString(text, i)
  if (c === OPEN_BRACE || c === OPEN_BRACKET) {
    let depth = 0
    const n = text.length
    for (let j = i; j < n; j++) {
      const d = text.charCodeAt(j)
      if (d === QUOTE) { j = skipString(text, j) - 1; continue }
      // `{` and `[` differ only in bit 5, as do `}` and `]`: one test each, on every byte.
      const folded = d & 0xFFDF
      if (folded === OPEN_BRACKET) depth++
      else if (folded === CLOSE_BRACKET && --depth === 0) return j + 1
    }
    throw bad(text, i, 'unterminated object')
  }
  let j = i
  while (j < text.length) {
    const d = text.charCodeAt(j)
    if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isWs(d)) break
    j++
  }
  if (j === i) throw bad(text, i, 'value expected')
  return j
}

/**
 * Calls `member` for each key of the object at `i`; returns the index after the object. A
 * callback that reads the value itself returns where it ends, so no byte is scanned twice.
 */
function eachMember (text: string, i: number, member: (key: string, start: number) => number | undefined): number {
  if (text.charCodeAt(i) !== OPEN_BRACE) throw bad(text, i, 'object expected')
  i = skipWs(text, i + 1)
  if (text.charCodeAt(i) === CLOSE_BRACE) return i + 1
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) throw bad(text, i, 'key expected')
    const keyEnd = skipString(text, i)
    const rawKey = text.slice(i + 1, keyEnd - 1)
    const key = rawKey.includes('\\') ? JSON.parse(text.slice(i, keyEnd)) as string : rawKey
    i = skipWs(text, keyEnd)
    if (text.charCodeAt(i) !== COLON) throw bad(text, i, "':' expected")
    const start = skipWs(text, i + 1)
    const end = member(key, start) ?? skipValue(text, start)
    i = skipWs(text, end)
    const c = text.charCodeAt(i)
    if (c === CLOSE_BRACE) return i + 1
    if (c !== COMMA) throw bad(text, i, "',' or '}' expected")
    i = skipWs(text, i + 1)
  }
}

/** Calls `element` for each value of the array at `i`. */
function eachElement (text: string, i: number, element: (start: number) => number | undefined): number {
  if (text.charCodeAt(i) !== OPEN_BRACKET) throw bad(text, i, 'array expected')
  i = skipWs(text, i + 1)
  if (text.charCodeAt(i) === CLOSE_BRACKET) return i + 1
  for (;;) {
    const end = element(i) ?? skipValue(text, i)
    i = skipWs(text, end)
    const c = text.charCodeAt(i)
    if (c === CLOSE_BRACKET) return i + 1
    if (c !== COMMA) throw bad(text, i, "',' or ']' expected")
    i = skipWs(text, i + 1)
  }
}

/** The raw text of each element of a JSON array, unparsed. */
export function rawElements (array: string): string[] {
  const out: string[] = []
  eachElement(array, skipWs(array, 0), (s) => {
    const e = skipValue(array, s)
    out.push(array.slice(s, e))
    return e
  })
  return out
}

/** Drops insignificant whitespace (a pretty-printed response must still give one line per hit). */
export function compactJson (text: string): string {
  let out = ''
  let from = 0
  let i = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) { i = skipString(text, i); continue }
    if (isWs(c)) {
      out += text.slice(from, i)
      while (i < text.length && isWs(text.charCodeAt(i))) i++
      from = i
      continue
    }
    i++
  }
  return out + text.slice(from)
}

function hitLine (text: string, start: number, withFields: boolean, multiline: boolean): { line: string, sort?: string, end: number } {
  let index: string | undefined
  let id: string | undefined
  let routing: string | undefined
  let source: string | undefined
  let fields: string | undefined
  let sort: string | undefined
  const end = eachMember(text, start, (key, s) => {
    const e = skipValue(text, s)
    switch (key) {
      case '_index': index = text.slice(s, e); break
      case '_id': id = text.slice(s, e); break
      case '_routing': routing = text.slice(s, e); break
      case '_source': source = text.slice(s, e); break
      case 'fields': if (withFields) fields = text.slice(s, e); break
      case 'sort': sort = text.slice(s, e); break
    }
    return e
  })
  if (id === undefined) throw bad(text, start, 'hit without _id')
  let line = '{'
  if (index !== undefined) line += '"_index":' + index + ','
  line += '"_id":' + id
  if (routing !== undefined) line += ',"_routing":' + routing
  if (source !== undefined) line += ',"_source":' + source
  if (fields !== undefined) line += ',"fields":' + fields
  line += '}'
  if (multiline && (line.includes('\n') || line.includes('\r'))) line = compactJson(line)
  return { line, sort, end }
}

/** Splits a successful search (or scroll) response into output lines and paging state. */
export function parseSearchPage (text: string, opts: { fields?: boolean } = {}): SearchPage {
  const page: SearchPage = { lines: [], sorts: [], timedOut: false }
  const withFields = opts.fields === true
  // A response without a line break (the usual, compact one) has none in any hit either.
  const multiline = text.includes('\n') || text.includes('\r')
  const value = (s: number): unknown => JSON.parse(text.slice(s, skipValue(text, s)))
  eachMember(text, skipWs(text, 0), (key, s) => {
    switch (key) {
      case 'pit_id': page.pitId = value(s) as string; return
      case '_scroll_id': page.scrollId = value(s) as string; return
      case '_shards': page.shards = value(s) as ShardsInfo; return
      case 'timed_out': page.timedOut = value(s) === true; return
      case 'hits':
        return eachMember(text, s, (k, hs) => {
          if (k !== 'hits') return
          return eachElement(text, hs, (a) => {
            const { line, sort, end } = hitLine(text, a, withFields, multiline)
            page.lines.push(line)
            page.sorts.push(sort)
            return end
          })
        })
    }
  })
  return page
}
