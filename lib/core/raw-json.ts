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

  /** The text without top-level member `key` (its comma too); the text itself when there is none. */
  without (key: string): string {
    const s = this.spans
    for (let i = 0; i < s.length; i += 4) {
      if (!(s[i + 1] - s[i] - 2 === key.length && this.text.startsWith(key, s[i] + 1))) continue
      // From the end of the member before it, or (the first member) up to the next member's key.
      if (i > 0) return this.text.slice(0, s[i - 1]) + this.text.slice(s[i + 3])
      if (s.length > 4) return this.text.slice(0, s[i]) + this.text.slice(s[i + 4])
      return this.text.slice(0, s[i]) + this.text.slice(s[i + 3]).replace(/^\s*/, '')
    }
    return this.text
  }

  /**
   * The text without any of the top-level members `keys` (with their commas), every other byte
   * as it was; the text itself when it has none of them.
   */
  withoutAll (keys: readonly string[]): string {
    const s = this.spans
    const n = s.length >> 2
    const gone: boolean[] = []
    let any = false
    let firstKept = -1
    for (let m = 0; m < n; m++) {
      const i = 4 * m
      const drop = keys.some((key) => s[i + 1] - s[i] - 2 === key.length && this.text.startsWith(key, s[i] + 1))
      gone.push(drop)
      if (drop) any = true
      else if (firstKept < 0) firstKept = m
    }
    if (!any) return this.text
    if (firstKept < 0) return this.text.slice(0, s[0]) + this.text.slice(s[4 * n - 1]).replace(/^\s*/, '')
    // Members before the first kept one go with what follows them (up to the next key); later
    // ones with what precedes them (from the end of the member before).
    let out = this.text.slice(0, s[0]) + this.text.slice(s[4 * firstKept], s[4 * firstKept + 3])
    for (let m = firstKept + 1; m < n; m++) {
      if (!gone[m]) out += this.text.slice(s[4 * m - 1], s[4 * m + 3])
    }
    return out + this.text.slice(s[4 * n - 1])
  }

  /** The value of top-level member `key` when it is a string; undefined when absent or not a string. */
  string (key: string): string | undefined {
    const range = this.member(key)
    return range === undefined || this.text.charCodeAt(range[0]) !== 0x22 /* " */ ? undefined : stringToken(this.text, range[0], range[1])
  }
}

/** The value of the JSON string whose token (quotes included) is text[start, end). */
export function stringToken (text: string, start: number, end: number): string {
  const s = text.slice(start + 1, end - 1)
  return s.includes('\\') ? JSON.parse(text.slice(start, end)) as string : s
}

/**
 * The line as a RawObject when it is a JSON object that JSON.parse accepts, whose keys hold no
 * escape and appear once per object (at every depth) — so its text says exactly what its parse
 * does, to every reader. Undefined otherwise (the caller parses it the ordinary way, which
 * then says what is wrong or handles the rare key); never accepts what JSON.parse refuses.
 * One loop over the text, no recursion and no allocation but the result.
 */
export function scanObject (text: string): RawObject | undefined {
  const s = text
  // Without a backslash or a control character in the line, a string ends at its next quote.
  const plain = !ESCAPE_OR_CONTROL.test(s)
  let i = skipSpaces(s, 0)
  if (s.charCodeAt(i) !== 0x7b /* { */) return undefined
  const top: number[] = []
  /** Containers open inside the line's object; bases[depth] is where its keys start in keyStarts, -1 for an array. */
  let depth = 0
  let inObject = true
  let keyTop = 0
  bases[0] = 0
  let opened = true
  // The top-level member being read.
  let keyStart = 0
  let keyEnd = 0
  let valueStart = 0
  i++
  for (;;) {
    let c = s.charCodeAt(i)
    // Compact JSON has no whitespace: look at the next character before calling to skip any.
    if (c <= 0x20) c = s.charCodeAt(i = skipSpaces(s, i))
    let closing = opened && c === (inObject ? 0x7d /* } */ : 0x5d /* ] */)
    if (!closing) {
      if (inObject) {
        if (c !== 0x22 /* " */) return undefined
        const start = i
        // An escaped key is left to JSON.parse: compared as text, it could hide a duplicate.
        i = plain ? s.indexOf('"', i + 1) + 1 : stringEnd(s, i, false)
        if (i <= 0) return undefined
        const len = i - start
        const base = bases[depth]
        for (let k = base; k < keyTop; k++) {
          if (keyEnds[k] - keyStarts[k] === len && sameText(s, keyStarts[k], start, len)) return undefined
        }
        if (keyTop - base >= MAX_KEYS || keyTop === keyStarts.length) return undefined
        keyStarts[keyTop] = start
        keyEnds[keyTop] = i
        keyTop++
        if (depth === 0) { keyStart = start; keyEnd = i }
        c = s.charCodeAt(i)
        if (c <= 0x20) c = s.charCodeAt(i = skipSpaces(s, i))
        if (c !== 0x3a /* : */) return undefined
        c = s.charCodeAt(++i)
        if (c <= 0x20) c = s.charCodeAt(i = skipSpaces(s, i))
      }
      if (depth === 0) valueStart = i
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        if (++depth === MAX_DEPTH) return undefined
        inObject = c === 0x7b
        bases[depth] = inObject ? keyTop : -1
        opened = true
        i++
        continue
      }
      i = primitiveEnd(s, i, c, plain)
      if (i < 0) return undefined
    }
    // A value ended at i (or an empty container closes): a comma, or the end of containers.
    for (;;) {
      if (!closing) {
        if (depth === 0) top.push(keyStart, keyEnd, valueStart, i)
        c = s.charCodeAt(i)
        if (c <= 0x20) c = s.charCodeAt(i = skipSpaces(s, i))
        if (c === 0x2c /* , */) { i++; opened = false; break }
      }
      closing = false
      if (c !== (inObject ? 0x7d /* } */ : 0x5d /* ] */)) return undefined
      i++
      if (depth === 0) return skipSpaces(s, i) === s.length ? new RawObject(text, top) : undefined
      if (inObject) keyTop = bases[depth]
      depth--
      inObject = bases[depth] >= 0
    }
  }
}

