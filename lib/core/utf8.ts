import { isUtf8 } from 'node:buffer'
import type { ErrorContext } from './errors.js'

/**
 * Input that is not UTF-8, kept exact. A decoder that puts U+FFFD in place of a bad byte
 * loses the byte: the record would be written with another character than it came with.
 * Instead, text is decoded as Python's `surrogateescape` does: a byte that is not part of a
 * valid character becomes the lone low surrogate U+DC00 + byte. Text decoded from valid UTF-8
 * never holds a lone surrogate, so such a line is known by its escapes, and escapedBytes gives
 * back its bytes, every one.
 */

/** Whether `text` holds a lone surrogate (an escaped byte, in text decodeEscaped made). */
export function hasEscapes (text: string): boolean {
  return !(text as unknown as { isWellFormed: () => boolean }).isWellFormed()
}

/**
 * Where `buf`'s last character ends whole: buf.length, or the start of a sequence at its end
 * that the next bytes may complete (a read cut a character in two). A sequence that can't
 * become valid is not held back: it is refused with the bytes it came with.
 */
export function wholeCharsEnd (buf: Buffer): number {
  const n = buf.length
  let i = n - 1
  // A sequence is at most 4 bytes: its lead is at most 3 continuation bytes back.
  while (i > 0 && i > n - 4 && (buf[i] & 0xc0) === 0x80) i--
  if (i < 0) return n
  const b = buf[i]
  const need = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 1
  return i + need > n ? i : n
}

/** The length of the valid UTF-8 character at buf[i] (at most `end`), 0 when none starts there. */
function charLength (buf: Buffer, i: number, end: number): number {
  const b = buf[i]
  if (b < 0x80) return 1
  const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
  if (len === 0 || i + len > end) return 0
  // The second byte's range excludes overlong forms (E0, F0), UTF-16 surrogates (ED) and code
  // points past U+10FFFF (F4): the table of the Unicode Standard, §3.9.
  const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80
  const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf
  const b1 = buf[i + 1]
  if (b1 < lo || b1 > hi) return 0
  if (len > 2 && (buf[i + 2] & 0xc0) !== 0x80) return 0
  if (len > 3 && (buf[i + 3] & 0xc0) !== 0x80) return 0
  return len
}

/** buf[start, end) as text, each byte that is not part of a valid character escaped (U+DC00 + byte). */
export function decodeEscaped (buf: Buffer, start = 0, end = buf.length): string {
  let out = ''
  let run = start
  for (let i = start; i < end;) {
    const len = charLength(buf, i, end)
    if (len > 0) { i += len; continue }
    out += buf.toString('utf8', run, i) + String.fromCharCode(0xdc00 + buf[i])
    run = ++i
  }
  return out + buf.toString('utf8', run, end)
}

/**
 * UTF-8 bytes to text, a chunk at a time, keeping every byte: valid input decodes as usual (one
 * native check per chunk); a chunk that is not valid is decoded line by line, and only its
 * invalid lines byte by byte, with their bad bytes escaped (decodeEscaped). A character cut
 * between two chunks is held until the next one. `escaped` says whether any text given out
 * since it was last reset holds escapes.
 */
export class EscapingDecoder {
  private carry: Buffer | undefined
  escaped = false

  write (chunk: Buffer): string {
    if (this.carry !== undefined) {
      chunk = Buffer.concat([this.carry, chunk])
      this.carry = undefined
    }
    const end = wholeCharsEnd(chunk)
    if (end < chunk.length) this.carry = Buffer.from(chunk.subarray(end))
    const body = end === chunk.length ? chunk : chunk.subarray(0, end)
    if (isUtf8(body)) return body.toString('utf8')
    this.escaped = true
    let out = ''
    for (let s = 0; s < body.length;) {
      let nl = body.indexOf(0x0a, s)
      nl = nl < 0 ? body.length : nl + 1
      const line = body.subarray(s, nl)
      out += isUtf8(line) ? line.toString('utf8') : decodeEscaped(line)
      s = nl
    }
    return out
  }

  /** The end of the input: a character still cut short is bytes that are not UTF-8. */
  end (): string {
    const rest = this.carry
    this.carry = undefined
    if (rest === undefined) return ''
    this.escaped = true
    return decodeEscaped(rest)
  }
}

/** The bytes `text` was decoded from by decodeEscaped. */
export function escapedBytes (text: string): Buffer {
  const parts: Buffer[] = []
  let run = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0xd800 || c > 0xdfff) continue
    // A pair is a character; a lone low surrogate in U+DC80-U+DCFF is an escaped byte.
    if (c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { i++; continue }
    if (c < 0xdc80 || c > 0xdcff) continue
    parts.push(Buffer.from(text.slice(run, i), 'utf8'), Buffer.of(c - 0xdc00))
    run = i + 1
  }
  if (parts.length === 0) return Buffer.from(text, 'utf8')
  parts.push(Buffer.from(text.slice(run), 'utf8'))
  return Buffer.concat(parts)
}

/** The first bytes of buf[start, end) that are not UTF-8: their offset from `start` and the run of them (at most 8). */
export function firstInvalid (buf: Buffer, start = 0, end = buf.length): { at: number, bytes: Buffer } | undefined {
  for (let i = start; i < end;) {
    const len = charLength(buf, i, end)
    if (len > 0) { i += len; continue }
    let j = i + 1
    while (j < end && j - i < 8 && charLength(buf, j, end) === 0) j++
    return { at: i - start, bytes: buf.subarray(i, j) }
  }
  return undefined
}

/**
 * A line that is not UTF-8, as a record error shows it: the line with each byte as one
 * Latin-1 character (U+0000-U+00FF: `Buffer.from(record, 'latin1')` gives the bytes back; so
 * does `jq -j .record | iconv -f UTF-8 -t LATIN1`), and where its first bad bytes are (the
 * byte's number counts from 1, as cmp(1) does).
 */
export function invalidUtf8Record (bytes: Buffer, line: number): { record: string, message: string, where: string, context: ErrorContext } {
  const bad = firstInvalid(bytes)
  const hex = bad === undefined ? '' : [...bad.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')
  const where = `byte ${(bad?.at ?? 0) + 1} begins [${hex}]`
  return {
    record: bytes.toString('latin1'),
    message: `line ${line} is not UTF-8: ${where}, which is no character (the record is shown as Latin-1, one character per byte)`,
    where,
    // Where and which bytes are in the message only: the same fault on other lines is one problem to explain-errors.
    context: { recordAs: 'latin1' }
  }
}
