// The published surface (issue 22): the package's entry exports exactly what README's "Library"
// section lists, no internals, and README's library examples run against the built package.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT, lines, scratchDir } from './helpers/run.js'

const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: { '.': { types: string, default: string } } }
const ENTRY = join(ROOT, pkg.exports['.'].default)
const TYPES = join(ROOT, pkg.exports['.'].types)

/** A README section's text, from its heading to the next one of the same level. */
function section (heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`)
  if (start < 0) throw new Error(`README has no section "${heading}"`)
  const end = README.indexOf('\n## ', start + 1)
  return README.slice(start, end < 0 ? undefined : end)
}

/** The ```ts blocks of a text. */
function tsBlocks (text: string): string[] {
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
}

/** README's export table: the names in each row's first cell, by the row's kind. */
function documented (): { values: string[], types: string[] } {
  const table = /<!-- exports -->\n([\s\S]*?)<!-- \/exports -->/.exec(section('Library'))?.[1] ?? ''
  const out = { values: [] as string[], types: [] as string[] }
  for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
    const [names, kind] = row.split('|').slice(1, 3)
    const list = [...names.matchAll(/`(\w+)`/g)].map((m) => m[1])
    if (kind.trim() === 'type') out.types.push(...list)
    else out.values.push(...list)
  }
  return out
}

const sorted = (names: Iterable<string>): string[] => [...names].sort()

t.test('the package entry exports the values README lists, and nothing else', async (t) => {
  const { values } = documented()
  t.ok(values.length >= 15, `README lists the values (${values.length})`)
  const entry = await import(pathToFileURL(ENTRY).href) as Record<string, unknown>
  t.strictSame(sorted(Object.keys(entry)), sorted(values))
  for (const name of ['esRead', 'esWrite', 'mysqlRead', 'mysqlWrite', 'csvRead', 'csvWrite', 'jsonlWrite', 'parseNdjson', 'createContext']) {
    t.equal(typeof entry[name], 'function', `${name} is a function`)
  }
  t.equal(new (entry.UsageError as new (m: string) => Error)('x') instanceof (entry.EspipeError as new () => Error), true, 'a UsageError is an EspipeError')
})

t.test('the package types export the types README lists, and nothing else', async (t) => {
  const { types } = documented()
  t.ok(types.length >= 20, `README lists the types (${types.length})`)
  const dts = readFileSync(TYPES, 'utf8')
  const exported = [...dts.matchAll(/^export type \{([^}]*)\}/gm)].flatMap((m) => m[1].split(',').map((n) => n.trim()).filter((n) => n !== ''))
  t.strictSame(sorted(exported), sorted(types))
  const values = [...dts.matchAll(/^export \{([^}]*)\}/gm)].flatMap((m) => m[1].split(',').map((n) => n.trim()))
  // A value declared in the entry itself (explainText, which is given every tool there).
  values.push(...[...dts.matchAll(/^export declare (?:async )?(?:function|const|class) (\w+)/gm)].map((m) => m[1]))
  t.strictSame(sorted(values), sorted(documented().values), 'index.d.ts declares the same values')
})

t.test("README's library example runs against the built package", async (t) => {
  const [example] = tsBlocks(section('Library'))
  t.match(example, /from 'espipe'/)
  const dir = scratchDir(t)
  copyFileSync(join(ROOT, 'demo', 'people.csv'), join(dir, 'people.csv'))
  // As an installed package would resolve it: the file the package's exports name.
  writeFileSync(join(dir, 'example.mts'), example.replaceAll("from 'espipe'", `from ${JSON.stringify(pathToFileURL(ENTRY).href)}`))
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), 'example.mts'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 0, r.stderr)
  const out = lines(readFileSync(join(dir, 'people.jsonl'), 'utf8'))
  t.equal(out.length, 100, 'one line per row of people.csv')
  t.equal(out[0], '{"id":"1","name":"Femi 1","email":"femi1@example.com","age":78,"city":"Oslo","content":null}', 'the first row, flat, its number cast')
})

t.test('the stage README shows under "Writing your own stage" is the example the e2e tests run', async (t) => {
  const [shown] = tsBlocks(section('Writing your own stage'))
  const example = readFileSync(join(ROOT, 'examples', 'webhook-sink.ts'), 'utf8')
  t.ok(shown.length > 200)
  // The file adds only its comment header.
  t.equal(example.replace(/^(#!.*\n)?(\/\/.*\n)*/, ''), shown)
})
