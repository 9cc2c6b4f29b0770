import { closeSync, openSync } from 'node:fs'
import { ReadStream, WriteStream } from 'node:tty'
import { EspipeError, UsageError } from '../core/errors.js'
import type { MysqlConnectionSettings } from './connection.js'

/**
 * `-p` with no value: the password is asked for on the terminal, as mysql does, with echo off.
 * The terminal is the process's own (/dev/tty), not stdin, which is the pipe of records. With no
 * terminal (cron, a CI job) there is no one to ask: one line says what to give instead.
 */
export async function askPassword (tool: string): Promise<string> {
  let inFd: number
  let outFd: number
  try {
    inFd = openSync('/dev/tty', 'r')
    outFd = openSync('/dev/tty', 'w')
  } catch {
    throw new UsageError(`-p without a value asks for the password on a terminal, and ${tool} has none: set MYSQL_PWD, or give --password=VALUE`)
  }
  const input = new ReadStream(inFd)
  const output = new WriteStream(outFd)
  try {
    // Echo off before the prompt shows: what is typed after it is never on the screen.
    input.setRawMode(true)
    output.write('Enter password: ')
    return await new Promise<string>((resolve, reject) => {
      let typed = ''
      input.setEncoding('utf8')
      input.on('data', (chunk: string) => {
        for (const c of chunk) {
          if (c === '\r' || c === '\n' || (c === '\u0004' && typed === '')) return resolve(typed)
          if (c === '\u0003') return reject(new EspipeError('EINTERRUPTED', 'interrupted while asking for the password'))
          if (c === '\u007f' || c === '\b') typed = [...typed].slice(0, -1).join('')
          else if (c >= ' ') typed += c
        }
      })
      input.on('error', reject)
    })
  } finally {
    input.setRawMode(false)
    output.write('\n')
    input.destroy()
    output.destroy()
    for (const fd of [inFd, outFd]) try { closeSync(fd) } catch {}
  }
}

/** The settings with the password asked for when -p was given with no value. */
export async function withAskedPassword (tool: string, s: MysqlConnectionSettings): Promise<MysqlConnectionSettings> {
  if (s.askPassword !== true) return s
  return { ...s, password: await askPassword(tool), askPassword: false }
}
