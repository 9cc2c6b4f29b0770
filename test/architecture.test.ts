import t from 'tap'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { ROOT } from './helpers/run.js'

// The import rules of ARCHITECTURE.md, checked on the real tree: core imports no connector,
// a connector imports core and itself only, bin imports lib only.

interface Import { from: string, to: string }

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g

function sourceFiles (dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path)
    return name.endsWith('.ts') ? [path] : []
  })
}

function importsOf (file: string, text: string): Import[] {
  return [...text.matchAll(SPECIFIER)].map((m) => ({ from: file, to: normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts') }))
}

/** `lib/es/read.ts` → `es`; `lib/index.ts` → `` (the top level); anything else → undefined. */
function libFolder (path: string): string | undefined {
  const parts = path.split('/')
  if (parts[0] !== 'lib') return undefined
  return parts.length === 2 ? '' : parts[1]
}

/** Every import that breaks a rule, each as one line saying which rule. */
function violations (imports: readonly Import[]): string[] {
  const out: string[] = []
  for (const { from, to } of imports) {
    const src = libFolder(from)
    const dst = libFolder(to)
    if (from.startsWith('bin/')) {
      if (dst === undefined) out.push(`${from} imports ${to}: bin imports lib only`)
      continue
    }
    if (src === undefined) continue
    if (dst === undefined) out.push(`${from} imports ${to}: lib imports nothing outside lib`)
    else if (src === '') continue
    else if (dst === '') out.push(`${from} imports ${to}: a folder never imports the top-level entries`)
    else if (src === 'core' && dst !== 'core') out.push(`${from} imports ${to}: core imports no connector`)
    else if (src !== 'core' && dst !== 'core' && dst !== src) out.push(`${from} imports ${to}: connectors never import each other`)
  }
  return out
}

t.test('the rule check itself catches each kind of bad import', async (t) => {
  t.strictSame(violations([
    { from: 'lib/core/cli.ts', to: 'lib/explain/explain.ts' },
    { from: 'lib/es/write.ts', to: 'lib/mysql/connection.ts' },
    { from: 'lib/csv/read.ts', to: 'lib/index.ts' },
    { from: 'bin/es-read.ts', to: 'test/helpers/run.ts' },
    { from: 'lib/jsonl/write.ts', to: 'bench/measure.ts' },
    { from: 'lib/es/read.ts', to: 'lib/core/context.ts' },
    { from: 'lib/es/read.ts', to: 'lib/es/pit.ts' },
    { from: 'lib/cli.ts', to: 'lib/explain/explain.ts' },
    { from: 'bin/es-read.ts', to: 'lib/es/read.ts' }
  ]), [
    'lib/core/cli.ts imports lib/explain/explain.ts: core imports no connector',
    'lib/es/write.ts imports lib/mysql/connection.ts: connectors never import each other',
    'lib/csv/read.ts imports lib/index.ts: a folder never imports the top-level entries',
    'bin/es-read.ts imports test/helpers/run.ts: bin imports lib only',
    'lib/jsonl/write.ts imports bench/measure.ts: lib imports nothing outside lib'
  ])
})

t.test('lib/ and bin/ follow the import rules of ARCHITECTURE.md', async (t) => {
  const files = [...sourceFiles('lib'), ...sourceFiles('bin')]
  const imports = files.flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')))
  t.ok(imports.length > 100, `the scan found the imports (${imports.length})`)
  t.ok(imports.some((i) => i.from === 'lib/core/cli.ts' && i.to === 'lib/core/events.ts'), 'static imports are seen')
  t.ok(imports.some((i) => i.from === 'lib/cli.ts' && i.to === 'lib/explain/explain.ts'), 'dynamic imports are seen')
  t.strictSame(violations(imports), [])
  const dangling = imports.filter(({ to }) => statSync(join(ROOT, to), { throwIfNoEntry: false })?.isFile() !== true)
  t.strictSame(dangling, [], 'every relative import names a file that exists')
})

t.test('lib/ holds core, one folder per connector and the two top-level entries only', async (t) => {
  const top = readdirSync(join(ROOT, 'lib')).sort()
  t.strictSame(top.filter((n) => n.endsWith('.ts')), ['cli.ts', 'index.ts'])
  t.ok(top.includes('core'))
  const doc = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8')
  for (const folder of top.filter((n) => !n.endsWith('.ts'))) {
    t.match(doc, `lib/${folder}/`, `ARCHITECTURE.md describes lib/${folder}/`)
  }
})

// The repository is complete on its own: the contract the code cites is CONTRACT.md, in the
// repository, and each section a comment names (CONTRACT.md §N) is there.
t.test('code and docs cite the contract in the repository, by sections it has', async (t) => {
  const contract = readFileSync(join(ROOT, 'CONTRACT.md'), 'utf8')
  const sections = new Set([...contract.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1])))
  t.ok(sections.size >= 6, `CONTRACT.md has its numbered sections (${[...sections].join(', ')})`)
  const files = [...sourceFiles('lib'), ...sourceFiles('bin'), ...sourceFiles('test'), 'README.md', 'ARCHITECTURE.md', ...readdirSync(join(ROOT, 'man')).map((f) => `man/${f}`)]
  const outside: string[] = []
  const missing: string[] = []
  let cited = 0
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8')
    // This file names the old note to check that nothing else does.
    if (file !== 'test/architecture.test.ts' && /\bDESIGN(\.md)?\b/.test(text)) outside.push(file)
    for (const m of text.matchAll(/CONTRACT\.md §(\d+)((?:, §\d+)*)/g)) {
      for (const n of [m[1], ...[...m[2].matchAll(/§(\d+)/g)].map((x) => x[1])]) {
        cited++
        if (!sections.has(Number(n))) missing.push(`${file}: §${n}`)
      }
    }
  }
  t.strictSame(outside, [], 'no file cites a design note the repository does not hold')
  t.ok(cited > 5, `sections are cited (${cited})`)
  t.strictSame(missing, [], 'each cited section exists')
})
