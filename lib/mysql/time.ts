import { UsageError } from '../core/errors.js'

/**
 * DATETIME and TIMESTAMP values as ISO-8601 text in one time zone (--timezone, default UTC).
 *
 * The session's time_zone is always +00:00, so the server sends TIMESTAMP values (instants) as
 * UTC wall-clock text; they are shown in the zone with its offset. DATETIME values carry no zone:
 * they are taken as wall-clock time in the zone and given its offset. Fractional seconds are
 * kept as the server wrote them (up to 6 digits), never rounded.
 */
export interface TimeFormatter {
  /** The zone as given, for messages and the checkpoint. */
  readonly zone: string
  /** UTC: the server's text needs only a T and a Z. */
  readonly utc: boolean
  /** DATETIME text ('2024-01-02 03:04:05.123') → ISO-8601 (no quotes); undefined for a zero date. */
  datetime: (text: string) => string | undefined
  /** TIMESTAMP text in UTC → ISO-8601 in the zone; undefined for a zero date. */
  timestamp: (text: string) => string | undefined
}

const OFFSET = /^([+-])(\d{2}):?(\d{2})$/
const UTC_NAMES = new Set(['utc', 'z', 'gmt', 'etc/utc', 'etc/gmt', 'universal', 'zulu', '+00:00', '-00:00', '+0000', '+00'])
const MINUTE = 60_000
/** Zone offsets change only at quarter hours (UTC), so they are cached by quarter hour. */
const QUARTER = 15 * MINUTE

function pad (n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

function offsetText (minutes: number): string {
  if (minutes === 0) return 'Z'
  const a = Math.abs(minutes)
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`
}

/** Whether the text names a real calendar date (MySQL allows '0000-00-00' and zero months or days). */
function isZeroDate (text: string): boolean {
  return text.startsWith('0000-00-00') || text.charCodeAt(5) === 0x30 && text.charCodeAt(6) === 0x30 || text.charCodeAt(8) === 0x30 && text.charCodeAt(9) === 0x30
}

interface Parts { ms: number, fraction: string }

/** '2024-01-02 03:04:05.123456' → milliseconds of that wall time read as UTC, and the fraction text ('.123456'). */
function parseWall (text: string): Parts {
  const y = Number(text.slice(0, 4))
  const d = new Date(Date.UTC(2000, Number(text.slice(5, 7)) - 1, Number(text.slice(8, 10)), Number(text.slice(11, 13)), Number(text.slice(14, 16)), Number(text.slice(17, 19))))
  d.setUTCFullYear(y) // Date.UTC reads years 0–99 as 1900–1999
  return { ms: d.getTime(), fraction: text.slice(19) }
}

function formatWall (ms: number, fraction: string, offsetMinutes: number): string {
  const d = new Date(ms)
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fraction}${offsetText(offsetMinutes)}`
}

/** The offset (minutes east of UTC) of an IANA zone at each instant, cached by quarter hour. */
function zoneOffsets (zone: string): (instantMs: number) => number {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short' })
  const cache = new Map<number, number>()
  return (instantMs) => {
    const key = Math.floor(instantMs / QUARTER)
    let off = cache.get(key)
    if (off === undefined) {
      const at = key * QUARTER
      const p: Record<string, string> = {}
      for (const { type, value } of fmt.formatToParts(new Date(at))) p[type] = value
      const year = p.era === 'BC' || p.era === 'B' ? 1 - Number(p.year) : Number(p.year)
      const wall = new Date(Date.UTC(2000, Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second)))
      wall.setUTCFullYear(year)
      off = Math.round((wall.getTime() - at) / MINUTE)
      if (cache.size > 50_000) cache.clear()
      cache.set(key, off)
    }
    return off
  }
}

/**
 * Checks --timezone: UTC (the default), a fixed offset (+05:30) or an IANA name (Europe/Paris).
 * Names are resolved here, by Node's time zone data, not by the server (whose tables are often
 * empty).
 */
export function timeFormatter (zone = 'UTC'): TimeFormatter {
  const z = zone.trim()
  if (UTC_NAMES.has(z.toLowerCase())) {
    const iso = (text: string): string | undefined => isZeroDate(text) ? undefined : `${text.slice(0, 10)}T${text.slice(11)}Z`
    return { zone: z, utc: true, datetime: iso, timestamp: iso }
  }
  const m = OFFSET.exec(z)
  if (m !== null) {
    const minutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]))
    if (Number(m[3]) > 59 || Math.abs(minutes) > 14 * 60) throw new UsageError(`invalid value for --timezone: '${zone}' (offsets go from -14:00 to +14:00)`)
    const suffix = offsetText(minutes)
    return {
      zone: z,
      utc: false,
      datetime: (text) => isZeroDate(text) ? undefined : `${text.slice(0, 10)}T${text.slice(11)}${suffix}`,
      timestamp: (text) => {
        if (isZeroDate(text)) return undefined
        const { ms, fraction } = parseWall(text)
        return formatWall(ms + minutes * MINUTE, fraction, minutes)
      }
    }
  }
  let offsetAt: (instantMs: number) => number
  try {
    offsetAt = zoneOffsets(z)
  } catch {
    throw new UsageError(`invalid value for --timezone: '${zone}' (use UTC, an offset such as +02:00, or a zone name such as Europe/Paris)`)
  }
  return {
    zone: z,
    utc: false,
    datetime: (text) => {
      if (isZeroDate(text)) return undefined
      const { ms: wall, fraction } = parseWall(text)
      // The offset in force at that wall time. A wall time the zone skips (clocks forward) gets
      // the offset from before the change; one it repeats (clocks back) its first occurrence.
      // (Zones change their offset at most once in any 24 hours.)
      const before = offsetAt(wall - 12 * 60 * MINUTE)
      const after = offsetAt(wall + 12 * 60 * MINUTE)
      const off = offsetAt(wall - before * MINUTE) === before || offsetAt(wall - after * MINUTE) !== after ? before : after
      return formatWall(wall, fraction, off)
    },
    timestamp: (text) => {
      if (isZeroDate(text)) return undefined
      const { ms, fraction } = parseWall(text)
      const off = offsetAt(ms)
      return formatWall(ms + off * MINUTE, fraction, off)
    }
  }
}
