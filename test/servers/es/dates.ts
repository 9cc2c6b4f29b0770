// Date parsing for range queries and date sort values: ISO dates (partial ones too), epoch
// millis/seconds, and date math (`now-1d/d`, `2024-01-01||+1M/d`). Upper bounds round up the way
// ES does: a partial date or a `/unit` rounding with lte covers the whole unit.

import { allShardsFailed, parsingException } from './errors.js'

const ISO = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/

const SUPPORTED_FORMATS = new Set([
  'strict_date_optional_time', 'date_optional_time', 'strict_date_optional_time_nanos',
  'strict_date', 'date', 'yyyy-MM-dd', 'strict_date_time', 'date_time', 'epoch_millis', 'epoch_second',
])

export function checkFormat(format: string): string[] {
  const parts = format.split('||')
  for (const p of parts) {
    if (!SUPPORTED_FORMATS.has(p)) {
      throw parsingException(`date format [${p}] is not supported by the espipe test server`)
    }
  }
  return parts
}

function parseIso(s: string, roundUp: boolean): number | undefined {
  const m = ISO.exec(s)
  if (m === null) return undefined
  const num = (x: string | undefined, dflt: number): number => (x === undefined ? dflt : Number(x))
  const year = Number(m[1])
  const month = num(m[2], roundUp ? 12 : 1) - 1
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate()
  const day = num(m[3], roundUp ? lastDay : 1)
  const hour = num(m[4], roundUp ? 23 : 0)
  const minute = num(m[5], roundUp ? 59 : 0)
  const second = num(m[6], roundUp ? 59 : 0)
  const ms = m[7] === undefined ? (roundUp ? 999 : 0) : Number((m[7] + '00').slice(0, 3))
  if (month > 11 || day < 1 || day > lastDay || hour > 23 || minute > 59 || second > 59) return undefined
  let t = Date.UTC(year, month, day, hour, minute, second, ms)
  const zone = m[8]
  if (zone !== undefined && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)
    if (z === null) return undefined
    const offset = (Number(z[2]) * 60 + Number(z[3] ?? 0)) * 60000
    t -= z[1] === '+' ? offset : -offset
  }
  return t
}

/** Parses one date with the given formats (default: ES's `strict_date_optional_time||epoch_millis`). */
export function parseDate(v: unknown, formats: string[] | undefined, roundUp: boolean): number | undefined {
  const fmts = formats ?? ['strict_date_optional_time', 'epoch_millis']
  for (const f of fmts) {
    if (f === 'epoch_millis' || f === 'epoch_second') {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : NaN
      if (!Number.isNaN(n)) return f === 'epoch_second' ? n * 1000 : n
      continue
    }
    if (typeof v !== 'string') continue
    const t = parseIso(v, roundUp)
    if (t !== undefined) return t
  }
  // Numbers are accepted as epoch millis whatever the format, as ES does for numeric input.
  return typeof v === 'number' ? v : undefined
}

const UNIT_MS: Record<string, number> = { w: 7 * 86400000, d: 86400000, h: 3600000, H: 3600000, m: 60000, s: 1000 }

function roundDown(t: number, unit: string): number {
  const d = new Date(t)
  switch (unit) {
    case 'y': return Date.UTC(d.getUTCFullYear(), 0, 1)
    case 'M': return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
    case 'w': {
      const day = Math.floor(t / 86400000) * 86400000
      const dow = (new Date(day).getUTCDay() + 6) % 7 // ISO weeks start on Monday
      return day - dow * 86400000
    }
    default: {
      const u = UNIT_MS[unit] as number
      return Math.floor(t / u) * u
    }
  }
}

function add(t: number, n: number, unit: string): number {
  if (unit === 'y' || unit === 'M') {
    const d = new Date(t)
    if (unit === 'y') d.setUTCFullYear(d.getUTCFullYear() + n)
    else d.setUTCMonth(d.getUTCMonth() + n)
    return d.getTime()
  }
  return t + n * (UNIT_MS[unit] as number)
}

/**
 * A range bound: date, `now…` or `date||…` with date math. `roundUp` is true for lte and gt:
 * ES then takes the last millisecond of a rounded unit or of a partial date.
 */
export function parseDateBound(v: unknown, formats: string[] | undefined, roundUp: boolean, field: string): number {
  let anchor: number | undefined
  let math = ''
  if (typeof v === 'string' && v.startsWith('now')) {
    anchor = Date.now()
    math = v.slice(3)
  } else if (typeof v === 'string' && v.includes('||')) {
    const at = v.indexOf('||')
    anchor = parseDate(v.slice(0, at), formats, false)
    math = v.slice(at + 2)
  } else {
    anchor = parseDate(v, formats, roundUp)
  }
  const bad = (): never => {
    throw parsingException(`failed to parse date field [${String(v)}] of field [${field}]`)
  }
  if (anchor === undefined) return bad()
  let t = anchor
  let rest = math
  while (rest.length > 0) {
    const m = /^([+-])(\d+)([yMwdhHms])|^\/([yMwdhHms])/.exec(rest)
    if (m === null) {
      // The engine's own words: a unit it lacks (`+1x`), else a character where an operator belongs (`-1ms`: `s`).
      const unit = /^[+-]\d+(.)|^\/(.)/.exec(rest)
      if (unit !== null && !/[yMwdhHms]/.test(unit[1] ?? unit[2] ?? '')) {
        throw allShardsFailed(400, { type: 'parse_exception', reason: `unit [${unit[1] ?? unit[2] ?? ''}] not supported for date math [${math}]` }, null)
      }
      if (/^[^+\-/]/.test(rest)) throw allShardsFailed(400, { type: 'parse_exception', reason: `operator not supported for date math [${math}]` }, null)
      return bad()
    }
    rest = rest.slice(m[0].length)
    if (m[4] !== undefined) {
      const start = roundDown(t, m[4])
      t = roundUp ? add(start, 1, m[4]) - 1 : start
    } else {
      t = add(t, (m[1] === '-' ? -1 : 1) * Number(m[2]), m[3] as string)
    }
  }
  return t
}
