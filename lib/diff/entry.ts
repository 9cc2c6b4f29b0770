/**
 * A record as the partitions hold it: a fixed header, its key's bytes, then its line's bytes.
 * Everything the comparison needs is in the header, so no line is scanned twice.
 *
 *   0  u32  the entry's length (header, key and line)
 *   4  u32  the key's hash (level 0)
 *   8  u48  the line's number in its input
 *  14  u32  the key's length
 *  18  u32  the line's length
 *  22  i32  where the content starts in the line (-1: the record has none)
 *  26  i32  where it ends
 *  30       the key, then the line
 */
export const HEADER = 30

export function writeEntry (to: Buffer, at: number, hash: number, line: number, key: Buffer, keyLength: number, from: Buffer, start: number, end: number, contentStart: number, contentEnd: number): number {
  const length = HEADER + keyLength + end - start
  to.writeUInt32LE(length, at)
  to.writeUInt32LE(hash, at + 4)
  to.writeUIntLE(line, at + 8, 6)
  to.writeUInt32LE(keyLength, at + 14)
  to.writeUInt32LE(end - start, at + 18)
  to.writeInt32LE(contentStart < 0 ? -1 : contentStart - start, at + 22)
  to.writeInt32LE(contentStart < 0 ? -1 : contentEnd - start, at + 26)
  for (let i = 0; i < keyLength; i++) to[at + HEADER + i] = key[i]
  from.copy(to, at + HEADER + keyLength, start, end)
  return length
}

export const entryLength = (buf: Buffer, at: number): number => buf.readUInt32LE(at)
export const entryHash = (buf: Buffer, at: number): number => buf.readUInt32LE(at + 4)
export const entryLine = (buf: Buffer, at: number): number => buf.readUIntLE(at + 8, 6)
export const entryKeyLength = (buf: Buffer, at: number): number => buf.readUInt32LE(at + 14)
export const entryKeyStart = (at: number): number => at + HEADER
export const entryLineStart = (buf: Buffer, at: number): number => at + HEADER + buf.readUInt32LE(at + 14)
export const entryLineEnd = (buf: Buffer, at: number): number => at + buf.readUInt32LE(at)

/** Where the content is in the buffer, or -1 when the record has none. */
export function entryContent (buf: Buffer, at: number): [number, number] {
  const rel = buf.readInt32LE(at + 22)
  if (rel < 0) return [-1, -1]
  const line = entryLineStart(buf, at)
  return [line + rel, line + buf.readInt32LE(at + 26)]
}

/** Whether the entries at `a` (in `ab`) and `b` (in `bb`) have the same key. */
export function sameKey (ab: Buffer, a: number, bb: Buffer, b: number): boolean {
  const n = ab.readUInt32LE(a + 14)
  if (n !== bb.readUInt32LE(b + 14)) return false
  // Keys are short: a loop beats a call into Buffer.compare.
  a += HEADER
  b += HEADER
  for (let i = 0; i < n; i++) if (ab[a + i] !== bb[b + i]) return false
  return true
}
