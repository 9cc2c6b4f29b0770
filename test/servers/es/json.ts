// JSON that keeps 64-bit integers exact. Elasticsearch writes Long.MIN/MAX sort sentinels as
// integer literals beyond 2^53; JSON.parse would round them, and search_after must get them back
// verbatim, so request bodies are parsed here and responses written here.

/** Already-serialized JSON, spliced into output as is (pre-serialized `_source`). */
export class RawJson {
  constructor(readonly json: string) {}
}

/** A value known to hold no bigint and no RawJson: serialized natively (a large _bulk answer costs little). */
export class PlainJson {
  constructor(readonly value: Json) {}
}

export type Json = null | boolean | number | bigint | string | Json[] | { [k: string]: Json }

export class JsonSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(message)
  }
}

/** A key given twice in one object, where the engines' parser (Jackson, strict duplicate detection) stops. */
export class DuplicateKeyError extends Error {
  /** `offset`: where the repeated name's opening quote is in the text. */
  constructor(readonly key: string, readonly line: number, readonly column: number, readonly offset: number) {
    super(`Duplicate field '${key}'`)
  }
}

/**
 * Parses JSON; integer literals outside the safe range come back as bigint. `strictKeys`: a
 * key given twice in one object throws DuplicateKeyError, as Elasticsearch and OpenSearch parse
 * documents (JSON.parse keeps the last).
 */
export function parseJson(text: string, strictKeys = false, onFloat?: (literal: string) => Json): Json {
  let i = 0
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 32 || c === 9 || c === 10 || c === 13) i++
      else break
    }
  }
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at position ${i}`, i)
  }
  const value = (): Json => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const obj: { [k: string]: Json } = {}
      ws()
      if (text[i] === '}') { i++; return obj }
      for (;;) {
        ws()
        if (text[i] !== '"') fail('expected a field name')
        const start = i
        const key = str()
        if (strictKeys && Object.hasOwn(obj, key)) {
          // Jackson's location: just past the repeated name, columns counted from 1.
          const before = text.lastIndexOf('\n', i - 1)
          throw new DuplicateKeyError(key, text.slice(0, i).split('\n').length, i - before, start)
        }
        ws()
        if (text[i] !== ':') fail("expected ':'")
        i++
        obj[key] = value()
        ws()
        if (text[i] === ',') { i++; continue }
        if (text[i] === '}') { i++; return obj }
        fail("expected ',' or '}'")
      }
    }
    if (c === '[') {
      i++
      const arr: Json[] = []
      ws()
      if (text[i] === ']') { i++; return arr }
      for (;;) {
        arr.push(value())
        ws()
        if (text[i] === ',') { i++; continue }
        if (text[i] === ']') { i++; return arr }
        fail("expected ',' or ']'")
      }
    }
    if (c === '"') return str()
    if (text.startsWith('true', i)) { i += 4; return true }
    if (text.startsWith('false', i)) { i += 5; return false }
    if (text.startsWith('null', i)) { i += 4; return null }
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (m === null) return fail('unexpected character')
    i += m[0].length
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0])
      return Number.isSafeInteger(n) ? n : BigInt(m[0])
    }
    return onFloat !== undefined ? onFloat(m[0]) : Number(m[0])
  }
  const str = (): string => {
    // Let JSON.parse decode escapes: find the closing quote, skipping escaped characters.
    const start = i
    i++
    for (;;) {
      const j = text.indexOf('"', i)
      if (j < 0) fail('unterminated string')
      let backslashes = 0
      for (let k = j - 1; text[k] === '\\'; k--) backslashes++
      i = j + 1
      if (backslashes % 2 === 0) break
    }
    return JSON.parse(text.slice(start, i)) as string
  }
  const result = value()
  ws()
  if (i < text.length) fail('unexpected trailing content')
  return result
}

/** How many object keys `value` holds, at every depth. */
function keyCount(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0
  let n = 0
  if (Array.isArray(value)) {
    for (const v of value) n += keyCount(v)
    return n
  }
  for (const k in value as Record<string, unknown>) n += 1 + keyCount((value as Record<string, unknown>)[k])
  return n
}

/**
 * The first key given twice in one object of `text` (whose JSON.parse reading is `parsed`), or
 * undefined. Cheap when there is none: each key of compact JSON ends in an unescaped `":`, so
 * as many of those as keys in the parse means no key was dropped; only otherwise is the text
 * parsed again, strictly.
 */
export function duplicateKey(text: string, parsed: unknown): DuplicateKeyError | undefined {
  let n = 0
  for (let i = text.indexOf('":'); i >= 0; i = text.indexOf('":', i + 2)) {
    let slashes = 0
    while (text.charCodeAt(i - 1 - slashes) === 92) slashes++
    if (slashes % 2 === 0) n++
  }
  if (n === keyCount(parsed)) return undefined
  try {
    parseJson(text, true)
  } catch (e) {
    if (e instanceof DuplicateKeyError) return e
  }
  return undefined
}

export type Out = Json | RawJson | PlainJson | undefined | Out[] | { [k: string]: Out }

/** Serializes like JSON.stringify, but bigint as exact literals and RawJson verbatim. */
export function stringify(v: Out): string {
  if (v instanceof RawJson) return v.json
  if (v instanceof PlainJson) return JSON.stringify(v.value)
  if (typeof v === 'bigint') return v.toString()
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null'
  if (Array.isArray(v)) return '[' + v.map((x) => (x === undefined ? 'null' : stringify(x))).join(',') + ']'
  const parts: string[] = []
  for (const [k, x] of Object.entries(v)) {
    if (x !== undefined) parts.push(JSON.stringify(k) + ':' + stringify(x))
  }
  return '{' + parts.join(',') + '}'
}

export function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RawJson) && !(v instanceof PlainJson)
}

/**
 * A number with a fraction or an exponent as Jackson writes the Java double it parses to
 * (Double.toString): 1.0 stays 1.0, 1.5e3 is 1500.0, 1e21 is 1.0E21, 0.1000000000000000055511151231257827
 * is 0.1, and one beyond a double's range is the string "Infinity" (JSON has no such number).
 */
export function javaDouble(literal: string): string {
  const n = Number(literal)
  if (!Number.isFinite(n)) return n > 0 ? '"Infinity"' : '"-Infinity"'
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0'
  const abs = Math.abs(n)
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(n)
    return s.includes('.') ? s : `${s}.0`
  }
  const [mantissa, exponent] = n.toExponential().split('e') as [string, string]
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`
}

/**
 * A document as an engine holds it after parsing it into Java values: integers exact (long or
 * BigInteger), other numbers as Jackson writes their double again (RawJson), strings decoded.
 * stringify() of it is the _source an update writes back (OpenSearch 2.19 and 3.3,
 * Elasticsearch 7.17: test/engine/write.test.ts).
 */
export function parseAsJava(text: string): Json {
  return parseJson(text, false, (literal) => new RawJson(javaDouble(literal)) as unknown as Json)
}