const ESCAPE_OR_CONTROL = /[\\\x00-\x1f]/
/** Deeper documents are left to JSON.parse. */
const MAX_DEPTH = 100
/** Objects with more keys are left to JSON.parse (duplicates are looked for pair by pair). */
const MAX_KEYS = 64
// Keys of the objects open now, outermost first, as [start, end) of their text with quotes.
const keyStarts = new Int32Array(1024)
const keyEnds = new Int32Array(1024)
const bases = new Int32Array(MAX_DEPTH)

function skipSpaces (s: string, i: number): number {
  for (let c = s.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = s.charCodeAt(++i));
  return i
}

function sameText (s: string, a: number, b: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (s.charCodeAt(a + i) !== s.charCodeAt(b + i)) return false
  return true
}

function isHex (c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
}

/** Just past the string whose quote is at i, or -1 if it is invalid (or holds an escape and escapes are not allowed). */
function stringEnd (s: string, i: number, escapes: boolean): number {
  const n = s.length
  for (i++; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22 /* " */) return i + 1
    if (c < 0x20) return -1
    if (c === 0x5c /* \ */) {
      if (!escapes) return -1
      const e = s.charCodeAt(++i)
      if (e === 0x75 /* u */) {
        if (!(isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3)) && isHex(s.charCodeAt(i + 4)))) return -1
        i += 4
      } else if (!(e === 0x22 || e === 0x5c || e === 0x2f /* / */ || e === 0x62 /* b */ || e === 0x66 /* f */ || e === 0x6e /* n */ || e === 0x72 /* r */ || e === 0x74 /* t */)) return -1
    }
  }
  return -1
}

function digitsEnd (s: string, i: number): number {
  for (let c = s.charCodeAt(i); c >= 0x30 && c <= 0x39; c = s.charCodeAt(++i));
  return i
}

/** Just past the string, number, true, false or null that starts at i with c, or -1. */
function primitiveEnd (s: string, i: number, c: number, plain: boolean): number {
  if (c === 0x22 /* " */) return plain ? s.indexOf('"', i + 1) + 1 || -1 : stringEnd(s, i, true)
  if ((c >= 0x30 && c <= 0x39) || c === 0x2d /* - */) {
    // -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
    if (c === 0x2d) c = s.charCodeAt(++i)
    if (c === 0x30) i++
    else if (c >= 0x31 && c <= 0x39) i = digitsEnd(s, i + 1)
    else return -1
    c = s.charCodeAt(i)
    if (c === 0x2e /* . */) {
      const from = i + 1
      i = digitsEnd(s, from)
      if (i === from) return -1
      c = s.charCodeAt(i)
    }
    if (c === 0x65 /* e */ || c === 0x45 /* E */) {
      c = s.charCodeAt(++i)
      if (c === 0x2b /* + */ || c === 0x2d) i++
      const from = i
      i = digitsEnd(s, from)
      if (i === from) return -1
    }
    return i
  }
  if (c === 0x74 /* t */) return s.startsWith('true', i) ? i + 4 : -1
  if (c === 0x66 /* f */) return s.startsWith('false', i) ? i + 5 : -1
  if (c === 0x6e /* n */) return s.startsWith('null', i) ? i + 4 : -1
  return -1
}
