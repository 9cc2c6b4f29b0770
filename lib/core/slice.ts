import { UsageError } from './errors.js'

/** One part of a read split N ways: `--slice I/N`. */
export interface SliceSpec { id: number, max: number }

/** `--slice I/N` as typed; undefined when not given. */
export function parseSliceOption (text: string | undefined): SliceSpec | undefined {
  if (text === undefined) return undefined
  const m = /^(\d+)\/(\d+)$/.exec(text)
  if (m === null) throw new UsageError(`invalid value for --slice: '${text}' (use I/N, e.g. 0/4)`)
  return { id: Number(m[1]), max: Number(m[2]) }
}

/** Checks --slices N (in one process) and --slice I/N (one part of N) together, as every reader takes them. */
export function checkSlicing (slices: number | undefined, slice: SliceSpec | undefined): void {
  if (slices !== undefined && slice !== undefined) throw new UsageError('--slices and --slice cannot be combined')
  if (slices !== undefined && (!Number.isInteger(slices) || slices < 1)) throw new UsageError(`invalid value for --slices: ${slices}`)
  if (slice !== undefined) {
    const { id, max } = slice
    if (!Number.isInteger(id) || !Number.isInteger(max) || max < 1 || id < 0 || id >= max) throw new UsageError(`invalid value for --slice: ${id}/${max} (I/N with 0 <= I < N)`)
  }
}
