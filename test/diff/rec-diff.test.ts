import t from 'tap'
import type { Test } from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { lines, runTool, scratchDir } from '../helpers/run.js'
import { makePair, sortedById } from '../helpers/diff-pairs.js'
import type { RefOptions, RefResult } from '../helpers/diff-reference.js'
import { parseJson, reference, scalar } from '../helpers/diff-reference.js'

// rec-diff, the real binary, on generated pairs with every kind of difference, checked against
// the independent reading in test/helpers/diff-reference.ts: the operations (byte for byte), the summary's counts,
// the report and the exit status, in each way rec-diff can compare (in memory, through
// temporary files split again, sorted merge) and under each rule.

const dir = scratchDir(t)
const ROUNDS = 40
const small = makePair(ROUNDS)
const files = (name: string, pair: { source: string, target: string }): [string, string] => {
  const s = join(dir, `${name}-source.ndjson`)
  const tg = join(dir, `${name}-target.ndjson`)
  writeFileSync(s, pair.source)
  writeFileSync(tg, pair.target)
  return [s, tg]
}
const [source, target] = files('small', small)

/** A line's key as rec-diff's report writes it: the id as a JSON string, after the index's with --by-index. */
function keyOf (line: string, byIndex: boolean): string {
  const v = parseJson(line)
  if (v.t !== 'object') throw new Error(`not an object: ${line}`)
  const id = v.m.get('_id')
  const key = JSON.stringify(scalar(id))
  return byIndex ? `${JSON.stringify(scalar(v.m.get('_index')))}/${key}` : key
}

interface Outcome { code: number | null, stdout: string, stderr: string, report: string[] }

async function recDiff (args: string[], inputs: [string, string], report = join(dir, 'report.tsv')): Promise<Outcome> {
  const r = await runTool('rec-diff', [...args, '--report', report, ...inputs])
  return { ...r, report: lines(readFileSync(report, 'utf8')) }
}

const ALL = ['missing', 'changed', 'extra'] as const

