// -p with no value asks for the password on the terminal with echo off, as mysql does; without
// a terminal it refuses in one line (issue 29). The terminal is a real pty (script(1)).
import t from 'tap'
import { spawn } from 'node:child_process'
import { binPath, collect, lines, runTool } from '../helpers/run.js'
import { limitedUser, testDatabase } from '../helpers/mysql.js'

const db = await testDatabase(t, 'mysql_password')
await db.rows('CREATE TABLE two (id INT NOT NULL PRIMARY KEY)')
await db.rows('INSERT INTO two VALUES (1), (2)')
const withPassword = new URL(await limitedUser(t, db, 'askpw', 4))
const password = decodeURIComponent(withPassword.password)
withPassword.password = ''
const url = withPassword.toString()

t.test('no terminal (a new session, as under cron): one line naming MYSQL_PWD and --password=VALUE, exit 2', async (t) => {
  const cases: Array<[string, string[]]> = [
    ['mysql-read', ['--url', url, '-t', 'two', '-p']],
    ['mysql-read', ['-p', '--url', url, '-t', 'two']],
    ['mysql-write', ['--url', url, '--password', '-t', 'two']],
    ['mysql-write', ['--url', url, '-t', 'two', '-p', '--']]
  ]
  for (const [tool, args] of cases) {
    // detached: setsid, so the child has no controlling terminal whatever runs the tests.
    const r = await runTool(tool, args, { detached: true, input: '', timeout: 60_000 })
    t.equal(r.code, 2, `${tool} ${args.join(' ')}`)
    t.strictSame(lines(r.stderr), [`${tool}: -p without a value asks for the password on a terminal, and ${tool} has none: set MYSQL_PWD, or give --password=VALUE (see '${tool} --help')`])
  }
})

t.test('-p VALUE is still the password', async (t) => {
  const r = await runTool('mysql-read', ['--url', url, '-t', 'two', '-p', password], { detached: true, timeout: 60_000 })
  t.equal(r.code, 0, r.stderr)
  t.equal(lines(r.stdout).length, 2)
})

t.test('on a terminal: asked once, typed without echo, the read goes on', async (t) => {
  for (const [tool, args] of [['mysql-read', ['--url', url, '-t', 'two', '-p']], ['mysql-write', ['--url', url, '-t', 'docs', '--create', '-p']]] as const) {
    const command = [process.execPath, binPath(tool), ...args].map((a) => `'${a}'`).join(' ')
    // script(1) runs the command on a new pty; its stdin is what is "typed".
    const child = spawn('script', ['-qfec', tool === 'mysql-write' ? `printf '{"_id":"a","_source":{"x":1}}\\n' | ${command}` : command, '/dev/null'], { stdio: 'pipe', timeout: 60_000 })
    let seen = ''
    const prompted = new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => { seen += d; if (seen.includes('Enter password: ')) resolve() })
    })
    const done = collect(child, null)
    await prompted
    child.stdin.write(`${password}\r`)
    const r = await done
    child.stdin.end()
    const out = r.stdout
    t.equal(r.code, 0, `${tool}: ${out}`)
    t.equal(out.split('Enter password: ').length, 2, `${tool}: asked once`)
    t.notMatch(out, password, `${tool}: the password is not echoed`)
    if (tool === 'mysql-read') t.match(out, /\{"_index":"two","_id":"1","_source":\{"id":1\}\}\r?\n\{"_index":"two","_id":"2","_source":\{"id":2\}\}/)
  }
  t.strictSame(await db.rows('SELECT id, CAST(content AS CHAR) AS content FROM docs'), [{ id: 'a', content: '{"x":1}' }], 'mysql-write wrote with the password typed')
})
