import { LosslessNumber, isLosslessNumber, stringify as losslessStringify } from 'lossless-json'

export { LosslessNumber, isLosslessNumber }

/**
 * Exact JSON: numbers keep every digit as written.
 *
 * JSON.parse turns 9007199254740993 into …992, 1e400 into Infinity (null once serialised),
 * -0 into 0 and 1.0 into 1. A migration tool must give back what it got, so every path that
 * re-serialises a value goes through here. The common case stays native: when every number
 * in the text prints back as written once JSON.parse has read it, it is JSON.parse.
 * Otherwise the numbers JSON.parse would change become LosslessNumber (their text) and the rest
 * is still parsed by JSON.parse, so duplicate keys follow one rule everywhere: the last wins,
 * as in JSON.parse and Elasticsearch.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const SPACE_BEFORE_COLON = /"[ \t\n\r]+:/
const isJsonSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39
const COLON = 0x3a
/** Marks, inside the text handed to JSON.parse, a string that stands for a number (U+E000, private use). */
const MARK = '\uE000'
const MARK_CODE = 0xe000
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

/** Index of the quote that closes the string opened at `open`. */
function stringEnd (text: string, open: number): number {
  let i = open
  for (;;) {
    i = text.indexOf('"', i + 1)
    if (i < 0) return text.length
    let slashes = 0
    while (text.charCodeAt(i - 1 - slashes) === BACKSLASH) slashes++
    if (slashes % 2 === 0) return i
  }
}

function isNumberChar (c: number): boolean {
  return (c >= ZERO && c <= NINE) || c === MINUS || c === 0x2b /* + */ || c === 0x2e /* . */ || c === 0x65 /* e */ || c === 0x45 /* E */
}

/** Index just past the number token that starts at `start`. */
function numberEnd (text: string, start: number): number {
  let i = start + 1
  while (i < text.length && isNumberChar(text.charCodeAt(i))) i++
  return i
}

/** Digits a decimal may have and still print back as written: any 15 significant digits survive a double. */
const SAFE_DIGITS = 15
const DOT = 0x2e

/**
 * Whether JSON.parse reads this number token as a value that prints back as the same text,
 * decided without parsing for the common shapes: an integer or a plain decimal (no exponent,
 * no trailing zero, at most 15 significant digits, at most 5 zeros after "0.", as JavaScript
 * prints 0.000001 but 1e-7). Not: 1.0, -0, 01, 1e3, 9007199254740993.
 */
function isShortCanonical (text: string, start: number, end: number): boolean {
  let i = start
  if (text.charCodeAt(i) === MINUS) i++
  const intStart = i
  while (i < end && isDigit(text.charCodeAt(i))) i++
  const intDigits = i - intStart
  if (intDigits === 0) return false
  const zero = text.charCodeAt(intStart) === ZERO
  if (zero && intDigits > 1) return false // 01
  if (i === end) return intDigits <= SAFE_DIGITS && !(zero && intStart > start) // -0
  if (text.charCodeAt(i) !== DOT) return false
  const fracStart = ++i
  while (i < end && isDigit(text.charCodeAt(i))) i++
  if (i !== end || i === fracStart || text.charCodeAt(end - 1) === ZERO) return false
  if (!zero) return intDigits + (end - fracStart) <= SAFE_DIGITS
  let lead = fracStart
  while (text.charCodeAt(lead) === ZERO) lead++
  return lead - fracStart <= 5 && end - lead <= SAFE_DIGITS
}

function isDigit (c: number): boolean {
  return c >= ZERO && c <= NINE
}

/**
 * Whether JSON.parse reads this number token as a value that prints back as the same text:
 * the shapes above, or any other token whose shortest form is the token itself (1e+21).
 */
function keepsText (text: string, start: number, end: number): boolean {
  if (isShortCanonical(text, start, end)) return true
  const token = text.slice(start, end)
  return String(Number(token)) === token
}

/** True when JSON.parse keeps every number in `text` exactly as written (strings are skipped). */
export function numbersSurviveJsonParse (text: string): boolean {
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      i = stringEnd(text, i)
    } else if ((c >= ZERO && c <= NINE) || c === MINUS) {
      const end = numberEnd(text, i)
      if (!keepsText(text, i, end)) return false
      i = end - 1
    }
  }
  return true
}

function startsWithMark (text: string, open: number): boolean {
  if (text.charCodeAt(open + 1) === MARK_CODE) return true
  // The same character written as an escape.
  return text.charCodeAt(open + 1) === BACKSLASH && /^u[eE]000/.test(text.slice(open + 2, open + 7))
}

function nextNonSpace (text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c
    i++
  }
  return -1
}

/**
 * The text with each number JSON.parse would change turned into a marked string, and each
 * string value that already starts with the mark given a second one, so the two can't be told
 * apart wrongly after parsing.
 */
