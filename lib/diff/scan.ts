/**
 * One NDJSON line checked as JSON, byte by byte on the Buffer it was read into, with where its
 * wanted top-level members are: rec-diff compares records mostly without parsing them (no
 * string decoding, no objects), and a line whose content bytes equal its counterpart's is
 * never parsed at all. The check accepts exactly what JSON.parse accepts on the line's UTF-8
 * text (test/diff/scan.test.ts holds it to that); UTF-8 itself is checked apart (isUtf8).
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const LBRACE = 0x7b
const RBRACE = 0x7d
const LBRACKET = 0x5b
const RBRACKET = 0x5d
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39

/** Bytes a string holds as they are: not a quote, a backslash or a control character. */
const PLAIN = new Uint8Array(256)
for (let c = 0x20; c < 256; c++) if (c !== QUOTE && c !== BACKSLASH) PLAIN[c] = 1

const OBJECT = 1
const ARRAY = 2

function isSpace (c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function skipSpaces (buf: Buffer, i: number, end: number): number {
  while (i < end && isSpace(buf[i])) i++
  return i
}

function isHex (c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
}

/** After a backslash at `i`: the index after its escape sequence, or -1 when it is not one JSON allows. */
function escapeEnd (buf: Buffer, i: number, end: number): number {
  const c = buf[i + 1]
  if (c === QUOTE || c === BACKSLASH || c === 0x2f /* / */ || c === 0x62 /* b */ || c === 0x66 /* f */ || c === 0x6e /* n */ || c === 0x72 /* r */ || c === 0x74 /* t */) return i + 2
  if (c === 0x75 /* u */ && i + 6 <= end && isHex(buf[i + 2]) && isHex(buf[i + 3]) && isHex(buf[i + 4]) && isHex(buf[i + 5])) return i + 6
  return -1
}

function literalEnd (buf: Buffer, i: number, end: number, word: readonly number[]): number {
  if (i + word.length > end) return -1
  for (let k = 1; k < word.length; k++) if (buf[i + k] !== word[k]) return -1
  return i + word.length
}

const TRUE = [0x74, 0x72, 0x75, 0x65]
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65]
const NULL = [0x6e, 0x75, 0x6c, 0x6c]

/** The index after the JSON number that starts at `i`, or -1 when what is there is not one. */
export function numberEnd (buf: Buffer, i: number, end: number): number {
  if (buf[i] === MINUS) i++
  if (i >= end) return -1
  let c = buf[i]
  if (c === ZERO) i++
  else if (c > ZERO && c <= NINE) {
    i++
    while (i < end && (c = buf[i]) >= ZERO && c <= NINE) i++
  } else return -1
  if (i < end && buf[i] === 0x2e /* . */) {
    const start = ++i
    while (i < end && (c = buf[i]) >= ZERO && c <= NINE) i++
    if (i === start) return -1
  }
  if (i < end && ((c = buf[i]) === 0x65 || c === 0x45)) {
    i++
    if (i < end && ((c = buf[i]) === 0x2b || c === MINUS)) i++
    const start = i
    while (i < end && (c = buf[i]) >= ZERO && c <= NINE) i++
    if (i === start) return -1
  }
  return i
}

/** A top-level key looked for: its bytes, and its text for keys written with escapes. */
export interface Head { bytes: Buffer, text: string }

export function head (key: string): Head {
  return { bytes: Buffer.from(key, 'utf8'), text: key }
}

/**
 * Scans lines, one at a time, keeping where the last one's wanted members are: after scan()
 * returned true, `starts[k]`/`ends[k]` is the value of heads[k] (the last one when the key is
 * given twice, as JSON.parse keeps it), -1 when the line has none.
 */
export class LineScanner {
  readonly starts: Int32Array
  readonly ends: Int32Array
  /** The line's object: where its `{` is and the index after its `}`. */
  objectStart = 0
  objectEnd = 0
  /** Whether the line holds a backslash (inside a string): its strings then need decoding. */
  escaped = false
  private stack = new Uint8Array(64)
  private readonly heads: readonly Head[]
  private keyEscaped = false

