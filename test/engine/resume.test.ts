// Issue 23's promise against each engine: es-read --checkpoint C | es-write --checkpoint C,
// killed with -9 (the writer, or the whole pipe) at seeded random moments, then run to the end:
// the target index holds every document once, with the bytes of its _source, and the last run
// read only what was not committed before it. The same chains as the kill matrix
// (test/helpers/resume.ts), here with real _bulk answers, refreshes and points in time.
import t from 'tap'
import { byId, sourceOf } from '../helpers/resume-destinations.js'
import { complete, differences, emitted, killChain } from '../helpers/resume.js'
import type { KillTarget } from '../helpers/resume.js'
import { runShell, scratchDir } from '../helpers/run.js'
import { call, seed, targets } from './targets.js'
import type { Target } from './targets.js'

const N = 3000
const SRC = 'engine-resume-src'
// raw is kept in _source but not indexed, so its bytes (a number past 2^64, 1.50) are the engine's to keep, not to parse.
const MAPPINGS = { properties: { n: { type: 'long' }, s: { type: 'keyword' }, raw: { type: 'object', enabled: false } } }
const DOCS = Array.from({ length: N }, (_, i) => ({
  _id: `r${i}`,
  source: `{"n":${i},"s":"caf\\u00e9 ✓ \\"${i}\\"","raw":{"big":${18446744073709551615n + BigInt(i)},"price":1.50,"tags":["a",2.0,null]}}`
}))
const want = new Map(DOCS.map((d) => [d._id, d.source]))
const seedBase = Number(process.env.ESPIPE_SEED ?? 2026)

const all = await targets(t)

/** What `index` holds: id → _source bytes, as es-read gives them. */
async function holds (target: Target, index: string): Promise<Map<string, string>> {
  await call(target, 'POST', `/${index}/_refresh`)
  const r = await runShell(`es-read --url ${target.url} --index ${index} -q`)
  if (r.code !== 0) throw new Error(r.stderr)
  return new Map([...byId(r.stdout.split('\n').filter((l) => l !== ''))].map(([id, l]) => [id, sourceOf(l)]))
}

for (const [k, target] of all.entries()) {
  t.test(target.name, async (t) => {
    await seed(target, SRC, MAPPINGS, DOCS)
    const read = (ckpt: string): string => `es-read --url ${target.url} --index ${SRC} --size 50 --checkpoint ${ckpt}`
    const started = Date.now()
    await seed(target, 'engine-resume-clean', MAPPINGS, [])
    const clean = await runShell(`es-read --url ${target.url} --index ${SRC} --size 50 -q | es-write --url ${target.url} --index engine-resume-clean -q`)
    t.equal(clean.code, 0, clean.stderr)
    t.strictSame(differences(await holds(target, 'engine-resume-clean'), want), [], 'a clean copy: every document, its bytes')
    const cleanMs = Date.now() - started

    for (const [j, kill] of (['writer', 'group'] as KillTarget[]).entries()) {
      const dst = `engine-resume-${kill}`
      const chainSeed = seedBase * 100 + 50 + k * 2 + j
      await t.test(`kill the ${kill === 'group' ? 'whole pipe' : kill} at 4 random moments, rerun: exact (seed ${chainSeed})`, async (t) => {
        await seed(target, dst, MAPPINGS, [])
        const dir = scratchDir(t)
        const r = await killChain({
          reader: read,
          writer: (ckpt) => `es-write --url ${target.url} --index ${dst} -c 3 --batch-size 40 --flush-interval 100ms --checkpoint ${ckpt} -q`,
          records: N,
          // Within the first half of a clean run's time: a real engine copies this in a second or two, and a run that ends before its kill leaves nothing to kill.
          cleanMs: cleanMs / 2,
          kill,
          seed: chainSeed,
          dir,
          kills: 4
        })
        t.comment(r.log.join('; '))
        t.equal(r.final.code, 0, `the last run ends with 0: ${r.final.stderr}`)
        t.ok(r.landed >= 1, `kills landed while the pipe ran (${r.landed})`)
        t.strictSame(differences(await holds(target, dst), want), [], 'every document once, with its bytes')
        t.ok(complete(`${dir}/ckpt`), 'the checkpoint says the pipe is complete')
        t.equal(emitted(r.final.stderr, 'es-read'), N - r.committedBefore, `the last run read the ${N - r.committedBefore} documents not committed before it`)
      })
    }
    for (const index of [SRC, 'engine-resume-clean', 'engine-resume-writer', 'engine-resume-group']) await call(target, 'DELETE', `/${index}`)
  })
}
