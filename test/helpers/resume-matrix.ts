// Issue 23's kill matrix for one reader: into each writer, with each stage (or the whole pipe,
// or a save of the checkpoint) killed with SIGKILL at seeded random moments, five times, then
// run to the end. The destination must hold every record once, with the bytes a clean run of
// the same pipe delivers (big integers, 1.50, escapes intact), the checkpoint must say the pipe
// is complete, and the last run must have read only what was not committed before it. Seeds
// are fixed (ESPIPE_SEED changes them), so a failure can be run again as it was.
import type { Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { testDatabase } from './mysql.js'
import type { TestDatabase } from './mysql.js'
import { runShell, scratchDir } from './run.js'
import type { KillTarget } from './resume.js'
import { complete, differences, emitted, killChain } from './resume.js'
import type { Destination } from './resume-destinations.js'
import { byId, csvRows, destinations, sourceOf } from './resume-destinations.js'

export interface MatrixWorld { es: EsTestServer, db: TestDatabase, dir: string }

export interface MatrixSource {
  tool: 'es-read' | 'mysql-read' | 'csv-read'
  records: number
  /** The slice counts to use (the reader's own parallelism); [1] for a reader without slices. */
  slices: number[]
  /** Fills the source; called once. */
  setup: (w: MatrixWorld) => Promise<void>
  /** The reader's command with a checkpoint; `slices` is one of the above. */
  reader: (w: MatrixWorld, ckpt: string, slices: number) => string
  /** The same read without a checkpoint (what a clean pipe delivers). */
  clean: (w: MatrixWorld, slices: number) => string
}

const DESTINATIONS: ReadonlyArray<Destination['name']> = ['mysql-write', 'es-write', 'jsonl-write', 'csv-write']
const TARGETS: KillTarget[] = ['reader', 'jq', 'writer', 'group']

/** An index for es-write to fill that keeps numbers beyond a long in _source (not indexed). */
export async function makeIndex (es: EsTestServer, name: string): Promise<void> {
  const r = await fetch(`${es.url}/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mappings: { dynamic: false } }) })
  if (!r.ok) throw new Error(`creating index ${name} failed: ${r.status} ${await r.text()}`)
}

export function killMatrix (t: Test, source: MatrixSource): void {
  const seedBase = Number(process.env.ESPIPE_SEED ?? 2026)
  let world: MatrixWorld
  const cleanMs = new Map<number, number>()
  const clean = new Map<string, string[]>()

  t.before(async () => {
    const es = await startEsServer()
    world = { es, db: await testDatabase(t, `resume_${source.tool.replace('-', '_')}`), dir: scratchDir(t) }
    t.teardown(async () => { await es.close() })
    await source.setup(world)
    for (let k = 1; k <= 20; k++) await makeIndex(es, `w${k}`)
    for (const slices of source.slices) {
      const started = Date.now()
      const r = await runShell(`${source.clean(world, slices)} | jsonl-write -q > /dev/null`)
      if (r.code !== 0) throw new Error(r.stderr)
      cleanMs.set(slices, Date.now() - started)
    }
    for (const jq of [false, true]) {
      const r = await runShell(`${source.clean(world, source.slices[0])}${jq ? ' | jq -c .' : ''}`)
      if (r.code !== 0) throw new Error(r.stderr)
      clean.set(jq ? 'jq' : 'plain', r.stdout.split('\n').filter((l) => l !== ''))
    }
    t.equal(clean.get('plain')?.length, source.records, `the source holds ${source.records} records`)
  })

  /** What `dest` must hold after a chain, by id: the clean pipe's records, as that writer keeps them. */
  const expected = async (dest: Destination, jq: boolean): Promise<Map<string, string>> => {
    const lines = clean.get(jq ? 'jq' : 'plain') as string[]
    if (dest.name === 'jsonl-write') return byId(lines)
    if (dest.name === 'csv-write') {
      const file = join(world.dir, `ref-${String(jq)}.ndjson`)
      writeFileSync(file, lines.join('\n') + '\n')
      return csvRows((await runShell(`csv-write -q < ${file}`)).stdout)
    }
    return new Map([...byId(lines)].map(([id, l]) => [id, sourceOf(l)]))
  }

  let k = 0
  for (const dest of DESTINATIONS) {
    for (const target of [...TARGETS, ...(dest === 'mysql-write' || dest === 'jsonl-write' ? ['saving' as const] : [])]) {
      const chain = ++k
      const seed = seedBase * 100 + chain
      // Every pair of slices and writer concurrency (1, 4) comes up for each writer.
      const slices = source.slices[chain % source.slices.length] as number
      const concurrency = [1, 4][(chain >> 1) % 2] as number
      const what = target === 'saving' ? 'the stage saving the checkpoint' : target === 'group' ? 'whole pipe' : target
      t.test(`${source.tool}${source.slices.length > 1 ? ` --slices ${slices}` : ''} | ${target === 'jq' ? 'jq -c . | ' : ''}${dest}${dest === 'mysql-write' || dest === 'es-write' ? ` -c ${concurrency}` : ''}: kill the ${what} at 5 random moments, rerun: exact (seed ${seed})`, async (t) => {
        const d = destinations({ ...world, dbUrl: world.db.url }).find((x) => x.name === dest) as Destination
        const dir = scratchDir(t)
        const r = await killChain({
          reader: (ckpt) => source.reader(world, ckpt, slices),
          writer: (ckpt) => d.writer(ckpt, String(chain), concurrency),
          records: source.records,
          cleanMs: cleanMs.get(slices) as number,
          kill: target,
          seed,
          dir,
          reset: async () => { await d.reset(String(chain)) }
        })
        t.comment(r.log.join('; '))
        t.equal(r.final.code, 0, `the last run ends with 0: ${r.final.stderr}`)
        t.ok(r.landed >= 1, `kills landed while the pipe ran (${r.landed})`)
        t.strictSame(differences(await d.holds(String(chain)), await expected(d, target === 'jq')), [], 'every record once, with the bytes a clean pipe delivers')
        t.ok(complete(join(dir, 'ckpt')), 'the checkpoint says the pipe is complete')
        // The last run read what was not committed, and nothing before it.
        t.equal(emitted(r.final.stderr, source.tool), source.records - r.committedBefore, `the last run read the ${source.records - r.committedBefore} records not committed before it`)
      })
    }
  }
}
