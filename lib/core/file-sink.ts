import { createReadStream, createWriteStream, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, realpathSync, statSync, unlinkSync } from 'node:fs'
import type { Stats } from 'node:fs'
import { chmod, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { Writable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { EspipeError, UsageError } from './errors.js'
import type { WriteLedger } from './ledger.js'
import { alive } from './alive.js'

export interface FileSinkOptions {
  /** Add to an existing file instead of replacing it (written in place: not atomic). */
  append?: boolean
  /** Gzip the output; the default is on when the name ends in `.gz`. */
  gzip?: boolean
  /** Asked at the end: false discards the output (the run failed upstream after ending cleanly). */
  commit?: () => boolean
  /** Confirms records as their bytes reach the file (see WriteLedger). */
  ledger?: WriteLedger
  /** The run's inputs (`-` is stdin): appending to one of them is refused, as cat refuses it. */
  inputs?: readonly string[]
}

function statOrUndefined (path: string): Stats | undefined {
  try {
    return statSync(path)
  } catch {
    return undefined
  }
}

function fileError (err: unknown, path: string): EspipeError {
  const e = err as NodeJS.ErrnoException
  return new EspipeError(e.code ?? 'EIO', `cannot write ${path}: ${e.message}`, { context: { file: path }, cause: err })
}

/** The file `-o path` means: a symlink is written through to its target (existing or not), as `>` does. */
export function outputTarget (path: string): string {
  try {
    return realpathSync(path)
  } catch {
    let p = resolve(path)
    for (let hops = 0; hops < 40; hops++) {
      let link: string
      try {
        if (!lstatSync(p).isSymbolicLink()) return p
        link = readlinkSync(p)
      } catch {
        return p
      }
      p = resolve(dirname(p), link)
    }
    return p
  }
}

/**
 * Refuses an output written in place that is one of the inputs (compared by device and inode,
 * so through symlinks and hard links too): it would read back what it writes, forever.
 */
export function refuseInputAsOutput (path: string, inputs: readonly string[]): void {
  const out = statOrUndefined(path)
  if (out === undefined || !out.isFile()) return
  for (const name of inputs) {
    let st: Stats | undefined
    try {
      st = name === '-' ? fstatSync(0) : statSync(name)
    } catch {
      continue
    }
    if (st.isFile() && st.dev === out.dev && st.ino === out.ino) {
      throw new UsageError(`${path} is also an input (${name === '-' ? 'stdin' : name}): appending to it would read back what is written`)
    }
  }
}

const GZIP_MAGIC = [0x1f, 0x8b]

/**
 * Temporary files not yet renamed into place or removed. stream.pipeline settles as soon as a
 * stage fails, without waiting for a sink that is still being constructed to be destroyed, and
 * the binary then exits: the temporary file would stay. So each one is removed at exit too.
 */
const pendingTemps = new Set<string>()
let exitHookInstalled = false

function holdTemp (path: string): void {
  pendingTemps.add(path)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const p of pendingTemps) {
      try {
        unlinkSync(p)
      } catch {}
    }
  })
}

/** The first two bytes, the last byte, and whether the file is gzip; undefined for an empty or unreadable file. */
async function fileEnds (path: string): Promise<{ gzip: boolean, last: number } | undefined> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch {
    return undefined
  }
  try {
    const { size } = await fh.stat()
    if (size === 0) return undefined
    const head = Buffer.alloc(2)
    await fh.read(head, 0, 2, 0)
    const tail = Buffer.alloc(1)
    await fh.read(tail, 0, 1, size - 1)
    return { gzip: size >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1], last: tail[0] }
  } finally {
    await fh.close()
  }
}

/** The last byte of a gzip file's content (all its members), read through once. */
async function lastGzipByte (path: string): Promise<number | undefined> {
  let last: number | undefined
  await pipeline(createReadStream(path), createGunzip(), new Writable({
    write (chunk: Buffer, _enc, done) {
      if (chunk.length > 0) last = chunk[chunk.length - 1]
      done()
    }
  }))
  return last
}

