import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { EspipeError } from './errors.js'

/**
 * What every reader's `--checkpoint FILE` shares: the file is JSON, replaced atomically, and
 * the cursor in it moves only once the lines it covers are out of the process.
 */

/** The parsed file, or undefined when there is none yet: a missing or empty file (`touch`, `mktemp`, `: > file`) means "start fresh". */
export function readStateFile (file: string): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot read checkpoint ${file}: ${(err as Error).message}`, { context: { file } })
  }
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new EspipeError('ECHECKPOINT', `checkpoint ${file} is unreadable (${(err as Error).message}); delete it to start over`, { context: { file } })
  }
}

/**
 * Fails now, before any work, when the checkpoint could not be saved: its directory is missing
 * or not writable, or the name is a directory. Tries what saving does (a temporary file beside
 * it), so permissions, read-only mounts and a full disk show up alike.
 */
export function checkStateFileWritable (file: string): void {
  const tmp = `${file}.tmp-${process.pid}`
  try {
    if (statSync(file, { throwIfNoEntry: false })?.isDirectory() === true) {
      throw Object.assign(new Error(`EISDIR: ${file} is a directory`), { code: 'EISDIR' })
    }
    writeFileSync(tmp, '')
    rmSync(tmp)
  } catch (err) {
    throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot write checkpoint ${file}: ${(err as Error).message}`, { context: { file } })
  }
}

/** Written to a temporary file and renamed over the old one, so a kill never leaves half a file. */
export function writeStateFile (file: string, state: object): void {
  const tmp = `${file}.tmp-${process.pid}`
  try {
    writeFileSync(tmp, JSON.stringify({ ...state, updated: new Date().toISOString() }) + '\n')
    renameSync(tmp, file)
  } catch (err) {
    throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot write checkpoint ${file}: ${(err as Error).message}`, { context: { file } })
  }
}

export interface WrittenLinesHooks {
  /** After each write to the output returned: the number of lines written so far, in all. */
  written: (lines: number) => void
  /** The output ended (every line handed to it was written). */
  end: () => void
}

/**
 * Wraps the final output (stdout) of a reader: each chunk is passed on, and once its write has
 * returned, the lines it carried count as written. A cursor saved from that count never covers
 * a line still in a buffer of this process, so a kill -9 loses none: it can only repeat the
 * lines written between that write and the save.
 */
export function writtenLinesOutput (out: NodeJS.WritableStream, hooks: WrittenLinesHooks): Writable {
  let lines = 0
  return new Writable({
    write: (chunk: Buffer | string, _enc, done) => {
      out.write(chunk, (err?: Error | null) => {
        if (err != null) return done(err)
        const s = typeof chunk === 'string' ? chunk : chunk.toString('latin1')
        for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) lines++
        try {
          hooks.written(lines)
        } catch (e) {
          return done(e as Error)
        }
        done()
      })
    },
    final: (done) => {
      try {
        hooks.end()
        done()
      } catch (e) {
        done(e as Error)
      }
    }
  })
}