function markNumbers (text: string): string {
  const parts: string[] = []
  let copied = 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      const end = stringEnd(text, i)
      if (startsWithMark(text, i) && nextNonSpace(text, end + 1) !== COLON) {
        parts.push(text.slice(copied, i + 1), MARK)
        copied = i + 1
      }
      i = end
    } else if ((c >= ZERO && c <= NINE) || c === MINUS) {
      const end = numberEnd(text, i)
      if (!keepsText(text, i, end)) {
        // Not a JSON number at all: let JSON.parse say so, with its own message.
        if (!JSON_NUMBER.test(text.slice(i, end))) JSON.parse(text)
        parts.push(text.slice(copied, i), '"', MARK, text.slice(i, end), '"')
        copied = end
      }
      i = end - 1
    }
  }
  parts.push(text.slice(copied))
  return parts.join('')
}

function unmark (v: unknown): unknown {
  if (typeof v === 'string') {
    if (v.charCodeAt(0) !== MARK_CODE) return v
    return v.charCodeAt(1) === MARK_CODE ? v.slice(1) : new LosslessNumber(v.slice(1))
  }
  if (v !== null && typeof v === 'object') {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = unmark(v[i])
    } else {
      const o = v as Record<string, unknown>
      for (const k of Object.keys(o)) o[k] = unmark(o[k])
    }
  }
  return v
}

/**
 * JSON.parse with every number exact: numbers JSON.parse keeps are JS numbers, the others
 * LosslessNumber holding their text. Throws JSON.parse's own SyntaxError on bad JSON.
 */
export function parseExact (text: string): unknown {
  if (numbersSurviveJsonParse(text)) return JSON.parse(text)
  let marked: unknown
  try {
    marked = JSON.parse(markNumbers(text))
  } catch {
    return JSON.parse(text) // throws, with positions in the caller's text
  }
  return unmark(marked)
}

/** Whether `value` holds a LosslessNumber or a bigint anywhere (then only stringifyExact writes it right). */
export function hasExactNumbers (value: unknown): boolean {
  if (typeof value === 'bigint' || isLosslessNumber(value)) return true
  if (value === null || typeof value !== 'object') return false
  if (Array.isArray(value)) return value.some(hasExactNumbers)
  for (const k in value as Record<string, unknown>) if (hasExactNumbers((value as Record<string, unknown>)[k])) return true
  return false
}

/**
 * JSON text of `value`, LosslessNumbers written as their text and bigints as their digits.
 * Compact, like JSON.stringify; undefined members are left out as JSON.stringify does.
 */
export function stringifyExact (value: unknown): string {
  if (!hasExactNumbers(value)) return JSON.stringify(value)
  return losslessStringify(value, undefined, undefined, [{ test: (v) => typeof v === 'bigint', stringify: (v) => String(v) }]) ?? 'null'
}

/** The exact decimal text of a JSON number value (number, LosslessNumber or bigint); undefined for anything else. */
export function numberText (value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined
  if (typeof value === 'bigint') return value.toString()
  if (isLosslessNumber(value)) return value.value
  return undefined
}

/** How many object keys `value` holds, at every depth. */
export function keyCount (value: unknown): number {
  if (value === null || typeof value !== 'object') return 0
  let n = 0
  // Primitives are skipped without a call: this runs once per record in mysql-write.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i]
      if (v !== null && typeof v === 'object') n += keyCount(v)
    }
    return n
  }
  const o = value as Record<string, unknown>
  for (const k in o) {
    n++
    const v = o[k]
    if (v !== null && typeof v === 'object') n += keyCount(v)
  }
  return n
}

/**
 * Whether the JSON `text` is written exactly as its parse `value` would be, key for key: false
 * when some object in it has a key twice (the parse kept only the last one), so the text says
 * something its readers may take differently (MariaDB's JSON functions read the first).
 * Counts the unescaped quotes followed by a colon (after JSON whitespace): each key ends so, so
 * the count is at least the keys the text holds; a string that starts with a colon counts too,
 * which only ever makes it too high (the text is then rewritten: never wrong, only slower).
 */
export function keysMatch (text: string, value: unknown): boolean {
  // Compact text (the usual) is counted by `":` alone; space before a colon needs every quote looked at.
  const spaced = SPACE_BEFORE_COLON.test(text)
  const needle = spaced ? '"' : '":'
  let n = 0
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
    if (spaced) {
      let j = i + 1
      while (isJsonSpace(text.charCodeAt(j))) j++
      if (text.charCodeAt(j) !== COLON) continue
    }
    let slashes = 0
    while (text.charCodeAt(i - 1 - slashes) === BACKSLASH) slashes++
    if (slashes % 2 === 0) n++
  }
  return n === keyCount(value)
}
