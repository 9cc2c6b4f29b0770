import { createWriteStream, statSync } from 'node:fs'
import { rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { EspipeError } from './errors.js'

export interface FileSinkOptions {
  /** Add to an existing file instead of replacing it (written in place: not atomic). */
  append?: boolean
  /** Gzip the output; the default is on when the name ends in `.gz`. */
  gzip?: boolean
  /** Asked at the end: false discards the output (the run failed upstream after ending cleanly). */
  commit?: () => boolean
}

function isSpecialFile (path: string): boolean {
  try {
    return !statSync(path).isFile()
  } catch {
    return false
  }
}

function fileError (err: unknown, path: string): EspipeError {
  const e = err as NodeJS.ErrnoException
  return new EspipeError(e.code ?? 'EIO', `cannot write ${path}: ${e.message}`, { context: { file: path }, cause: err })
}

/**
 * A byte sink for `-o FILE`. Output goes to a temporary file beside FILE that is renamed over
 * it only when the stream ends cleanly, so a failed run never leaves a half-written file.
 */
export function fileSink (path: string, opts: FileSinkOptions = {}): Writable {
  const gzip = opts.gzip ?? path.endsWith('.gz')
  // A device or FIFO (/dev/null, a named pipe) is written in place: renaming a temporary
  // file over it would replace it with a regular file.
  const inPlace = opts.append === true || isSpecialFile(path)
  const target = inPlace ? path : join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  const file = createWriteStream(target, { flags: opts.append === true ? 'a' : 'w' })
  const head: NodeJS.WritableStream = gzip ? createGzip() : file
  if (gzip) (head as ReturnType<typeof createGzip>).pipe(file)
  let failure: Error | undefined
  const onError = (err: Error): void => { failure ??= fileError(err, path) }
  file.on('error', onError)
  if (gzip) (head as ReturnType<typeof createGzip>).on('error', onError)

  return new Writable({
    highWaterMark: 64 * 1024,
    write (chunk: Buffer, _enc, done) {
      if (failure !== undefined) return done(failure)
      if (head.write(chunk)) return done()
      const onDrain = (): void => { file.off('error', onFail); done(failure) }
      const onFail = (): void => { head.removeListener('drain', onDrain); done(failure) }
      head.once('drain', onDrain)
      file.once('error', onFail)
    },
    final (done) {
      head.end()
      finished(file).then(async () => {
        if (failure !== undefined) throw failure
        if (target === path) return
        if (opts.commit?.() === false) await unlink(target)
        else await rename(target, path)
      }).then(() => done(), (err: unknown) => done(err instanceof EspipeError ? err : fileError(err, path)))
    },
    destroy (err, done) {
      if (err === null || target === path) { done(err); return }
      file.destroy()
      unlink(target).catch(() => {}).finally(() => done(err))
    }
  })
}
