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
