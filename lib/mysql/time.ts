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
 * A zone's offsets: at an instant, and for a wall time. A wall time the zone skips (clocks
 * forward) gets the offset from before the change; one it repeats (clocks back), its first
 * occurrence's. Zones change their offset at most once in any 24 hours.
 */
interface Zone {
  zone: string
  utc: boolean
  /** Minutes east of UTC at an instant (ms). */
  at: (instantMs: number) => number
  /** Minutes east of UTC of a wall time (its ms read as UTC). */
  ofWall: (wallMs: number) => number
}

/**
 * Checks --timezone: UTC (the default), a fixed offset (+05:30) or an IANA name (Europe/Paris).
 * Names are resolved here, by Node's time zone data, not by the server (whose tables are often
 * empty).
 */
function zoneOf (zone: string): Zone {
  const z = zone.trim()
  if (UTC_NAMES.has(z.toLowerCase())) return { zone: z, utc: true, at: () => 0, ofWall: () => 0 }
  const m = OFFSET.exec(z)
  if (m !== null) {
    const minutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]))
    if (Number(m[3]) > 59 || Math.abs(minutes) > 14 * 60) throw new UsageError(`invalid value for --timezone: '${zone}' (offsets go from -14:00 to +14:00)`)
    return { zone: z, utc: false, at: () => minutes, ofWall: () => minutes }
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
    at: offsetAt,
    ofWall: (wall) => {
      const before = offsetAt(wall - 12 * 60 * MINUTE)
      const after = offsetAt(wall + 12 * 60 * MINUTE)
      return offsetAt(wall - before * MINUTE) === before || offsetAt(wall - after * MINUTE) !== after ? before : after
    }
  }
}

export function timeFormatter (zone = 'UTC'): TimeFormatter {
  const z = zoneOf(zone)
  if (z.utc) {
    const iso = (text: string): string | undefined => isZeroDate(text) ? undefined : `${text.slice(0, 10)}T${text.slice(11)}Z`
    return { zone: z.zone, utc: true, datetime: iso, timestamp: iso }
  }
  return {
    zone: z.zone,
    utc: false,
    datetime: (text) => {
      if (isZeroDate(text)) return undefined
      const { ms: wall, fraction } = parseWall(text)
      return formatWall(wall, fraction, z.ofWall(wall))
    },
    timestamp: (text) => {
      if (isZeroDate(text)) return undefined
      const { ms, fraction } = parseWall(text)
      const off = z.at(ms)
      return formatWall(ms + off * MINUTE, fraction, off)
    }
  }
}

/** What the writer sends for a DATETIME or TIMESTAMP value: the server's text, or why none reads back as the value. */
export type TimeValue = { text: string } | { problem: string }

/**
 * The inverse of timeFormatter, for mysql-write: ISO-8601 (as mysql-read writes it, or any
 * `YYYY-MM-DD[T ]hh:mm[:ss[.f]][Z|±hh:mm]`) → the text the server stores, read in the same zone.
 * A DATETIME gets the wall time in the zone (the value's own when the zone gives that wall time
 * its offset, as mysql-read wrote it, else the instant's), a TIMESTAMP the instant in UTC (the
 * session's time zone). Undefined for any other text, which the server reads as it is (zero
 * dates, numbers).
 */
export interface TimeParser {
  readonly zone: string
  datetime: (text: string) => TimeValue | undefined
  timestamp: (text: string) => TimeValue | undefined
}

const ISO = /^(-?\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/

/** '+05:30', '-0800', '+02', 'Z' → minutes east of UTC. */
function offsetMinutes (text: string): number {
  if (text === 'Z' || text === 'z') return 0
  const sign = text[0] === '-' ? -1 : 1
  const digits = text.slice(1).replace(':', '')
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) === '' ? 0 : digits.slice(2)))
}

/** A wall time (ms read as UTC) and fraction as the server's text, 'YYYY-MM-DD hh:mm:ss.ffffff'. */
function serverText (ms: number, fraction: string): string {
  const d = new Date(ms)
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fraction}`
}

export function timeParser (zone = 'UTC'): TimeParser {
  const z = zoneOf(zone)
  const parse = (text: string): { wall: number, fraction: string, offset: number | undefined, date: string } | undefined => {
    const m = ISO.exec(text)
    if (m === null) return undefined
    const date = `${m[1]}-${m[2]}-${m[3]}`
    if (isZeroDate(date) || m[1].startsWith('-')) return undefined
    const { ms } = parseWall(`${date} ${m[4]}:${m[5]}:${m[6] ?? '00'}`)
    // A field out of range (25:00, 02-30) is the server's to refuse: Date would roll it over.
    if (serverText(ms, '') !== `${date} ${m[4]}:${m[5]}:${m[6] ?? '00'}`) return undefined
    return { wall: ms, fraction: m[7] ?? '', offset: m[8] === undefined ? undefined : offsetMinutes(m[8]), date }
  }
  return {
    zone: z.zone,
    datetime: (text) => {
      const p = parse(text)
      if (p === undefined) return undefined
      if (p.offset === undefined || z.ofWall(p.wall) === p.offset) return { text: serverText(p.wall, p.fraction) }
      const instant = p.wall - p.offset * MINUTE
      const wall = instant + z.at(instant) * MINUTE
      if (z.ofWall(wall) !== z.at(instant)) return { problem: `${text} is a time whose wall time in ${z.zone} would read back as another time` }
      return { text: serverText(wall, p.fraction) }
    },
    timestamp: (text) => {
      const p = parse(text)
      if (p === undefined) return undefined
      let offset = p.offset
      if (offset === undefined) {
        offset = z.ofWall(p.wall)
        if (z.at(p.wall - offset * MINUTE) !== offset) return { problem: `${text} is a wall time ${z.zone} skips (its clocks go forward then): no instant has it` }
      }
      return { text: serverText(p.wall - offset * MINUTE, p.fraction) }
    }
  }
}

/**
 * What a reader does with a zero date (0000-00-00), which ISO-8601 cannot name: it writes the
 * server's text, and warns once per column.
 */
export function zeroDateWarner (warn: (message: string, details: Record<string, unknown>) => void): (column: string) => void {
  const seen = new Set<string>()
  return (column) => {
    if (seen.has(column)) return
    seen.add(column)
    warn(`column ${column} holds a zero date (0000-00-00), which ISO-8601 cannot name: written as the server's text`, { column })
  }
}