  constructor (heads: readonly Head[]) {
    this.heads = heads
    this.starts = new Int32Array(heads.length)
    this.ends = new Int32Array(heads.length)
  }

  /** The index after the string whose opening quote is at `i`, or -1 when it is not valid JSON. */
  private stringEnd (buf: Buffer, i: number, end: number): number {
    for (i++; i < end; i++) {
      // Unbounded: a line is followed by its \r or \n, or by nothing, none of them plain.
      while (PLAIN[buf[i]] === 1) i++
      if (i >= end) return -1
      const c = buf[i]
      if (c === QUOTE) return i + 1
      if (c === BACKSLASH) {
        this.keyEscaped = true
        this.escaped = true
        const next = escapeEnd(buf, i, end)
        if (next < 0) return -1
        i = next - 1
      } else if (c < 0x20) return -1
    }
    return -1
  }

  /** Which head the key token [start, end) names, or -1. */
  private headOf (buf: Buffer, start: number, end: number): number {
    const heads = this.heads
    const len = end - start - 2
    for (let h = 0; h < heads.length; h++) {
      const want = heads[h].bytes
      if (this.keyEscaped) {
        if (JSON.parse(buf.toString('utf8', start, end)) === heads[h].text) return h
        continue
      }
      if (want.length !== len) continue
      let k = 0
      while (k < len && buf[start + 1 + k] === want[k]) k++
      if (k === len) return h
    }
    return -1
  }

  /** Whether buf[start, end) is one JSON object (with spaces around it at most). */
  scan (buf: Buffer, start: number, end: number): boolean {
    this.starts.fill(-1)
    this.ends.fill(-1)
    this.escaped = false
    let i = skipSpaces(buf, start, end)
    if (i >= end || buf[i] !== LBRACE) return false
    this.objectStart = i
    let stack = this.stack
    stack[0] = OBJECT
    let depth = 1
    // The top-level member being read: which head it is (-1: none wanted) and where its value starts.
    let slot = -1
    let valueStart = 0
    i = skipSpaces(buf, i + 1, end)
    if (i < end && buf[i] === RBRACE) return this.close(buf, i + 1, end)
    let wantKey = true
    for (;;) {
      if (wantKey) {
        if (i >= end || buf[i] !== QUOTE) return false
        const keyStart = i
        if (depth === 1) this.keyEscaped = false
        i = this.stringEnd(buf, i, end)
        if (i < 0) return false
        if (depth === 1) slot = this.headOf(buf, keyStart, i)
        if (buf[i] <= 0x20) i = skipSpaces(buf, i, end)
        if (i >= end || buf[i] !== COLON) return false
        i++
        if (buf[i] <= 0x20) i = skipSpaces(buf, i, end)
      }
      if (i >= end) return false
      if (depth === 1) valueStart = i
      const c = buf[i]
      let ended = true
      if (c === QUOTE) {
        i = this.stringEnd(buf, i, end)
      } else if (c === LBRACE || c === LBRACKET) {
        if (depth === stack.length) {
          const grown = new Uint8Array(stack.length * 2)
          grown.set(stack)
          this.stack = stack = grown
        }
        stack[depth++] = c === LBRACE ? OBJECT : ARRAY
        i++
        if (buf[i] <= 0x20) i = skipSpaces(buf, i, end)
        if (i < end && buf[i] === (c === LBRACE ? RBRACE : RBRACKET)) {
          depth--
          i++
        } else {
          ended = false
          wantKey = c === LBRACE
        }
      } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
        i = numberEnd(buf, i, end)
      } else if (c === 0x74) {
        i = literalEnd(buf, i, end, TRUE)
      } else if (c === 0x66) {
        i = literalEnd(buf, i, end, FALSE)
      } else if (c === 0x6e) {
        i = literalEnd(buf, i, end, NULL)
      } else {
        return false
      }
      if (i < 0) return false
      if (!ended) continue
      // A value ended at i: a comma, or the end of one or more containers.
      for (;;) {
        if (depth === 1 && slot >= 0) {
          this.starts[slot] = valueStart
          this.ends[slot] = i
          slot = -1
        }
        if (buf[i] <= 0x20) i = skipSpaces(buf, i, end)
        if (i >= end) return false
        const d = buf[i]
        const inObject = stack[depth - 1] === OBJECT
        if (d === COMMA) {
          i++
          if (buf[i] <= 0x20) i = skipSpaces(buf, i, end)
          wantKey = inObject
          break
        }
        if (d !== (inObject ? RBRACE : RBRACKET)) return false
        i++
        if (--depth === 0) return this.close(buf, i, end)
      }
    }
  }

  private close (buf: Buffer, i: number, end: number): boolean {
    this.objectEnd = i
    return skipSpaces(buf, i, end) === end
  }
}

