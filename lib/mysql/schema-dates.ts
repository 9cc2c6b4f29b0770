import { numberText } from '../core/json.js'

/**
 * Elasticsearch date values, as a `date` or `date_nanos` mapping's `format` allows them, turned
 * into the ISO-8601 instant (UTC, `…Z`) a DATETIME column takes. Only formats with one exact
 * reading are converted: ISO-8601 (the default, strict_date_optional_time, and its kin) and
 * epoch_millis/epoch_second. A custom pattern (`yyyy/MM/dd`) is refused when the table is made
 * (dateFormatProblem), so no value is ever read by a guess.
 */
export type DateForm = 'iso' | 'epoch_millis' | 'epoch_second'

/** The built-in formats whose values are ISO-8601 text. */
const ISO_FORMATS = new Set([
  'strict_date_optional_time', 'date_optional_time', 'strict_date_optional_time_nanos',
  'strict_date_time', 'date_time', 'strict_date_time_no_millis', 'date_time_no_millis',
  'strict_date', 'date', 'strict_date_hour_minute_second', 'date_hour_minute_second',
  'strict_date_hour_minute_second_millis', 'date_hour_minute_second_millis',
  'strict_date_hour_minute_second_fraction', 'date_hour_minute_second_fraction',
  'strict_date_hour_minute', 'date_hour_minute', 'strict_date_hour', 'date_hour',
  'strict_year_month_day', 'year_month_day', 'strict_year_month', 'year_month', 'strict_year', 'year'
])

/** The default of a date field (Elasticsearch's and OpenSearch's). */
export const DEFAULT_DATE_FORMAT = 'strict_date_optional_time||epoch_millis'

/** The forms a mapping's `format` allows, or the first part of it that has no exact reading. */
export function dateForms (format: string | undefined): DateForm[] | { unknown: string } {
  const forms: DateForm[] = []
  for (const raw of (format ?? DEFAULT_DATE_FORMAT).split('||')) {
    const part = raw.trim()
    if (ISO_FORMATS.has(part)) forms.push('iso')
    else if (part === 'epoch_millis' || part === 'epoch_second') forms.push(part)
    else return { unknown: part }
  }
  return forms
}

// Elasticsearch's strict_date_optional_time: yyyy[-MM[-dd]][T HH[:mm[:ss[.f]]]][zone]
const ES_ISO = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/
const EPOCH = /^(-?)(\d+)(?:\.(\d+))?$/

function pad (n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

/** A UTC instant (whole ms) plus extra fraction digits past the millisecond, as ISO-8601 with Z. */
function isoText (ms: number, subMs: string): string | undefined {
  const d = new Date(ms)
  if (Number.isNaN(d.getTime())) return undefined
  const y = d.getUTCFullYear()
  if (y < 0 || y > 9999) return undefined
  const millis = pad(d.getUTCMilliseconds(), 3)
  const fraction = (millis + subMs).replace(/0+$/, '')
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fraction === '' ? '' : `.${fraction}`}Z`
}

/**
 * The value as an ISO-8601 UTC instant, or why it has none: a date field's value in any form the
 * mapping's format allows. The instant is kept (its millis and any digits past them, which the
 * column's own check refuses when it keeps fewer); an offset is not (it reads back as UTC).
 */
export function dateValue (v: unknown, forms: readonly DateForm[]): string | { problem: string } {
  const num = numberText(v)
  const text = typeof v === 'string' ? v : num
  if (text === undefined) return { problem: `${typeof v === 'boolean' ? 'a boolean' : Array.isArray(v) ? 'an array' : 'an object'} is not a date` }
  if (typeof v === 'string' && forms.includes('iso')) {
    const m = ES_ISO.exec(v)
    if (m !== null) {
      const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', f = '', zone] = m
      const wall = Date.UTC(2000, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))
      const at = new Date(wall)
      at.setUTCFullYear(Number(y))
      // A field out of range (25:00, 02-30) has no instant: Date would roll it over.
      if (at.getUTCMonth() !== Number(mo) - 1 || at.getUTCDate() !== Number(d) || at.getUTCHours() !== Number(h) || at.getUTCMinutes() !== Number(mi) || at.getUTCSeconds() !== Number(s)) {
        return { problem: `${JSON.stringify(v)} is not a calendar date and time` }
      }
      const offset = zone === undefined || zone === 'Z' ? 0 : offsetMinutes(zone)
      const frac = f.padEnd(3, '0')
      const out = isoText(at.getTime() + Number(frac.slice(0, 3)) - offset * 60_000, frac.slice(3))
      return out ?? { problem: `${JSON.stringify(v)} is outside the years 0000-9999 a DATETIME holds` }
    }
  }
  const epoch = forms.find((f) => f !== 'iso')
  const m = EPOCH.exec(text)
  if (epoch !== undefined && m !== null) {
    // Seconds or millis as digits: split at the millisecond without a float.
    const [, sign, whole, frac = ''] = m
    const digits = epoch === 'epoch_second' ? whole + frac.padEnd(3, '0').slice(0, 3) : whole
    const rest = epoch === 'epoch_second' ? frac.slice(3) : frac
    const ms = Number(digits)
    if (!Number.isSafeInteger(ms)) return { problem: `${text} is outside the years 0000-9999 a DATETIME holds` }
    // Before 1970 a fraction counts back from the whole: -1.5 s is 1.5 s before, not 0.5.
    const negative = sign === '-' && /[1-9]/.test(rest)
    const out = negative ? isoText(-ms - 1, complement(rest)) : isoText(sign === '-' ? -ms : ms, rest)
    return out ?? { problem: `${text} is outside the years 0000-9999 a DATETIME holds` }
  }
  const allowed = forms.map((f) => f === 'iso' ? 'ISO-8601 text' : f).join(' or ')
  return { problem: `${typeof v === 'string' ? JSON.stringify(v) : text} is not a date in the field's format (${allowed})` }
}

/** '456' → '544': the digits d such that 0.d + 0.digits = 1 (for a negative epoch's fraction). */
function complement (digits: string): string {
  const n = 10n ** BigInt(digits.length) - BigInt(digits)
  return n.toString().padStart(digits.length, '0')
}

function offsetMinutes (zone: string): number {
  const sign = zone[0] === '-' ? -1 : 1
  const d = zone.slice(1).replace(':', '')
  return sign * (Number(d.slice(0, 2)) * 60 + Number(d.slice(2) === '' ? 0 : d.slice(2)))
}
