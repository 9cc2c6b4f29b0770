import { setFlagsFromString } from 'node:v8'

/**
 * How a binary tunes V8's heap for the load it carries (a field of its CLI spec; runCli applies
 * it first thing). Only what V8 reads while it runs can be set here: sizes fixed when the heap
 * was set up (`--max-semi-space-size`) are read once at start, and setting them later changes
 * nothing, so they are not offered.
 */
export interface HeapTuning {
  /**
   * Keep the young generation at the size it has (2 MB at start) instead of letting V8 double
   * it up to 32 MB. Every chunk read and written is an ArrayBuffer and every record's cells are
   * short-lived strings, freed only when a young-generation collection finds them dead; enough
   * of them are alive at each collection (the records of one input chunk, waiting) that V8 keeps
   * doubling it, and a large young generation is collected rarely: ~30-40 MB of spent chunks
   * wait in memory. It holds from the moment it is set: a binary whose library grows the young
   * generation as it loads (mysql2 takes it to 8 MB) loads that library after, in `build`.
   */
  fixedYoungGeneration?: boolean
  /**
   * V8's old-generation growth step, in percent of the live heap (`--heap-growing-percent`):
   * for stages whose records wait in batches long enough to be promoted, which would otherwise
   * let the old generation fill with garbage between collections.
   */
  growingPercent?: number
}

export function applyHeapTuning (heap: HeapTuning): void {
  if (heap.fixedYoungGeneration === true) setFlagsFromString('--semi-space-growth-factor=1')
  if (heap.growingPercent !== undefined) setFlagsFromString(`--heap-growing-percent=${heap.growingPercent}`)
}