/** The index after the value that starts at `i`, in text already checked to be JSON. */
export function valueEnd (buf: Buffer, i: number): number {
  const c = buf[i]
  if (c === QUOTE) return stringEnd(buf, i)
  if (c !== LBRACE && c !== LBRACKET) {
    while (!isSpace(buf[i]) && buf[i] !== COMMA && buf[i] !== RBRACE && buf[i] !== RBRACKET && i < buf.length) i++
    return i
  }
  let depth = 0
  for (;; i++) {
    const d = buf[i]
    if (d === QUOTE) i = stringEnd(buf, i) - 1
    else if (d === LBRACE || d === LBRACKET) depth++
    else if ((d === RBRACE || d === RBRACKET) && --depth === 0) return i + 1
  }
}

/** The index after the string whose opening quote is at `i`, in text already checked to be JSON. */
function stringEnd (buf: Buffer, i: number): number {
  for (i++; ; i++) {
    const c = buf[i]
    if (c === QUOTE) return i + 1
    if (c === BACKSLASH) i++
  }
}

/**
 * [start, end) of the value of member `key` in the object at `objectStart` (text already
 * checked to be JSON), the last one when the key is given twice; undefined when there is none.
 */
export function memberRange (buf: Buffer, objectStart: number, key: Head): [number, number] | undefined {
  let found: [number, number] | undefined
  let i = objectStart + 1
  for (;;) {
    while (isSpace(buf[i])) i++
    if (buf[i] === RBRACE) return found
    const keyStart = i
    i = stringEnd(buf, i)
    const same = sameKey(buf, keyStart, i, key)
    while (isSpace(buf[i]) || buf[i] === COLON) i++
    const valueStart = i
    i = valueEnd(buf, i)
    if (same) found = [valueStart, i]
    while (isSpace(buf[i])) i++
    if (buf[i] === COMMA) i++
  }
}

function sameKey (buf: Buffer, start: number, end: number, key: Head): boolean {
  const len = end - start - 2
  const want = key.bytes
  let escaped = false
  for (let k = start + 1; k < end - 1; k++) if (buf[k] === BACKSLASH) { escaped = true; break }
  if (escaped) return JSON.parse(buf.toString('utf8', start, end)) === key.text
  if (len !== want.length) return false
  for (let k = 0; k < len; k++) if (buf[start + 1 + k] !== want[k]) return false
  return true
}

/**
 * The value at a path below a member's value (text already checked to be JSON): each segment a
 * member of an object. Undefined when some step is missing or not an object.
 */
export function descend (buf: Buffer, range: [number, number] | undefined, rest: readonly Head[]): [number, number] | undefined {
  for (const key of rest) {
    if (range === undefined || buf[range[0]] !== LBRACE) return undefined
    range = memberRange(buf, range[0], key)
  }
  return range
}
