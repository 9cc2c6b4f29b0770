import type { JsonObject } from '../core/record.js'
import { ColumnCollector } from './columns.js'

/**
 * The first `size` records, held to learn the columns from when none are given: their number,
 * not their size, bounds memory. Then every record is written in input order.
 */
export class ColumnSample<T> {
  private held: T[] | undefined = []
  private readonly collector = new ColumnCollector()

  constructor (private readonly size: number) {}

  /** Whether records are still being held (the columns are not known yet). */
  get open (): boolean {
    return this.held !== undefined
  }

  /** Holds a record and learns its content's columns; true once the sample is full. */
  hold (rec: T, content: JsonObject, leafPathsOfText?: () => string[] | undefined): boolean {
    if (this.held === undefined) throw new Error('the column sample has ended')
    this.collector.collect(content, leafPathsOfText)
    this.held.push(rec)
    return this.held.length >= this.size
  }

  /**
   * Ends the sample: the columns learned and the records held, in input order; undefined when
   * there was nothing to learn from (no record, so no header either) or it has already ended.
   * The id column keeps its place when the first record has it (csv-read's rows do); otherwise
   * it is left out here, for the id to lead.
   */
  end (idColumn: string | false): { columns: string[], records: T[] } | undefined {
    const records = this.held
    this.held = undefined
    if (records === undefined || records.length === 0) return undefined
    const columns = this.collector.columns
    return { columns: idColumn === false || this.collector.inFirst(idColumn) ? columns : columns.filter((c) => c !== idColumn), records }
  }
}
