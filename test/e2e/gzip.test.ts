import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { openInput } from '../../lib/core/input.js'
import { startEsServer } from '../servers/es/server.js'
import { testDatabase } from '../helpers/mysql.js'
import { lines, runShell, runTool, scratchDir } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'

// Every binary that reads files takes back the .gz files jsonl-write and csv-write write (and
// gzip bytes on stdin): known by their first bytes, decompressed, every member. A .gz that is
// not gzip, or a gzip stream damaged or cut short, is one fatal line.

const dir = scratchDir(t)
const N = 3000
const records = Array.from({ length: N }, (_v, i) => `{"_id":"r${i}","_source":{"n":${i},"big":9007199254740993,"x":1.50,"s":"café ✓ ${i}"}}`)
const plain = join(dir, 'records.ndjson')
writeFileSync(plain, records.join('\n') + '\n')
const gz = join(dir, 'records.jsonl.gz')

t.before(async () => {
  const r = await runTool('jsonl-write', ['-o', gz, plain])
  if (r.code !== 0) throw new Error(r.stderr)
})

const ids = (stdout: string): string[] => lines(stdout).map((l) => (JSON.parse(l) as { _id: string })._id)

t.test('jsonl-write reads its own .gz back byte for byte: by name, on stdin, and without the suffix', async (t) => {
  t.ok(readFileSync(gz).subarray(0, 2).equals(Buffer.from([0x1f, 0x8b])), 'the file is gzip')
  const byName = await runTool('jsonl-write', [gz])
  t.equal(byName.code, 0, byName.stderr)
  t.equal(byName.stdout, records.join('\n') + '\n')
  t.equal(countsOf(byName.stderr, 'jsonl-write'), `${N} read, ${N} written, 0 skipped, 0 failed`)
  const piped = await runShell(`cat ${gz} | jsonl-write`)
  t.equal(piped.code, 0, piped.stderr)
  t.equal(piped.stdout, byName.stdout, 'gzip bytes on stdin')
  const noSuffix = join(dir, 'records.bin')
  writeFileSync(noSuffix, readFileSync(gz))
  const bytes = await runTool('jsonl-write', [noSuffix])
  t.equal(bytes.stdout, byName.stdout, 'known by its first bytes, not its name')
})

t.test('a .gz added to with --append (two gzip members) is read whole', async (t) => {
  const both = join(dir, 'appended.jsonl.gz')
  t.equal((await runTool('jsonl-write', ['-o', both, plain])).code, 0)
  t.equal((await runTool('jsonl-write', ['--append', '-o', both, plain])).code, 0)
  const r = await runTool('jsonl-write', [both])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, (records.join('\n') + '\n').repeat(2))
})

t.test('csv-write and csv-read: a .csv.gz round trip', async (t) => {
  const csvGz = join(dir, 'records.csv.gz')
  const w = await runTool('csv-write', ['-o', csvGz, gz])
  t.equal(w.code, 0, w.stderr)
  const plainCsv = await runTool('csv-write', [plain])
  const back = await runTool('csv-read', ['--id-column', 'id', csvGz])
  t.equal(back.code, 0, back.stderr)
  const again = await runShell(`csv-read --id-column id < ${csvGz}`)
  t.equal(again.stdout, back.stdout, 'on stdin too')
  const fromPlain = await runShell('csv-read --id-column id', { input: plainCsv.stdout })
  t.equal(back.stdout, fromPlain.stdout, 'the same records as from the CSV that was not gzipped')
  t.equal(ids(back.stdout).length, N)
})

t.test('es-write and mysql-write load a .gz', async (t) => {
  const es = await startEsServer()
  t.teardown(async () => await es.close())
  const e = await runTool('es-write', ['--url', es.url, '--index', 'docs', '--refresh', gz])
  t.equal(e.code, 0, e.stderr)
  const stored = es.storedSources('docs')
  t.equal(stored.size, N)
  t.equal(stored.get('r7'), '{"n":7,"big":9007199254740993,"x":1.50,"s":"café ✓ 7"}')
  const db = await testDatabase(t, 'e2e_gzip')
  const m = await runShell(`cat ${gz} | mysql-write --url ${db.url} --table docs --create`)
  t.equal(m.code, 0, m.stderr)
  const [row] = await db.rows<{ n: number, content: string }>("SELECT COUNT(*) AS n, (SELECT CAST(content AS CHAR) FROM docs WHERE id = 'r7') AS content FROM docs")
  t.strictSame([Number(row.n), row.content], [N, '{"n":7,"big":9007199254740993,"x":1.50,"s":"café ✓ 7"}'])
})