/**
 * Before appending: the new lines must not run on from an unfinished last line, and gzip must
 * not be mixed with plain text in one file.
 */
async function prepareAppend (path: string, gzip: boolean): Promise<boolean> {
  const ends = await fileEnds(path)
  if (ends === undefined) return false
  if (ends.gzip !== gzip) {
    throw new UsageError(ends.gzip
      ? `${path} is gzip-compressed: appending plain text would corrupt it (add --gzip)`
      : `${path} is not gzip-compressed: appending gzip would corrupt it (add --no-gzip)`)
  }
  const last = gzip ? await lastGzipByte(path) : ends.last
  return last !== undefined && last !== 0x0a
}

/**
 * Removes the temporary files that killed runs left for `real` (`.NAME.PID.tmp` of processes
 * that no longer run): a kill -9 cannot clean up after itself, so the next run for the same
 * file does. A temp of a live process is another run's, in progress, and stays.
 */
function removeAbandonedTemps (real: string): void {
  const dir = dirname(real)
  const prefix = `.${basename(real)}.`
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue
    const pid = name.slice(prefix.length, -'.tmp'.length)
    if (!/^[1-9][0-9]*$/.test(pid) || Number(pid) === process.pid || alive(Number(pid))) continue
    try {
      unlinkSync(join(dir, name))
    } catch {}
  }
}

/**
 * A byte sink for `-o FILE`. Output goes to a temporary file beside FILE that is renamed over
 * it only when the stream ends cleanly, so a failed run never leaves a half-written file; it
 * keeps the mode of the file it replaces, and a symlink is written through to its target.
 * `append` writes in place, after a newline if the file did not end with one (in a gzip
 * file, as a new gzip member).
 */
export function fileSink (path: string, opts: FileSinkOptions = {}): Writable {
  const gzip = opts.gzip ?? path.endsWith('.gz')
  const real = outputTarget(path)
  const existing = statOrUndefined(real)
  // A device or FIFO (/dev/null, a named pipe) is written in place: renaming a temporary
  // file over it would replace it with a regular file.
  const inPlace = opts.append === true || (existing !== undefined && !existing.isFile())
  if (inPlace && opts.inputs !== undefined) refuseInputAsOutput(real, opts.inputs)
  const target = inPlace ? real : join(dirname(real), `.${basename(real)}.${process.pid}.tmp`)
  const ledger = opts.ledger
  let file: ReturnType<typeof createWriteStream> | undefined
  let head: NodeJS.WritableStream | undefined
  let failure: Error | undefined
  const onError = (err: Error): void => { failure ??= fileError(err, path) }

  const open = async (): Promise<void> => {
    const newline = opts.append === true && existing?.isFile() === true ? await prepareAppend(real, gzip) : false
    let f: ReturnType<typeof createWriteStream>
    if (target === real) {
      f = createWriteStream(target, { flags: opts.append === true ? 'a' : 'w' })
      file = f
      await new Promise<void>((resolve, reject) => {
        f.once('open', () => resolve())
        f.once('error', reject)
      })
    } else {
      removeAbandonedTemps(real)
      // Made at once, so that when the process exits, the file it removes is already there.
      const fd = openSync(target, 'w')
      holdTemp(target)
      f = createWriteStream(target, { fd })
      file = f
    }
    f.on('error', onError)
    head = f
    if (gzip) {
      const z = createGzip()
      z.pipe(f)
      z.on('error', onError)
      head = z
    }
    // Appending after an unfinished last line: end it first, so the next record is a line of its own.
    if (newline) head.write('\n')
  }

  return new Writable({
    highWaterMark: 64 * 1024,
    construct (done) {
      open().then(() => done(), (err: unknown) => done(err instanceof EspipeError ? err : fileError(err, path)))
    },
    write (chunk: Buffer, _enc, done) {
      const [f, h] = [file as NonNullable<typeof file>, head as NodeJS.WritableStream]
      if (failure !== undefined) return done(failure)
      // In place and plain, bytes are in the file once the write returns; otherwise at the end.
      const confirm = ledger !== undefined && inPlace && !gzip ? (err?: Error | null) => { if (err == null) ledger.confirm(chunk.length) } : undefined
      if (h.write(chunk, confirm)) return done()
      const onDrain = (): void => { f.off('error', onFail); done(failure) }
      const onFail = (): void => { h.removeListener('drain', onDrain); done(failure) }
      h.once('drain', onDrain)
      f.once('error', onFail)
    },
    final (done) {
      head?.end()
      finished(file as NonNullable<typeof file>).then(async () => {
        if (failure !== undefined) throw failure
        if (target !== real) {
          if (opts.commit?.() === false) { await unlink(target); pendingTemps.delete(target); return }
          if (existing !== undefined) await chmod(target, existing.mode & 0o7777)
          await rename(target, real)
          pendingTemps.delete(target)
        }
        ledger?.confirmAll()
      }).then(() => done(), (err: unknown) => done(err instanceof EspipeError ? err : fileError(err, path)))
    },
    destroy (err, done) {
      if (err === null || target === real) { done(err); return }
      file?.destroy()
      unlink(target).catch(() => {}).finally(() => { pendingTemps.delete(target); done(err) })
    }
  })
}

