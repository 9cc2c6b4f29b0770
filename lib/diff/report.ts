import { closeSync, openSync, writeSync } from 'node:fs'
import { EspipeError } from '../core/errors.js'
import type { Rec } from './compare.js'
import type { Difference } from './equal.js'
import { describe } from './equal.js'
import { keyText } from './record.js'

/**
 * --report FILE: one line per differing id, tab-separated: what (missing, changed, extra), the
 * id as a JSON string (`"logs"/"doc-1"` with --by-index), and where: for a changed record its
 * first difference (`_source.price: 10 ≠ 10.5`) and both line numbers.
 */
export class Report {
  private readonly fd: number
  private lines: string[] = []
  private size = 0
  private readonly byIndex: boolean

  constructor (path: string, byIndex: boolean) {
    this.byIndex = byIndex
    try {
      this.fd = openSync(path, 'w')
    } catch (err) {
      throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot write the report ${path}: ${(err as Error).message}`, { context: { file: path }, exitCode: 2 })
    }
  }

  missing (s: Rec): void {
    this.add(`missing\t${keyText(s.key, this.byIndex)}\tSOURCE line ${s.line}`)
  }

  extra (t: Rec): void {
    this.add(`extra\t${keyText(t.key, this.byIndex)}\tTARGET line ${t.line}`)
  }

  changed (s: Rec, t: Rec, d: Difference): void {
    this.add(`changed\t${keyText(s.key, this.byIndex)}\t${describe(d).replace(/[\t\n\r]/g, ' ')} (SOURCE line ${s.line}, TARGET line ${t.line})`)
  }

  private add (line: string): void {
    this.lines.push(line)
    this.size += line.length
    if (this.size > 64 * 1024) this.flush()
  }

  private flush (): void {
    if (this.lines.length === 0) return
    writeSync(this.fd, this.lines.join('\n') + '\n')
    this.lines = []
    this.size = 0
  }

  close (): void {
    this.flush()
    closeSync(this.fd)
  }
}
