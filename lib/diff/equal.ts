import { isLosslessNumber, numberText, parseExact, stringifyExact } from '../core/json.js'
import { canonicalDecimal } from './decimal.js'

/**
 * When two JSON values are the same (rec-diff's equality, README "Verify and repair a copy"):
 * objects whatever the order of their members; strings by their characters (escapes read, no
 * Unicode normalisation: é as one code point and as e + U+0301 differ); numbers by their exact
 * decimal value (1.0 = 1 = 1e0, 2^53+1 ≠ 2^53), or as written with `text`; arrays in order;
 * true, false and null as themselves. A key given twice in one object is read as JSON.parse
 * reads it: the last one counts.
 */
export type NumberRule = 'value' | 'text'

/** Where two values first differ, and what each side has there (undefined: nothing). */
export interface Difference {
  path: string
  source: unknown
  target: unknown
}

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

type Kind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null'

function kindOf (v: unknown): Kind {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number' || typeof v === 'bigint' || isLosslessNumber(v)) return 'number'
  return typeof v as Kind
}

/** `a.b`, `a[2]`, `a["x y"]`: a member's path as a reader writes it. */
function member (path: string, key: string): string {
  if (/^[A-Za-z_@$][\w@$-]*$/.test(key)) return path === '.' ? key : `${path}.${key}`
  return `${path === '.' ? '' : path}[${JSON.stringify(key)}]`
}

/** The first place where `a` and `b` differ, walking `a`'s members in its order; undefined when equal. */
export function firstDifference (a: unknown, b: unknown, numbers: NumberRule, path: string): Difference | undefined {
  const ka = kindOf(a)
  if (ka !== kindOf(b)) return { path, source: a, target: b }
  switch (ka) {
    case 'number': {
      const ta = numberText(a) as string
      const tb = numberText(b) as string
      if (ta === tb) return undefined
      return numbers === 'text' || canonicalDecimal(ta) !== canonicalDecimal(tb) ? { path, source: a, target: b } : undefined
    }
    case 'array': {
      const xa = a as unknown[]
      const xb = b as unknown[]
      const n = Math.min(xa.length, xb.length)
      for (let i = 0; i < n; i++) {
        const d = firstDifference(xa[i], xb[i], numbers, `${path === '.' ? '' : path}[${i}]`)
        if (d !== undefined) return d
      }
      if (xa.length === xb.length) return undefined
      return { path: `${path === '.' ? '' : path}[${n}]`, source: xa[n], target: xb[n] }
    }
    case 'object': {
      const oa = a as Record<string, unknown>
      const ob = b as Record<string, unknown>
      for (const k of Object.keys(oa)) {
        if (!has(ob, k)) return { path: member(path, k), source: oa[k], target: undefined }
        const d = firstDifference(oa[k], ob[k], numbers, member(path, k))
        if (d !== undefined) return d
      }
      for (const k of Object.keys(ob)) if (!has(oa, k)) return { path: member(path, k), source: undefined, target: ob[k] }
      return undefined
    }
    default:
      return a === b ? undefined : { path, source: a, target: b }
  }
}

/**
 * The first difference between two JSON texts, each read exactly (numbers as written); undefined
 * when they are the same value. `path` names the compared value in the difference (`_source`).
 */
export function compareTexts (a: string | undefined, b: string | undefined, numbers: NumberRule, path: string): Difference | undefined {
  if (a === undefined || b === undefined) return a === b ? undefined : { path, source: a === undefined ? undefined : parseExact(a), target: b === undefined ? undefined : parseExact(b) }
  return firstDifference(parseExact(a), parseExact(b), numbers, path)
}

const MAX_SHOWN = 80

/** A value for a report line: its JSON text as written, cut at 80 characters; `(absent)` for nothing. */
export function shown (v: unknown): string {
  if (v === undefined) return '(absent)'
  const text = stringifyExact(v)
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text
}

/** `_source.price: 10 ≠ 10.5` */
export function describe (d: Difference): string {
  return `${d.path}: ${shown(d.source)} ≠ ${shown(d.target)}`
}
