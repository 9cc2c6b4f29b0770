/**
 * Where the raw JSON text of a top-level member is in a line ([start, end)), so a document can go into a JSON column
 * as it came instead of being serialised again (JSON.stringify was a third of the writer's
 * CPU time). Only used when it is provably the same member: the line parsed as JSON, the key
 * appears literally, and every member before it is a primitive (so no nested key can come
 * first). Otherwise it returns undefined and the caller serialises the parsed value.
 */
export function rawMemberRange (text: string, parsed: Record<string, unknown>, key: string): [number, number] | undefined {
  let last = true
  let found = false
  for (const k in parsed) {
    if (found) { last = false; break }
    if (k === key) { found = true; continue }
    const v = parsed[k]
    if (v !== null && typeof v === 'object') return undefined
  }
  const token = JSON.stringify(key)
  let i = text.indexOf(token)
  if (i < 0) return undefined
  i += token.length
  while (i < text.length && isSpace(text.charCodeAt(i))) i++
  if (text.charCodeAt(i) !== 0x3a /* : */) return undefined
  i++
  while (i < text.length && isSpace(text.charCodeAt(i))) i++
  // The last member ends where the line's object does: no need to scan the document.
  const end = last ? lastBrace(text) : valueEnd(text, i)
  return end === undefined ? undefined : [i, end]
}

function lastBrace (text: string): number | undefined {
  let end = text.lastIndexOf('}')
  if (end < 0) return undefined
  while (end > 0 && isSpace(text.charCodeAt(end - 1))) end--
  return end
}

function isSpace (c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
}

/** Where the JSON value starting at `start` ends (exclusive), for text known to be valid JSON. */
function valueEnd (text: string, start: number): number | undefined {
  const first = text.charCodeAt(start)
  if (first === 0x7b /* { */ || first === 0x5b /* [ */) {
    let depth = 0
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === 0x22 /* " */) {
        for (i++; i < text.length; i++) {
          const d = text.charCodeAt(i)
          if (d === 0x5c /* \ */) i++
          else if (d === 0x22) break
        }
      } else if (c === 0x7b || c === 0x5b) depth++
      else if (c === 0x7d || c === 0x5d) {
        if (--depth === 0) return i + 1
      }
    }
    return undefined
  }
  if (first === 0x22) {
    for (let i = start + 1; i < text.length; i++) {
      const d = text.charCodeAt(i)
      if (d === 0x5c) i++
      else if (d === 0x22) return i + 1
    }
    return undefined
  }
  let i = start
  while (i < text.length && !isSpace(text.charCodeAt(i)) && text.charCodeAt(i) !== 0x2c && text.charCodeAt(i) !== 0x7d) i++
  return i
}

/**
 * A line checked to be one JSON object, with where each top-level member's key and value
 * are: writers that pass values through cut them from the line without parsing it (JSON.parse
 * and the garbage of the objects it builds were half of mysql-write's CPU time).
 */
export class RawObject {
  constructor (
    readonly text: string,
    /** Per top-level member: key start (its quote), key end (after its quote), value start, value end. */
    private readonly spans: readonly number[]
  ) {}

  /** [start, end) of the value of top-level member `key` in the text, or undefined when there is none. */
  member (key: string): [number, number] | undefined {
    const s = this.spans
    for (let i = 0; i < s.length; i += 4) {
      if (s[i + 1] - s[i] - 2 === key.length && this.text.startsWith(key, s[i] + 1)) return [s[i + 2], s[i + 3]]
    }
    return undefined
  }
}

/**
 * The line as a RawObject when it is a JSON object that JSON.parse accepts, whose keys hold no
 * escape and appear once per object (at every depth) — so its text says exactly what its parse
 * does, to every reader. Undefined otherwise (the caller parses it the ordinary way, which
 * then says what is wrong or handles the rare key); never accepts what JSON.parse refuses.
 */
export function scanObject (text: string): RawObject | undefined {
  src = text
  pos = 0
  plain = !ESCAPE_OR_CONTROL.test(text)
  keyTop = 0
  top = []
  const c = skipSpace()
  if (c !== 0x7b /* { */ || !object(0)) return undefined
  if (skipSpace() !== -1) return undefined
  return new RawObject(text, top)
}

/** Deeper documents are left to JSON.parse (the scanner recurses). */
const MAX_DEPTH = 100
/** Objects with more keys are left to JSON.parse (duplicates are looked for pair by pair). */
const MAX_KEYS = 64

