import { UsageError } from '../core/errors.js'

/**
 * How the session reads quotes (its sql_mode): ANSI_QUOTES makes "…" a name, not a string;
 * NO_BACKSLASH_ESCAPES makes a backslash in a string an ordinary character.
 */
export interface SqlQuoting { ansiQuotes: boolean, backslashEscapes: boolean }

/** The server's defaults: "…" is a string and a backslash escapes in strings. */
export const DEFAULT_QUOTING: SqlQuoting = { ansiQuotes: false, backslashEscapes: true }

/** The quoting a session's sql_mode gives. */
export function quotingOf (sqlMode: string): SqlQuoting {
  const modes = new Set(sqlMode.toUpperCase().split(','))
  return { ansiQuotes: modes.has('ANSI_QUOTES') || modes.has('ANSI'), backslashEscapes: !modes.has('NO_BACKSLASH_ESCAPES') }
}

/**
 * The SQL with string literals, quoted identifiers and comments blanked out (same length), so
 * keywords, semicolons and parentheses can be looked for without being fooled by their
 * content; read as the server reads it under `quoting`. `what` names the option in messages.
 */
function skeleton (sql: string, what: string, quoting: SqlQuoting = DEFAULT_QUOTING): string {
  const out: string[] = []
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]
    const next = sql[i + 1]
    if (c === "'" || c === '"' || c === '`') {
      const escapes = quoting.backslashEscapes && (c === "'" || (c === '"' && !quoting.ansiQuotes))
      let j = i + 1
      while (j < n) {
        if (sql[j] === '\\' && escapes) { j += 2; continue }
        if (sql[j] === c) {
          if (sql[j + 1] === c) { j += 2; continue } // doubled quote
          break
        }
        j++
      }
      if (j >= n) throw new UsageError(`invalid value for ${what}: unclosed ${c} quote`)
      out.push(c, ' '.repeat(j - i - 1), c)
      i = j + 1
    } else if (c === '/' && next === '*') {
      if (sql[i + 2] === '!' || (sql[i + 2] === 'M' && sql[i + 3] === '!')) {
        throw new UsageError(`invalid value for ${what}: executable comments (/*! … */) are not allowed; write the SQL plainly`)
      }
      const end = sql.indexOf('*/', i + 2)
      if (end < 0) throw new UsageError(`invalid value for ${what}: unclosed /* comment`)
      out.push(' '.repeat(end + 2 - i))
      i = end + 2
    } else if ((c === '-' && next === '-' && (sql[i + 2] === undefined || /[\s\x00-\x1f]/.test(sql[i + 2]))) || c === '#') {
      let end = sql.indexOf('\n', i)
      if (end < 0) end = n
      out.push(' '.repeat(end - i))
      i = end
    } else {
      out.push(c)
      i++
    }
  }
  return out.join('')
}

/** Why the parentheses of a skeleton do not pair up, or undefined when they do. */
function parenProblem (sk: string): string | undefined {
  let depth = 0
  for (let i = 0; i < sk.length; i++) {
    if (sk[i] === '(') depth++
    else if (sk[i] === ')' && --depth < 0) return `a ) at character ${i + 1} closes a parenthesis it did not open`
  }
  return depth > 0 ? `${depth} parenthes${depth === 1 ? 'is is' : 'es are'} not closed` : undefined
}

/**
 * --where as the one expression it must be, ready to stand in a WHERE beside the paging
 * predicate: parenthesised on lines of its own, so that nothing in it can close a parenthesis
 * it did not open, end the statement, or comment out what follows (`1=1) OR (1=1` would
 * otherwise drop the paging predicate, and the read would start over on every page). Refused,
 * as a usage error, when its parentheses, quotes or comments don't close as the server would
 * read them (`quoting`: the session's sql_mode), or when it holds a semicolon or an executable
 * comment.
 */
export function whereCondition (cond: string, quoting: SqlQuoting): string {
  const sk = skeleton(cond, '--where', quoting)
  if (sk.trim() === '') throw new UsageError('invalid value for --where: it is empty')
  if (sk.includes(';')) throw new UsageError('invalid value for --where: one condition, no ; (a condition cannot end the statement it is part of)')
  const parens = parenProblem(sk)
  if (parens !== undefined) throw new UsageError(`invalid value for --where: ${parens}; a condition is one expression, its parentheses closed within it`)
  return `(\n${cond}\n)`
}

/**
 * Checks that --query is one statement that returns rows (SELECT, WITH … SELECT, VALUES) and
 * returns it without a trailing semicolon. Writes are also refused by the server: the reading
 * session is READ ONLY. Anything else is a usage error (exit 2), before connecting.
 */
export function checkSelect (sql: string): string {
  const sk = skeleton(sql, '--query')
  const trimmed = sk.replace(/[\s;]+$/, '')
  if (trimmed.trim() === '') throw new UsageError('invalid value for --query: it is empty')
  const body = sql.slice(0, trimmed.length)
  if (trimmed.includes(';')) throw new UsageError('invalid value for --query: give one statement (it has a ; inside)')
  // Paged or filtered, the query is read as a derived table: its parentheses must be its own.
  const parens = parenProblem(trimmed)
  if (parens !== undefined) throw new UsageError(`invalid value for --query: ${parens}`)
  const first = /^[\s(]*([A-Za-z]+)/.exec(trimmed)?.[1]?.toUpperCase()
  if (first !== 'SELECT' && first !== 'WITH' && first !== 'VALUES') {
    throw new UsageError(`invalid value for --query: mysql-read runs a SELECT, not ${first === undefined ? 'this' : first} (a read never changes the database)`)
  }
  if (/\bINTO\s+(OUTFILE|DUMPFILE|@)/i.test(trimmed)) {
    throw new UsageError('invalid value for --query: SELECT … INTO writes its rows elsewhere; leave INTO out, the rows come to stdout')
  }
  return body
}
