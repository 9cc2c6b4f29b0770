// A checkpointed pipe of records that carry their operation (issue 24 with issue 23): csv-read
// --checkpoint | jq (the `op` column lifted into "_op", the document parsed) | mysql-write or
// es-write --checkpoint, killed with SIGKILL at seeded moments, then run to the end. The table
// or index must end exactly as the whole stream applied once says (test/helpers/ops.ts): with
// mysql-write each batch and its positions commit together; with es-write a replayed suffix of
// a stream of index, create, upsert and delete leaves each id as it was.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { runShell, scratchDir } from '../helpers/run.js'
import { testDatabase } from '../helpers/mysql.js'
import { canonical, opStream } from '../helpers/ops.js'
import type { OpStream } from '../helpers/ops.js'
import { complete, differences, killChain } from '../helpers/resume.js'
import type { KillTarget } from '../helpers/resume.js'
import { startEsServer } from '../servers/es/server.js'

const N = 6000
const dir = scratchDir(t)
const db = await testDatabase(t, 'resume_ops')
const es = await startEsServer()
t.teardown(async () => { await es.close() })

const FILTER = join(dir, 'ops.jq')
writeFileSync(FILTER, '{_index: "ops", _id, _op: ._source.op, _pos} + (if ._source.op == "delete" then {} else {_source: (._source.doc | fromjson)} end)\n')

/** The stream as a CSV file (id, op, doc): what csv-read reads with a checkpoint. */
function csvOf (s: OpStream, name: string): string {
  const file = join(dir, `${name}.csv`)
  const rows = s.lines.map((l) => {
    const r = JSON.parse(l) as { _id: string, _op: string, _source?: unknown }
    const doc = l.includes('"_source":') ? l.slice(l.indexOf('"_source":') + 10, -1) : ''
    return `${r._id},${r._op},"${doc.replace(/"/g, '""')}"`
  })
  writeFileSync(file, `id,op,doc\n${rows.join('\n')}\n`)
  return file
}

const reader = (file: string) => (ckpt: string): string => `bash -o pipefail -c 'csv-read -q --checkpoint ${ckpt} ${file} | jq -c -f ${FILTER}'`

async function table (name: string): Promise<Map<string, string>> {
  const rows = await db.rows<RowDataPacket>(`SELECT id, CAST(content AS CHAR) AS content FROM \`${name}\``)
  return new Map(rows.map((r) => [String(r.id), canonical(String(r.content))]))
}

function index (name: string): Map<string, string> {
  return new Map([...es.storedSources(name)].map(([id, text]) => [id, canonical(text)]))
}

async function cleanMs (file: string, writer: string): Promise<number> {
  const started = Date.now()
  const r = await runShell(`${reader(file)(join(dir, `clean-${Date.now()}`))} | ${writer}`)
  if (r.code !== 0) throw new Error(`the clean run failed: ${r.stderr}`)
  return Date.now() - started
}

const mysqlStream = opStream({ n: N, ids: 400, seed: 2401, noBig: true })
const esStream = opStream({ n: N, ids: 400, seed: 2402, noBig: true, ops: ['index', 'create', 'upsert', 'delete'] })
const mysqlCsv = csvOf(mysqlStream, 'mysql')
const esCsv = csvOf(esStream, 'es')

const mysqlWriter = (name: string, ckpt: string): string => `mysql-write --url ${db.url} -t ${name} --create -c 4 --batch-size 40 --flush-interval 100ms --checkpoint ${ckpt} -q`
const esWriter = (name: string, ckpt: string): string => `es-write --url ${es.url} --index ${name} -c 4 --batch-size 40 --flush-interval 100ms --checkpoint ${ckpt} -q`

t.test('the clean pipes end as the model says (the oracle of the kill chains)', async (t) => {
  t.ok(mysqlStream.counts.deleted > 0 && mysqlStream.counts.notFound > 0 && mysqlStream.want.size > 0, 'every outcome in the MySQL stream')
  await cleanMs(mysqlCsv, mysqlWriter('clean', join(dir, 'clean-m')))
  t.strictSame(differences(await table('clean'), mysqlStream.want), [])
  t.equal((await table('clean')).size, mysqlStream.want.size)
  await cleanMs(esCsv, esWriter('clean', join(dir, 'clean-e')))
  t.strictSame(differences(index('clean'), esStream.want), [])
  t.equal(index('clean').size, esStream.want.size)
})

let seed = 24_000
for (const kill of ['writer', 'group'] as KillTarget[]) {
  t.test(`mysql-write -c 4, mixed operations: kill the ${kill} at 5 random moments, rerun: the table exact`, async (t) => {
    const name = `k_${kill}`
    const cleanRun = await cleanMs(mysqlCsv, mysqlWriter(`${name}_timing`, join(dir, `${name}-timing`)))
    const chainDir = scratchDir(t)
    const r = await killChain({ reader: reader(mysqlCsv), writer: (ckpt) => mysqlWriter(name, ckpt), records: N, cleanMs: cleanRun, kill, seed: ++seed, dir: chainDir, midStream: true })
    t.comment(r.log.join('; '))
    t.equal(r.final.code, 0, r.final.stderr)
    t.ok(r.landed >= 1, `kills landed while the pipe ran (${r.landed})`)
    t.ok(r.log.some((l) => /killed .*, [1-9]\d* records committed/.test(l)), 'a kill landed after batches had committed (mid-stream)')
    const got = await table(name)
    t.strictSame(differences(got, mysqlStream.want), [], 'each id as the stream applied once leaves it')
    t.equal(got.size, mysqlStream.want.size)
    t.ok(complete(join(chainDir, 'ckpt')), 'the checkpoint says the pipe is complete')
  })

  t.test(`es-write -c 4, mixed operations: kill the ${kill} at 5 random moments, rerun: the index exact`, async (t) => {
    const name = `k-${kill}`
    const cleanRun = await cleanMs(esCsv, esWriter(`${name}-timing`, join(dir, `${name}-timing`)))
    const chainDir = scratchDir(t)
    const r = await killChain({ reader: reader(esCsv), writer: (ckpt) => esWriter(name, ckpt), records: N, cleanMs: cleanRun, kill, seed: ++seed, dir: chainDir, midStream: true })
    t.comment(r.log.join('; '))
    t.equal(r.final.code, 0, r.final.stderr)
    t.ok(r.landed >= 1, `kills landed while the pipe ran (${r.landed})`)
    t.ok(r.log.some((l) => /killed .*, [1-9]\d* records committed/.test(l)), 'a kill landed after batches had committed (mid-stream)')
    const got = index(name)
    t.strictSame(differences(got, esStream.want), [], 'each id as the stream applied once leaves it')
    t.equal(got.size, esStream.want.size)
    t.ok(complete(join(chainDir, 'ckpt')), 'the checkpoint says the pipe is complete')
  })
}