// The scanner's state: one line at a time, no allocation per value.
let src = ''
/** The line has no backslash and no control character (the usual): strings end at their next quote. */
let plain = true
const ESCAPE_OR_CONTROL = /[\\\x00-\x1f]/
let pos = 0
/** Keys of the objects open now, outermost first, as [start, end) of their text without quotes. */
const keyStarts: number[] = []
const keyEnds: number[] = []
let keyTop = 0
let top: number[] = []

/** The code at pos after JSON whitespace, or -1 at the end. */
function skipSpace (): number {
  const s = src
  const n = s.length
  let i = pos
  for (; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) { pos = i; return c }
  }
  pos = i
  return -1
}

function value (depth: number): boolean {
  const c = src.charCodeAt(pos)
  if (c === 0x22 /* " */) return string() >= 0
  if (c === 0x7b /* { */) return depth < MAX_DEPTH && object(depth + 1)
  if (c === 0x5b /* [ */) return depth < MAX_DEPTH && array(depth + 1)
  if ((c >= 0x30 && c <= 0x39) || c === 0x2d) return number()
  if (c === 0x74) return literal('true')
  if (c === 0x66) return literal('false')
  if (c === 0x6e) return literal('null')
  return false
}

function literal (word: string): boolean {
  if (!src.startsWith(word, pos)) return false
  pos += word.length
  return true
}

function isHex (c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
}

/** A string at pos (its opening quote): -1 if invalid, else 0, or 1 when it holds an escape; pos ends after it. */
function string (): number {
  if (plain) {
    // No backslash or control character in the line: the string ends at the next quote.
    const end = src.indexOf('"', pos + 1)
    if (end < 0) return -1
    pos = end + 1
    return 0
  }
  const s = src
  const n = s.length
  let escaped = 0
  for (let i = pos + 1; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22 /* " */) { pos = i + 1; return escaped }
    if (c < 0x20) return -1
    if (c === 0x5c /* \ */) {
      escaped = 1
      const e = s.charCodeAt(++i)
      if (e === 0x75 /* u */) {
        if (!(isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3)) && isHex(s.charCodeAt(i + 4)))) return -1
        i += 4
      } else if (!(e === 0x22 /* " */ || e === 0x5c /* \ */ || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) return -1
    }
  }
  return -1
}

function digits (): number {
  const start = pos
  for (let c = src.charCodeAt(pos); c >= 0x30 && c <= 0x39; c = src.charCodeAt(++pos));
  return pos - start
}

/** -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
function number (): boolean {
  if (src.charCodeAt(pos) === 0x2d) pos++
  if (src.charCodeAt(pos) === 0x30) pos++
  else if (digits() === 0) return false
  let c = src.charCodeAt(pos)
  if (c === 0x2e) {
    pos++
    if (digits() === 0) return false
    c = src.charCodeAt(pos)
  }
  if (c === 0x65 || c === 0x45) {
    c = src.charCodeAt(++pos)
    if (c === 0x2b || c === 0x2d) pos++
    if (digits() === 0) return false
  }
  return true
}

function array (depth: number): boolean {
  pos++
  let c = skipSpace()
  if (c === 0x5d /* ] */) { pos++; return true }
  for (;;) {
    if (!value(depth)) return false
    c = skipSpace()
    if (c === 0x5d /* ] */) { pos++; return true }
    if (c !== 0x2c /* , */) return false
    pos++
    skipSpace()
  }
}

function sameText (a: number, b: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (src.charCodeAt(a + i) !== src.charCodeAt(b + i)) return false
  return true
}

/** An object at pos; keys already in it (keyStarts/keyEnds from its base) make it a duplicate. */
function object (depth: number): boolean {
  pos++
  const base = keyTop
  let c = skipSpace()
  if (c === 0x7d /* } */) { pos++; return true }
  for (;;) {
    if (c !== 0x22 /* " */) return false
    const keyStart = pos
    if (string() !== 0) return false // invalid, or an escaped key: compared as text, it could hide a duplicate
    const keyEnd = pos
    const len = keyEnd - keyStart
    for (let k = base; k < keyTop; k++) {
      if (keyEnds[k] - keyStarts[k] === len && sameText(keyStarts[k], keyStart, len)) return false
    }
    if (keyTop - base >= MAX_KEYS) return false
    keyStarts[keyTop] = keyStart
    keyEnds[keyTop] = keyEnd
    keyTop++
    if (skipSpace() !== 0x3a /* : */) return false
    pos++
    skipSpace()
    const valueStart = pos
    if (!value(depth)) return false
    if (depth === 0) top.push(keyStart, keyEnd, valueStart, pos)
    c = skipSpace()
    if (c === 0x7d /* } */) { pos++; keyTop = base; return true }
    if (c !== 0x2c /* , */) return false
    pos++
    c = skipSpace()
  }
}
