import { RECORD_FIELDS } from '../core/record.js'
import type { WriteMode } from './statement.js'

/** What mysqlWrite does unless told; mysql-write's options show these. */
export const MYSQL_WRITE_DEFAULTS = {
  mode: 'ignore' as WriteMode,
  batchSize: 1000,
  concurrency: 2,
  flushIntervalMs: 1000,
  sortIds: 'auto' as const,
  idColumn: 'id',
  contentColumn: 'content',
  ...RECORD_FIELDS
}
