import { createGunzip } from 'node:zlib'
import { gzipError, isGzip, notGzipError } from '../core/gzip.js'

/** Where an input's bytes come from: `read` fills buf[at…] with what there is (0 at the end). */
export interface ByteSource {
  read: (buf: Buffer, at: number) => Promise<number>
  close: () => void
}

/** The most compressed bytes handed to zlib at once. */
const IN_CHUNK = 64 * 1024

/**
 * The input's bytes, decompressed when its first bytes are gzip's (1F 8B, whatever its name:
 * `<(gzip -c …)` too): `inner` is read through once its kind is known. A file named .gz that
 * is not gzip, or a gzip stream damaged or cut short, fails the read (status 2: an input that
 * can't be read).
 */
export function sniffedSource (name: string, inner: ByteSource): ByteSource {
  let source: ByteSource | undefined
  return {
    read: async (buf, at) => {
      if (source !== undefined) return await source.read(buf, at)
      let n = 0
      // Two bytes tell; a pipe may give one at a time.
      for (let got = -1; n < 2 && got !== 0;) {
        got = await inner.read(buf, at + n)
        n += got
      }
      const head = buf.subarray(at, at + n)
      if (isGzip(head)) {
        source = gunzipSource(name, inner, Buffer.from(head))
        return await source.read(buf, at)
      }
      if (n > 0 && name.endsWith('.gz')) throw notGzipError(name, head, 2)
      source = inner
      return n
    },
    close: () => { (source ?? inner).close() }
  }
}

/** `inner`'s gzip stream, decompressed as it is read: what zlib gives is taken only as fast as it is read. */
function gunzipSource (name: string, inner: ByteSource, head: Buffer): ByteSource {
  const gz = createGunzip()
  let rest: Buffer | undefined
  let ended = false
  let failed: Error | undefined
  // A write zlib has not taken yet: no other is given it until it has.
  let writing = false
  let inputDone = false
  const scratch = Buffer.allocUnsafe(IN_CHUNK)
  gz.on('end', () => { ended = true })
  gz.on('error', (err) => { failed = gzipError(name, err, 2) })
  const feed = async (first?: Buffer): Promise<void> => {
    let chunk = first
    if (chunk === undefined) {
      const n = await inner.read(scratch, 0)
      if (n === 0) { inputDone = true; gz.end(); return }
      chunk = Buffer.from(scratch.subarray(0, n))
    }
    writing = true
    gz.write(chunk, () => { writing = false; gz.emit('taken') })
  }
  let started = false
  return {
    read: async (buf, at) => {
      const room = buf.length - at
      for (;;) {
        if (failed !== undefined) throw failed
        const got = rest ?? gz.read() as Buffer | null ?? undefined
        rest = undefined
        if (got !== undefined) {
          const n = got.copy(buf, at, 0, room)
          if (n < got.length) rest = got.subarray(n)
          return n
        }
        if (ended) return 0
        if (!started) { started = true; await feed(head) } else if (!writing && !inputDone) await feed()
        // Wait for zlib: output to read, the end, a failure, or the write taken.
        await new Promise<void>((resolve) => {
          const done = (): void => {
            gz.off('readable', done); gz.off('end', done); gz.off('error', done); gz.off('taken', done)
            resolve()
          }
          if (gz.readableLength > 0 || ended || failed !== undefined) { resolve(); return }
          gz.on('readable', done); gz.on('end', done); gz.on('error', done); gz.on('taken', done)
        })
      }
    },
    close: () => { gz.destroy(); inner.close() }
  }
}
