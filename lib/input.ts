import { createReadStream } from 'node:fs'
import { access, constants } from 'node:fs/promises'
import type { Duplex, Readable } from 'node:stream'
import { PassThrough } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { EspipeError } from './errors.js'

/** Positional inputs: none or `-` means stdin. */
export function inputNames (input: readonly string[]): string[] {
  return input.length === 0 ? ['-'] : [...input]
}

/** Checks every input file up front, so a typo fails before any work is done. */
export async function checkInputs (names: readonly string[]): Promise<void> {
  if (names.filter((n) => n === '-').length > 1) throw new EspipeError('EUSAGE', 'stdin (-) can be read only once', { exitCode: 2 })
  for (const name of names) {
    if (name === '-') continue
    try {
      await access(name, constants.R_OK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO'
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message
      throw new EspipeError(code, `cannot read ${name}: ${why}`, { context: { file: name } })
    }
  }
}

/**
 * The bytes of one input, ending early (as a clean end of input, not an error) when the
 * signal is aborted: that is how SIGINT turns into "flush what you have and stop".
 */
export function openInput (name: string, signal?: AbortSignal): Readable {
  const src: Readable = name === '-' ? process.stdin : createReadStream(name, { highWaterMark: 256 * 1024 })
  if (signal === undefined) return src
  const out = new PassThrough()
  const stop = (): void => {
    src.unpipe(out)
    out.end()
    // Stop reading the file or stdin, but leave stdin itself open for the parent shell.
    if (src !== process.stdin) src.destroy()
    else src.pause()
  }
  if (signal.aborted) { stop(); return out }
  signal.addEventListener('abort', stop, { once: true })
  src.on('error', (err) => out.destroy(err))
  src.pipe(out)
  out.on('close', () => signal.removeEventListener('abort', stop))
  return out
}

/**
 * Reads the inputs one after another, each through its own parser (so line numbers and CSV
 * headers are per file), into one object stream with backpressure throughout.
 */
export function concatInputs (names: readonly string[], parserFor: (name: string) => Duplex[], signal?: AbortSignal, mapError: (name: string, err: unknown) => unknown = (_n, e) => e): Readable {
  const out = new PassThrough({ objectMode: true, highWaterMark: 64 })
  void (async () => {
    for (const name of names) {
      if (signal?.aborted === true) break
      try {
        await pipeline([openInput(name, signal), ...parserFor(name), out], { end: false })
      } catch (err) {
        throw mapError(name, err)
      }
    }
    out.end()
  })().catch((err: unknown) => out.destroy(err as Error))
  return out
}