/** Checks everything a user would look at against the reference's reading of the same inputs. */
function check (t: Test, got: Outcome, want: RefResult, opts: RefOptions & { only?: ReadonlyArray<typeof ALL[number]>, brief?: boolean }): void {
  const only = new Set(opts.only ?? ALL)
  const counts = { missing: 0, changed: 0, extra: 0 }
  for (const kind of want.kinds.values()) counts[kind]++
  t.ok(counts.missing > 0 && counts.changed > 0 && counts.extra > 0, `the pair has every kind of difference (${JSON.stringify(counts)})`)
  const compared = want.same + counts.missing + counts.changed + counts.extra
  const failed = want.errors > 0 ? `, ${want.errors} failed` : ''
  t.match(got.stderr, new RegExp(`rec-diff: ${compared.toLocaleString('en-US')} compared: ${want.same.toLocaleString('en-US')} same, ${counts.missing} missing, ${counts.changed} changed, ${counts.extra} extra${failed}; [\\d,]+ records read in`), 'the summary counts what the reference finds')

  // The operations: SOURCE's line with "_op":"index" put in for missing and changed ids, a delete for extra ones.
  const expected = [...want.kinds].filter(([, kind]) => only.has(kind) && opts.brief !== true)
  const ops = lines(got.stdout)
  t.equal(ops.length, expected.length, 'one operation per selected difference')
  const byKey = new Map(ops.map((l) => [keyOf(l, opts.byIndex), l]))
  t.equal(byKey.size, ops.length, 'no id twice')
  const wrong: string[] = []
  for (const [key, kind] of expected) {
    const op = byKey.get(key)
    if (kind === 'extra') {
      const line = want.target.get(key)?.line ?? ''
      const v = op === undefined ? undefined : parseJson(op)
      const idToken = /"_id"\s*:\s*("(?:[^"\\]|\\.)*"|[-\d.eE+]+)/.exec(line)?.[1]
      const index = scalar(want.target.get(key) === undefined || v?.t !== 'object' ? undefined : v.m.get('_index'))
      if (v?.t !== 'object' || scalar(v.m.get('_op')) !== 'delete' || op?.includes(`"_id":${idToken ?? '?'}`) !== true || index === undefined || !line.includes(`"_index":"${index}"`)) wrong.push(`extra ${key}: ${op ?? 'no operation'}`)
    } else {
      const line = want.source.get(key)?.line ?? ''
      const indexed = line.replace(/^(\s*\{)/, '$1"_op":"index",')
      if (op !== indexed) wrong.push(`${kind} ${key}: ${op ?? 'no operation'} (want ${indexed})`)
    }
  }
  t.strictSame(wrong.slice(0, 3), [], 'each operation is SOURCE\'s line byte for byte with "_op":"index", or a delete of TARGET\'s id as written')

  const reported = new Map(got.report.map((l) => { const [kind, key] = l.split('\t'); return [key, kind] }))
  t.strictSame(new Map([...reported].sort()), new Map([...want.kinds].sort()), '--report: one line per differing id, with its kind')
  const changed = got.report.find((l) => l.startsWith('changed\t'))
  t.match(changed, /^changed\t("[^"]+"\/)?"[^"]+"\t_source[^\t]*: .+ ≠ .+ \(SOURCE line \d+, TARGET line \d+\)$/, 'a changed record: its first difference and both lines')

  const differs = [...want.kinds.values()].some((k) => only.has(k))
  t.equal(got.code, want.errors > 0 ? 2 : differs ? 1 : 0, 'the exit status: 2 for record errors, else 1 when the inputs differ')
}

t.test('every kind of difference, compared in memory', async (t) => {
  const want = reference(small.source, small.target, { numbers: 'value', byIndex: false })
  check(t, await recDiff([], [source, target]), want, { numbers: 'value', byIndex: false })
  t.equal(want.errors, ROUNDS * 5, 'the record errors the pair holds: 3 lines that are no record, 2 duplicates, per round')
  const named = await recDiff([], [source, target])
  t.match(named.stderr, /rec-diff: record error \[RECORD_DUPLICATE_ID\] SOURCE has id "dup-12" twice: lines (\d+) and (\d+) \(an id given more than once is not compared\)/, 'a duplicate names both its lines')
  const m = /SOURCE has id "dup-12" twice: lines (\d+) and (\d+)/.exec(named.stderr)
  const srcLines = small.source.split('\n')
  t.ok(m !== null && srcLines[Number(m[1]) - 1].includes('"dup-12"') && srcLines[Number(m[2]) - 1].includes('"dup-12"'), 'the two line numbers are the lines of that id')
  t.match(named.stderr, /record error \[RECORD_DUPLICATE_ID\] TARGET has id "tdup-13" twice/)
  t.match(named.stderr, /record error \[NDJSON_INVALID_JSON\] SOURCE line \d+ is not JSON/)
  t.match(named.stderr, /record error \[RECORD_BAD_ID\] SOURCE line \d+: the id at '_id' is a boolean/)
  t.match(named.stderr, /record error \[NDJSON_NOT_OBJECT\] SOURCE line \d+ is JSON but not an object/)
})

t.test('--numbers text: numbers compared as written', async (t) => {
  const opts = { numbers: 'text' as const, byIndex: false }
  const want = reference(small.source, small.target, opts)
  const byValue = reference(small.source, small.target, { numbers: 'value', byIndex: false })
  t.equal([...want.kinds.values()].filter((k) => k === 'changed').length - [...byValue.kinds.values()].filter((k) => k === 'changed').length, ROUNDS * 4, '10.0 vs 10, -0 vs 0, 1e2 vs 100, 1.5e300 vs 15e299 differ as text only')
  check(t, await recDiff(['--numbers', 'text'], [source, target]), want, opts)
})

t.test('--by-index: the same id in another index is another record', async (t) => {
  const opts = { numbers: 'value' as const, byIndex: true }
  const want = reference(small.source, small.target, opts)
  t.equal(want.kinds.get('"old"/"ix-20"'), 'missing')
  t.equal(want.kinds.get('"new"/"ix-20"'), 'extra')
  check(t, await recDiff(['--by-index'], [source, target]), want, opts)
})

t.test('--sorted: inputs in id order, merged as they stream, the same findings', async (t) => {
  const sorted = { source: sortedById(small.source), target: sortedById(small.target) }
  const inputs = files('sorted', sorted)
  const want = reference(sorted.source, sorted.target, { numbers: 'value', byIndex: false })
  const got = await recDiff(['--sorted'], inputs)
  check(t, got, want, { numbers: 'value', byIndex: false })
  const keys = lines(got.stdout).map((l) => keyOf(l, false))
  t.ok(keys.length > 0 && keys.every((k, i) => i === 0 || Buffer.compare(Buffer.from(JSON.parse(keys[i - 1]) as string), Buffer.from(JSON.parse(k) as string)) < 0), 'operations in id order')

  const unsorted = await runTool('rec-diff', ['--sorted', source, inputs[1]])
  t.equal(unsorted.code, 2, 'an unsorted input stops the run with status 2')
  t.match(unsorted.stderr, /rec-diff: error \[EDIFF_UNSORTED\] --sorted: SOURCE is not sorted by id: line (\d+) has "[^"]+", after "[^"]+" on line \d+ \(both inputs must be in byte order of their ids, as LC_ALL=C sort orders them; without --sorted any order will do\)/)
})

t.test('--only and -q: what is written, and what the exit status counts', async (t) => {
  const opts = { numbers: 'value' as const, byIndex: false }
  const want = reference(small.source, small.target, opts)
  check(t, await recDiff(['--only', 'changed,extra'], [source, target]), want, { ...opts, only: ['changed', 'extra'] })
  check(t, await recDiff(['--only', 'missing', '--only', 'extra'], [source, target]), want, { ...opts, only: ['missing', 'extra'] })
  check(t, await recDiff(['-q'], [source, target]), want, { ...opts, brief: true })
  const quiet = await runTool('rec-diff', ['--quiet', source, target])
  t.equal(quiet.stderr.match(/^rec-diff: \d/m), null, '--quiet (long) leaves out the summary, as in every espipe binary')
  t.ok(lines(quiet.stdout).length > 0, 'and still writes the operations')
})

t.test('larger than --memory: records go to temporary files, partitions are split again, the same findings', async (t) => {
  // 2 × ~27 MB under --memory 1mb: 64 partitions of ~850 KB a pair, each more than the 400 KB
  // arena, so each is split again into 64.
  const big = makePair(ROUNDS, { filler: 12000, pad: 2200, seed: 5 })
  const inputs = files('big', big)
  const want = reference(big.source, big.target, { numbers: 'value', byIndex: false })
  const tmp = join(dir, 'tmp')
  const { mkdirSync, readdirSync } = await import('node:fs')
  mkdirSync(tmp)
  check(t, await recDiff(['--memory', '1mb', '--tmpdir', tmp], inputs), want, { numbers: 'value', byIndex: false })
  t.strictSame(readdirSync(tmp), [], 'no temporary file is left')
})
