/**
 * The library (`import { esRead } from 'espipe'`): the streams behind the binaries and their
 * options, what a stage of your own needs to read and write records exactly, and the error
 * types. Nothing else: the modules behind them change freely. README's "Library" section lists
 * this surface, and test/api.test.ts holds the two to each other.
 */

import { TOOLS } from './cli.js'
import type { ExplainOptions } from './explain/explain.js'
import { explainText as explainWith } from './explain/explain.js'
import type { Report } from './explain/render.js'

// The stream factories and their options; explain-errors' report.
export { esRead } from './es/read.js'
export type { EsReadOptions } from './es/read.js'
export { esWrite } from './es/write.js'
export type { EsWriteOptions } from './es/write.js'
export type { EsConnectionOptions } from './es/client.js'
export type { BulkOp } from './es/bulk-item.js'
export { mysqlRead } from './mysql/read.js'
export type { MysqlReadOptions } from './mysql/read.js'
export { mysqlWrite } from './mysql/write.js'
export type { MysqlWriteOptions, SortIds } from './mysql/write.js'
export type { WriteMode } from './mysql/statement.js'
export type { MysqlConnectionSettings } from './mysql/connection.js'
export { csvRead } from './csv/read.js'
export type { CsvReadOptions, CsvEncoding } from './csv/read.js'
export { csvWrite } from './csv/write.js'
export type { CsvWriteOptions, ExtraKeys } from './csv/write.js'
export { jsonlWrite } from './jsonl/write.js'
export type { JsonlWriteOptions, JsonlShape } from './jsonl/write.js'
export type { ExplainOptions } from './explain/explain.js'
export { renderReport } from './explain/render.js'
export type { ExplainFormat, Report } from './explain/render.js'
export type { AiOptions } from './explain/ai.js'
export type { RetryPolicy } from './core/retry.js'
export type { SliceSpec } from './core/slice.js'

// A stage of your own: context (counters, logs, dead letters), input, NDJSON both ways, exact JSON.
export { createContext } from './core/context.js'
export type { StageContext, ContextOptions } from './core/context.js'
export { openInput } from './core/input.js'
export { parseNdjson, toNdjson } from './core/ndjson.js'
export type { ParsedLine } from './core/ndjson.js'
export { fileSink } from './core/file-sink.js'
export type { FileSinkOptions } from './core/file-sink.js'
export { parseExact, stringifyExact, LosslessNumber } from './core/json.js'

// Errors: every error espipe throws is an EspipeError with a `code`; bad options are UsageErrors.
export { EspipeError, UsageError } from './core/errors.js'

/** What explain-errors says about a run's stderr, a dead-letter file or a message, knowing every espipe tool. */
export async function explainText (text: string, opts: ExplainOptions = {}): Promise<Report> {
  return await explainWith(text, TOOLS, opts)
}