/**
 * Writes into `dest` (stdout) and confirms each write to the ledger once `dest` has taken the
 * bytes, so a closed pipe leaves out what never got through.
 */
export function ledgerSink (dest: NodeJS.WritableStream, ledger: WriteLedger): Writable {
  const sink = new Writable({
    highWaterMark: 64 * 1024,
    write (chunk: Buffer, _enc, done) {
      const ok = dest.write(chunk, (err?: Error | null) => { if (err == null) ledger.confirm(chunk.length) })
      if (ok) done()
      else dest.once('drain', () => done())
    },
    final (done) {
      // An empty write calls back once everything before it is out.
      dest.write('', () => done())
    }
  })
  dest.on('error', (err: Error) => sink.destroy(err))
  return sink
}

/** What a file writer keeps in the checkpoint to continue its file. */
export interface FileOutputState {
  /** Bytes of the file that hold committed records (for gzip: the end of the last whole member). */
  length: number
  /** What the writer itself needs again (csv-write's columns). */
  [key: string]: unknown
}

export interface CheckpointedSinkOptions {
  gzip?: boolean
  /** A first run adds to what FILE holds instead of replacing it. */
  append?: boolean
  inputs?: readonly string[]
  /** Confirms records as their bytes are committed (fsynced): the writer settles them then. */
  ledger: WriteLedger
  /** Where the last run left the file; undefined for a first run. */
  resume?: FileOutputState
  /** Saves the file's state once a commit is on disk (the checkpoint's writer part); `final`: the last one. */
  committed: (state: FileOutputState, final: boolean) => void
  /** How often bytes are committed while records flow (default 1 s); always at the end. */
  commitEveryMs?: number
}

/**
 * `-o FILE` under --checkpoint: written in place, committed at intervals — the bytes synced to
 * the disk (a gzip file's member finished first, so that it ends with a whole member), then the
 * records they hold confirmed and the file's length saved. A rerun cuts the file back to that
 * length and goes on after it: the file is complete when a run ends with 0, and never holds a
 * record twice or a part of one after a rerun.
 */
