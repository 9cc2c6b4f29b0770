// Issue 24: a followed pipe sends a trickle, then nothing for a while. Each writer must commit a
// record within --flush-interval while its input stays open and idle, not at the end of input.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { constants, gunzipSync } from 'node:zlib'
import { startEsServer } from '../servers/es/server.js'
import { testDatabase } from '../helpers/mysql.js'
import { collect, installedBinDir, scratchDir } from '../helpers/run.js'
import { waitFor } from '../helpers/wait.js'

/** The input is held open this long after the record: far longer than the waits below. */
const HOLD_MS = 60_000

/**
 * Starts `command` with `line` on its stdin, which stays open; resolves once `visible` says the
 * record reached the destination, while the input is still open. Then ends the input.
 */
async function trickle (t: Test, command: string, line: string, visible: () => boolean | Promise<boolean>): Promise<void> {
  const env = { ...process.env, PATH: `${installedBinDir()}:${process.env.PATH ?? ''}` }
  const child = spawn('bash', ['-c', `exec ${command}`], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  const done = collect(child, null)
  child.stdin?.write(line + '\n')
  const started = Date.now()
  try {
    // The bound is well under HOLD_MS: seen here, it came while the input was idle and open.
    await waitFor(visible, { what: `the record at the destination of ${command.split(' ')[0]}`, timeoutMs: 15_000, everyMs: 50, child })
    t.ok(Date.now() - started < HOLD_MS, 'committed while the input was still open')
    t.equal(child.exitCode, null, 'the writer is still waiting for input')
  } finally {
    child.stdin?.end()
  }
  const r = await done
  t.equal(r.code, 0, r.stderr)
}

const record = (pos?: string): string => `{"_index":"t","_id":"a","_source":{"n":12345678901234567.50,"s":"✓"}${pos === undefined ? '' : `,"_pos":"${pos}"`}}`

t.test('mysql-write commits a lone record within --flush-interval', async (t) => {
  const db = await testDatabase(t, 'trickle')
  await trickle(t, `mysql-write --url ${db.url} -t lone --create --flush-interval 1s -q`, record(), async () => {
    const rows = await db.rows<{ content: string }>('SELECT CAST(content AS CHAR) AS content FROM lone').catch(() => [])
    return rows.length === 1 && rows[0].content === '{"n":12345678901234567.50,"s":"✓"}'
  })
})

t.test('es-write sends a lone record within --flush-interval', async (t) => {
  const es = await startEsServer()
  t.teardown(async () => { await es.close() })
  await trickle(t, `es-write --url ${es.url} --index lone --flush-interval 1s -q`, record(), () => es.storedSource('lone', 'a') === '{"n":12345678901234567.50,"s":"✓"}')
})

for (const [tool, file, read] of [
  ['jsonl-write', 'out.jsonl.gz', (p: string) => gunzipSync(readFileSync(p), { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8')],
  ['csv-write', 'out.csv', (p: string) => readFileSync(p, 'utf8')]
] as const) {
  t.test(`${tool} -o FILE --checkpoint commits a lone record within --flush-interval`, async (t) => {
    const dir = scratchDir(t)
    const out = join(dir, file)
    await trickle(t, `${tool} -o ${out} --checkpoint ${join(dir, 'ckpt')} --flush-interval 1s -q`, record('0:1:[1]'), () => {
      if (!existsSync(out)) return false
      try { return read(out).includes('12345678901234567.50') } catch { return false }
    })
  })
}
