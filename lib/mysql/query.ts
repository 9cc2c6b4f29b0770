import { UsageError } from '../core/errors.js'

/**
 * The SQL with string literals, quoted identifiers and comments blanked out (same length), so
 * keywords and semicolons can be looked for without being fooled by their content.
 */
function skeleton (sql: string): string {
  const out: string[] = []
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]
    const next = sql[i + 1]
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1
      while (j < n) {
        if (sql[j] === '\\' && c !== '`') { j += 2; continue }
        if (sql[j] === c) {
          if (sql[j + 1] === c) { j += 2; continue } // doubled quote
          break
        }
        j++
      }
      if (j >= n) throw new UsageError(`invalid value for --query: unclosed ${c} quote`)
      out.push(c, ' '.repeat(j - i - 1), c)
      i = j + 1
    } else if (c === '/' && next === '*') {
      if (sql[i + 2] === '!' || (sql[i + 2] === 'M' && sql[i + 3] === '!')) {
        throw new UsageError('invalid value for --query: executable comments (/*! … */) are not allowed; write the SQL plainly')
      }
      const end = sql.indexOf('*/', i + 2)
      if (end < 0) throw new UsageError('invalid value for --query: unclosed /* comment')
      out.push(' '.repeat(end + 2 - i))
      i = end + 2
    } else if ((c === '-' && next === '-' && (sql[i + 2] === undefined || /\s/.test(sql[i + 2]))) || c === '#') {
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

/**
 * Checks that --query is one statement that returns rows (SELECT, WITH … SELECT, VALUES) and
 * returns it without a trailing semicolon. Writes are also refused by the server: the reading
 * session is READ ONLY. Anything else is a usage error (exit 2), before connecting.
 */
export function checkSelect (sql: string): string {
  const sk = skeleton(sql)
  const trimmed = sk.replace(/[\s;]+$/, '')
  if (trimmed.trim() === '') throw new UsageError('invalid value for --query: it is empty')
  const body = sql.slice(0, trimmed.length)
  if (trimmed.includes(';')) throw new UsageError('invalid value for --query: give one statement (it has a ; inside)')
  const first = /^[\s(]*([A-Za-z]+)/.exec(trimmed)?.[1]?.toUpperCase()
  if (first !== 'SELECT' && first !== 'WITH' && first !== 'VALUES') {
    throw new UsageError(`invalid value for --query: mysql-read runs a SELECT, not ${first === undefined ? 'this' : first} (a read never changes the database)`)
  }
  if (/\bINTO\s+(OUTFILE|DUMPFILE|@)/i.test(trimmed)) {
    throw new UsageError('invalid value for --query: SELECT … INTO writes its rows elsewhere; leave INTO out, the rows come to stdout')
  }
  return body
}
