import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { runShell, scratchDir } from '../helpers/run.js'

t.test('csv-read | jq | jsonl-write in a real shell pipe', async (t) => {
  const dir = scratchDir(t)
  const csv = join(dir, 'people.csv')
  writeFileSync(csv, 'id,name,age\n1,Ann,34\n2,Bob,19\n3,Cy,52\n')
  const out = join(dir, 'adults.jsonl.gz')
  const r = await runShell(`csv-read --cast ${csv} | jq -c 'select(._source.age > 30)' | jsonl-write --shape flat -o ${out}`)
  t.equal(r.code, 0, r.stderr)
  t.equal(gunzipSync(readFileSync(out)).toString(), '{"id":"1","name":"Ann","age":34}\n{"id":"3","name":"Cy","age":52}\n', 'the ids strings, the ages numbers (--cast)')
  t.match(r.stderr, /csv-read: 3 read, 3 emitted, 0 failed/)
  t.match(r.stderr, /jsonl-write: 2 read, 2 written, 0 skipped, 0 failed/)
})

t.test('a failing stage fails the pipe under pipefail, and the dead-letter file replays', async (t) => {
  const dir = scratchDir(t)
  const csv = join(dir, 'ragged.csv')
  writeFileSync(csv, 'id,a\n1,x\n2,x,extra\n3,z\n')
  const errs = join(dir, 'errors.ndjson')
  const r = await runShell(`csv-read --errors ${errs} ${csv} | jsonl-write`)
  t.equal(r.code, 1)
  t.equal(r.stdout, '{"_id":"1","_source":{"id":"1","a":"x"}}\n{"_id":"3","_source":{"id":"3","a":"z"}}\n')
  const replay = await runShell(`jq -r .record ${errs}`)
  t.equal(replay.stdout, '2,x,extra\n')
})

t.test('a stage writing to a file leaves a shared stdout pipe blocking: tee >(jsonl-write -o f) | cat loses nothing', async (t) => {
  const dir = scratchDir(t)
  const copy = join(dir, 'copy.jsonl')
  const direct = join(dir, 'direct.jsonl')
  const r = await runShell(`seq 1 200000 | sed 's/.*/{"_id":"&"}/' | tee >(jsonl-write -q -o ${copy}) | (sleep 1; cat) > ${direct}; s=$?; wait $!; exit $s`)
  t.equal(r.code, 0, r.stderr)
  t.notMatch(r.stderr, /Resource temporarily unavailable/)
  const want = Array.from({ length: 200000 }, (_v, i) => `{"_id":"${i + 1}"}\n`).join('')
  t.ok(readFileSync(direct, 'utf8') === want, 'the direct copy: every line, in order')
  t.ok(readFileSync(copy, 'utf8') === want, "jsonl-write's copy: every line, in order")
})