t.test('rec-diff compares .gz inputs, and <(gzip -c …)', async (t) => {
  const r = await runTool('rec-diff', [gz, plain])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, new RegExp(`${N.toLocaleString('en')} compared: ${N.toLocaleString('en')} same, 0 missing, 0 changed, 0 extra`))
  const changed = join(dir, 'changed.ndjson')
  writeFileSync(changed, records.slice(1).map((l) => l.replace('"n":5,', '"n":55,')).join('\n') + '\n')
  const d = await runShell(`rec-diff <(gzip -c ${plain}) <(gzip -c ${changed})`)
  t.equal(d.code, 1, d.stderr)
  t.strictSame(ids(d.stdout).sort(), ['r0', 'r5'], 'r0 missing, r5 changed')
})

t.test('explain-errors reads a gzipped dead-letter file', async (t) => {
  const errors = join(dir, 'bad.errors')
  const bad = await runTool('jsonl-write', ['--errors', errors], { input: 'not json\n{"_id":"1"}\n' })
  t.equal(bad.code, 1)
  writeFileSync(errors + '.gz', gzipSync(readFileSync(errors)))
  const r = await runTool('explain-errors', ['--format', 'json', errors + '.gz'])
  t.equal(r.code, 0, r.stderr)
  t.strictSame((JSON.parse(r.stdout) as { problems: Array<{ rule: string }> }).problems.map((p) => p.rule), ['ndjson-not-json'])
})

t.test('a .gz that is not gzip, damaged or cut short: one fatal line naming the file', async (t) => {
  const csvText = 'id,n\n' + Array.from({ length: N }, (_v, i) => `r${i},${i}`).join('\n') + '\n'
  // Each broken three ways, from a gzipped NDJSON file and a gzipped CSV file.
  const broken = (kind: string, whole: Buffer, text: string): Record<string, string> => {
    const cut = join(dir, `cut.${kind}.gz`)
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)))
    const damaged = join(dir, `damaged.${kind}.gz`)
    const bytes = Buffer.from(whole)
    for (let i = 100; i < 140; i++) bytes[i] ^= 0xff
    writeFileSync(damaged, bytes)
    const notGzip = join(dir, `text.${kind}.gz`)
    writeFileSync(notGzip, text)
    return { cut, damaged, notGzip }
  }
  const ndjson = broken('jsonl', readFileSync(gz), records[0] + '\n')
  const csv = broken('csv', gzipSync(csvText), csvText)
  const message = (kind: string, file: string): RegExp => new RegExp({
    cut: `error \\[Z_BUF_ERROR\\] cannot read ${file}: it ends inside its gzip stream`,
    damaged: `error \\[Z_DATA_ERROR\\] cannot read ${file}: its gzip stream is damaged`,
    notGzip: `error \\[EGZIP\\] cannot read ${file}: its name ends in \\.gz but it is not gzip \\(it begins with bytes [0-9a-f]{2} [0-9a-f]{2}\\); rename it if it is text`
  }[kind] as string)
  for (const kind of ['cut', 'damaged', 'notGzip']) {
    for (const [tool, file, args, status] of [
      ['jsonl-write', ndjson[kind], [], 1], ['csv-read', csv[kind], [], 1], ['rec-diff', ndjson[kind], [plain], 2], ['explain-errors', ndjson[kind], [], 1]
    ] as const) {
      const r = await runTool(tool, [file, ...args])
      t.equal(r.code, status, `${tool} ${file}: ${r.stderr}`)
      t.equal(lines(r.stderr).filter((l) => message(kind, file).test(l)).length, 1, `${tool}: ${r.stderr}`)
    }
  }
  const explained = await runShell(`jsonl-write ${ndjson.cut} 2>&1 >/dev/null | explain-errors --format json`)
  t.strictSame((JSON.parse(explained.stdout) as { problems: Array<{ rule: string }> }).problems.map((p) => p.rule), ['gzip-input'], 'explain-errors knows the failure')
})

t.test('openInput: a resumed read of a gzipped file starts at the offset into its decompressed bytes', async (t) => {
  const text = readFileSync(plain)
  for (const start of [0, 1, 1000, 65_537, text.length - 3]) {
    const chunks: Buffer[] = []
    for await (const c of openInput(gz, undefined, undefined, start)) chunks.push(c as Buffer)
    t.ok(Buffer.concat(chunks).equals(text.subarray(start)), `from byte ${start}`)
  }
})
