import { EspipeError } from './errors.js'

// Gzipped inputs: jsonl-write and csv-write write .gz files, and every reader of files takes them back.

/** Whether `head` begins as a gzip stream does (RFC 1952: 1F 8B): no text starts so. */
export function isGzip (head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b
}

const shown = (name: string): string => name === '-' ? 'stdin' : name

/** A gzip stream that is not whole or not gzip, as one line that names the input. */
export function gzipError (name: string, err: unknown, exitCode?: number): EspipeError {
  const code = (err as NodeJS.ErrnoException).code ?? 'Z_DATA_ERROR'
  const why = code === 'Z_BUF_ERROR' ? 'it ends inside its gzip stream (a file cut short, or still being written)' : `its gzip stream is damaged (${(err as Error).message})`
  return new EspipeError(code, `cannot read ${shown(name)}: ${why}`, { context: { file: name === '-' ? undefined : name }, cause: err, exitCode })
}

/** A file named .gz whose first bytes are not gzip's: most likely not the file meant, so not read as text. */
export function notGzipError (name: string, head: Buffer, exitCode?: number): EspipeError {
  const hex = [...head.subarray(0, 2)].map((b) => b.toString(16).padStart(2, '0')).join(' ')
  return new EspipeError('EGZIP', `cannot read ${name}: its name ends in .gz but it is not gzip (it begins with bytes ${hex}); rename it if it is text`, { context: { file: name }, exitCode })
}