export function checkpointedFileSink (path: string, o: CheckpointedSinkOptions): Writable {
  const gzip = o.gzip ?? path.endsWith('.gz')
  const real = outputTarget(path)
  const every = o.commitEveryMs ?? 1000
  let fd: import('node:fs/promises').FileHandle | undefined
  let length = 0
  let gz: ReturnType<typeof createGzip> | undefined
  /** Bytes (before compression) taken, and those committed. */
  let received = 0
  let confirmed = 0
  let writes: Promise<void> = Promise.resolve()
  let failure: Error | undefined
  let timer: NodeJS.Timeout | undefined
  let committing: Promise<void> | undefined

  const put = (bytes: Buffer): void => {
    const at = length
    length += bytes.length
    writes = writes.then(async () => {
      let done = 0
      while (done < bytes.length) done += (await (fd as NonNullable<typeof fd>).write(bytes, done, bytes.length - done, at + done)).bytesWritten
    }).catch((err: unknown) => { failure ??= fileError(err, path) })
  }

  const member = (): ReturnType<typeof createGzip> => {
    if (gz !== undefined) return gz
    const z = createGzip()
    z.on('data', (chunk: Buffer) => put(chunk))
    z.on('error', (err) => { failure ??= fileError(err, path) })
    gz = z
    return z
  }

  const commit = async (final = false): Promise<void> => {
    clearTimeout(timer)
    timer = undefined
    const z = gz
    gz = undefined
    if (z !== undefined) await new Promise<void>((resolve) => { z.once('end', resolve); z.end(); z.resume() })
    const upTo = received
    await writes
    if (failure !== undefined) throw failure
    await (fd as NonNullable<typeof fd>).datasync()
    o.ledger.confirm(upTo - confirmed)
    confirmed = upTo
    o.committed({ length }, final)
  }

  const commitSoon = (): void => {
    if (timer !== undefined || every <= 0) return
    timer = setTimeout(() => {
      timer = undefined
      committing ??= commit().catch((err: unknown) => { failure ??= err as Error }).finally(() => { committing = undefined })
    }, every)
    timer.unref()
  }

  return new Writable({
    highWaterMark: 64 * 1024,
    construct (done) {
      (async () => {
        if (o.inputs !== undefined) refuseInputAsOutput(real, o.inputs)
        const existing = statOrUndefined(real)
        let start = 0
        if (o.resume !== undefined) {
          start = o.resume.length
          if ((existing?.size ?? 0) < start) {
            throw new EspipeError('ECHECKPOINT_OUTPUT', `${path} holds ${existing?.size ?? 0} bytes, fewer than the ${start} the checkpoint says were committed to it: it was changed or replaced since; delete the checkpoint to start over`, { context: { file: path } })
          }
        } else if (o.append === true && existing !== undefined && existing.isFile()) {
          if (await prepareAppend(real, gzip)) throw new UsageError(`${path} ends in an unfinished line: with --checkpoint, --append needs a file whose last line is whole`)
          start = existing.size
        }
        fd = await open(real, existing === undefined ? 'w+' : 'r+')
        // Bytes after the last commit are from a run that was cut: they are written again.
        await fd.truncate(start)
        length = start
      })().then(() => done(), (err: unknown) => done(err instanceof EspipeError ? err : fileError(err, path)))
    },
    write (chunk: Buffer, _enc, done) {
      if (failure !== undefined) return done(failure)
      const go = (): void => {
        received += chunk.length
        commitSoon()
        // Backpressure: the next chunk once this one is compressed (a member ended by a commit
        // meanwhile still takes it) and written.
        if (gzip) member().write(chunk, () => { writes.then(() => done(failure), done) })
        else {
          put(chunk)
          writes.then(() => done(failure), done)
        }
      }
      // A commit in progress finishes its member and its sync first.
      if (committing !== undefined) committing.then(go, go)
      else go()
    },
    final (done) {
      (async () => {
        await committing
        await commit(true)
        await (fd as NonNullable<typeof fd>).close()
        fd = undefined
      })().then(() => done(), (err: unknown) => done(err instanceof EspipeError ? err : fileError(err, path)))
    },
    destroy (err, done) {
      clearTimeout(timer)
      gz?.destroy()
      const f = fd
      fd = undefined
      if (f === undefined) { done(err); return }
      f.close().then(() => done(err), () => done(err))
    }
  })
}
