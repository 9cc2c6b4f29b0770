import { EspipeError } from '../core/errors.js'

/** A place in the server's binary log: a file and a byte offset in it (an event boundary). */
export interface BinlogPlace {
  file: string
  pos: number
}

/**
 * The position every record of one transaction carries: where the transaction begins (the end
 * of the one before it, a place a dump can start from), how many records the binlog stream had
 * emitted before its first one (n0), and its GTID when the server has them. All the records of
 * a transaction share it, so the writer's acknowledged prefix names a transaction and, by its
 * count, how many of that transaction's records are committed: a rerun reads the transaction
 * again from its start and passes over exactly those.
 */
export interface BinlogCursor extends BinlogPlace {
  n0: number
  gtid?: string
}

/** The binlog file's sequence number (mariadb-bin.000042 → 42), for ordering places across files. */
function fileIndex (file: string): number {
  const m = /\.(\d+)$/.exec(file)
  return m === null ? NaN : Number(m[1])
}

/** <0, 0, >0 as `a` is before, at or after `b`. */
export function comparePlaces (a: BinlogPlace, b: BinlogPlace): number {
  if (a.file !== b.file) {
    const ia = fileIndex(a.file)
    const ib = fileIndex(b.file)
    if (Number.isFinite(ia) && Number.isFinite(ib) && ia !== ib) return ia - ib
    return a.file < b.file ? -1 : 1
  }
  return a.pos - b.pos
}

export function describePlace (p: BinlogPlace): string {
  return `${p.file}:${p.pos}`
}

/** The cursor as the text that goes into `_pos` and the checkpoint. */
export function cursorText (c: BinlogCursor): string {
  return JSON.stringify(c.gtid === undefined ? { file: c.file, pos: c.pos, n0: c.n0 } : { file: c.file, pos: c.pos, n0: c.n0, gtid: c.gtid })
}

/** A cursor read back from a checkpoint (checked: it reaches the server as a dump request). */
export function parseCursor (text: string, file: string): BinlogCursor {
  let o: unknown
  try {
    o = JSON.parse(text)
  } catch {
    o = undefined
  }
  const c = o as Partial<BinlogCursor> | undefined
  if (c === undefined || c === null || typeof c.file !== 'string' || !/^[\w.-]{1,255}$/.test(c.file) || !Number.isSafeInteger(c.pos) || (c.pos as number) < 4 || !Number.isSafeInteger(c.n0) || (c.n0 as number) < 0 || (c.gtid !== undefined && typeof c.gtid !== 'string')) {
    throw new EspipeError('ECHECKPOINT', `checkpoint ${file} holds a binary log position that is not one (${text.slice(0, 80)}); delete it, or rerun with --resnapshot`, { context: { file } })
  }
  return { file: c.file, pos: c.pos as number, n0: c.n0 as number, ...(c.gtid === undefined ? {} : { gtid: c.gtid }) }
}
