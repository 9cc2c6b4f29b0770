import type { FlagSpecs, Options } from '../core/cli.js'
import { UsageError } from '../core/errors.js'

/**
 * The CSV options csv-read and csv-write share: one spelling, one meaning, one check, so a
 * file written with `-d ';' --encoding latin1` reads back with the same options.
 */
export type CsvEncoding = 'utf8' | 'latin1' | 'utf16le'

export interface CsvDialect {
  delimiter: string
  quote: string
  encoding: CsvEncoding
}

export const CSV_ENCODINGS: readonly string[] = ['utf8', 'utf-8', 'latin1', 'utf16le']

export const CSV_DIALECT_DEFAULTS: CsvDialect = { delimiter: ',', quote: '"', encoding: 'utf8' }

/**
 * The dialect's options; `quoteOff` says what `--quote ''` (quoting off) does in this tool, for
 * its --help line.
 */
export function csvDialectFlags (quoteOff: string): FlagSpecs {
  return {
    delimiter: { type: 'string', shortFlag: 'd', value: 'CHAR', default: CSV_DIALECT_DEFAULTS.delimiter, help: 'field delimiter (default: {default}; \\t is a tab)' },
    // `--quote ''` is a value: quoting off.
    quote: { type: 'string', value: 'CHAR', default: CSV_DIALECT_DEFAULTS.quote, allowEmpty: true, help: `quote character (default: {default}); --quote '' ${quoteOff}` },
    encoding: { type: 'string', value: 'ENC', default: CSV_DIALECT_DEFAULTS.encoding, help: 'utf8, latin1 or utf16le' }
  }
}

/**
 * Checks a dialect given in code or on the command line; a bad one is a usage error. An empty
 * quote is quoting off (csv-parse's own setting).
 */
export function checkDialect (d: Partial<CsvDialect>): CsvDialect {
  const delimiter = d.delimiter === '\\t' ? '\t' : d.delimiter ?? CSV_DIALECT_DEFAULTS.delimiter
  const quote = d.quote ?? CSV_DIALECT_DEFAULTS.quote
  const encoding = d.encoding ?? CSV_DIALECT_DEFAULTS.encoding
  if (delimiter === '' || /[\r\n]/.test(delimiter)) throw new UsageError('invalid value for --delimiter: it must be one or more characters other than a line end')
  if ([...quote].length > 1 || /[\r\n]/.test(quote)) throw new UsageError("invalid value for --quote: it must be one character other than a line end ('' for none)")
  if (quote !== '' && delimiter.includes(quote)) throw new UsageError(`invalid value for --delimiter: it must not contain the quote character (${quote})`)
  if (!CSV_ENCODINGS.includes(encoding)) throw new UsageError(`invalid value for --encoding: '${encoding}' (choose ${CSV_ENCODINGS.join(', ')})`)
  return { delimiter, quote, encoding: encoding.replace('utf-8', 'utf8') as CsvEncoding }
}

/** The dialect from a binary's options (declared with csvDialectFlags). */
export function csvDialect (opts: Options): CsvDialect {
  return checkDialect({
    delimiter: opts.string('delimiter'),
    quote: opts.string('quote'),
    encoding: opts.string('encoding', { choices: CSV_ENCODINGS }) as CsvEncoding
  })
}
