import { UsageError } from './errors.js'

const UNITS: Record<string, number> = { b: 1, kb: 1024, k: 1024, kib: 1024, mb: 1024 ** 2, m: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3, gib: 1024 ** 3 }

/** `5mb`, `512kb`, `64MiB`, `1gb` or a plain number of bytes → bytes (units of 1024, as Elasticsearch counts them). */
export function parseByteSize (text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim())
  const unit = UNITS[(m?.[2] ?? '').toLowerCase() || 'b']
  if (m === null || unit === undefined) throw new UsageError(`invalid value for --${option}: '${text}' (use e.g. 5mb, 512kb, or a number of bytes)`)
  const n = Math.floor(Number(m[1]) * unit)
  if (n < 1) throw new UsageError(`invalid value for --${option}: '${text}' (at least 1 byte)`)
  return n
}

/** 5242880 → `5mb`: a size as parseByteSize reads it back (an option's default in --help). */
export function byteSizeText (n: number): string {
  for (const [unit, size] of [['gb', 1024 ** 3], ['mb', 1024 ** 2], ['kb', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`
  }
  return String(n)
}

/** 5242880 → `5 MB`, for messages. */
export function formatBytes (n: number): string {
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MB`
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`
  return `${n} B`
}
