// After `| head`, a reader's summary counts as emitted the records that reached the pipe, not
// those it had handed on inside the process: "50000 read, 1365 emitted", never "50000 emitted".
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import { testDatabase } from '../helpers/mysql.js'
import { runShell, scratchDir } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'

const dir = scratchDir(t)
const N = 50_000
/** The most a Linux pipe holds unread (its default size). */
const PIPE = 64 * 1024

/** `tool`'s counts of read and emitted from its summary: `50000 read, 1365 emitted, …`. */
function readEmitted (stderr: string, tool: string): [number, number] {
  const m = /^(\d+) read, (\d+) emitted/.exec(countsOf(stderr, tool))
  if (m === null) throw new Error(`no read and emitted counts in: ${stderr}`)
  return [Number(m[1]), Number(m[2])]
}

t.test('csv-read | head -c K: emitted is what the pipe took, to the line', async (t) => {
  // Every record the same length, so bytes tell lines: {"_id":"00001","_source":{"id":"00001"}}\n
  const csv = join(dir, 'fixed.csv')
  writeFileSync(csv, 'id\n' + Array.from({ length: N }, (_v, i) => String(i).padStart(5, '0')).join('\n') + '\n')
  const line = '{"_id":"00000","_source":{"id":"00000"}}\n'.length
  for (const k of [line * 3, 100_000]) {
    const r = await runShell(`csv-read ${csv} | head -c ${k} > /dev/null`)
    t.equal(r.code, 0, r.stderr)
    const [read, emitted] = readEmitted(r.stderr, 'csv-read')
    t.ok(read <= N && emitted <= read, `${read} read, ${emitted} emitted`)
    t.ok(emitted * line >= k, `at least the ${k} bytes head took (${emitted} lines)`)
    t.ok(emitted * line <= k + PIPE + line, `at most those and a full pipe: ${emitted} lines of ${line} bytes after head took ${k}`)
  }
  const all = await runShell(`csv-read ${csv} | wc -l`)
  t.equal(all.stdout.trim(), String(N))
  t.strictSame(readEmitted(all.stderr, 'csv-read'), [N, N], 'a pipe read to its end: everything')
})

t.test('es-read and mysql-read | head -3: emitted is far from everything', async (t) => {
  const es = await startEsServer()
  t.teardown(async () => await es.close())
  es.addDocs('many', Array.from({ length: N }, (_v, i) => ({ _id: String(i), _source: { n: i } })))
  const e = await runShell(`es-read --url ${es.url} --index many --size 5000 | head -3`)
  t.equal(e.code, 0, e.stderr)
  const [, emittedEs] = readEmitted(e.stderr, 'es-read')
  t.ok(emittedEs >= 3 && emittedEs * '{"_index":"many","_id":"1","_source":{"n":1}}\n'.length <= 2 * PIPE, `es-read: ${emittedEs} emitted`)

  const db = await testDatabase(t, 'e2e_head')
  await db.rows('CREATE TABLE many (id INT PRIMARY KEY, n INT)')
  await db.rows(`INSERT INTO many SELECT seq, seq FROM seq_1_to_${N}`)
  const m = await runShell(`mysql-read --url ${db.url} -t many | head -3`)
  t.equal(m.code, 0, m.stderr)
  const [, emittedMy] = readEmitted(m.stderr, 'mysql-read')
  t.ok(emittedMy >= 3 && emittedMy * '{"_id":"1","_source":{"id":1,"n":1}}\n'.length <= 2 * PIPE, `mysql-read: ${emittedMy} emitted`)
})
