// The summary line a binary ends its run with (`csv-read: 3 read, 3 emitted, 0 failed in 0.1 s
// (30/s) — …`), taken apart so a test compares the counts whole: a regex such as /8 read/
// would also take '18 read'.
import { lines } from './run.js'

export interface Summary {
  /** The counts as printed: `3 read, 2 written, 1 skipped (duplicate id), 0 failed`. */
  counts: string
  /** What follows the timing: ` — failed records in FILE`, ` — interrupted by SIGINT`, or ''. */
  extra: string
}

const SUMMARY = /^(.*?) in \d+\.\d s \([\d,]+\/s\)(.*)$/

/**
 * The summary line `tool` wrote to `stderr` (text log format): the last line of that shape, as
 * --progress lines look the same; throws if there is none.
 */
export function summaryOf (stderr: string, tool: string): Summary {
  const found = lines(stderr).filter((l) => l.startsWith(`${tool}: `)).map((l) => SUMMARY.exec(l.slice(tool.length + 2))).filter((m) => m !== null)
  const last = found.at(-1)
  if (last === undefined) throw new Error(`no summary line from ${tool} in:\n${stderr}`)
  return { counts: last[1], extra: last[2] }
}

/** The counts of `tool`'s summary line: `3 read, 2 written, 0 skipped, 1 failed`. */
export function countsOf (stderr: string, tool: string): string {
  return summaryOf(stderr, tool).counts
}
