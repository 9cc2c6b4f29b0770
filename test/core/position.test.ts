// The position a checkpointed reader puts on each record (`_pos`, lib/core/position.ts), as a
// writer meets it: jsonl-write as a real child process. With --checkpoint, a `_pos` that is not
// one espipe wrote stops the run in one line (acknowledging it would resume from nowhere); and
// `_pos` never reaches the output, also from a line that only an exact parse can read.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { runTool, scratchDir } from '../helpers/run.js'

const dir = scratchDir(t)

t.test('with --checkpoint, a _pos that is not a position espipe wrote: one line quoting it, exit 1, nothing acknowledged', async (t) => {
  const cases: Array<[string, string]> = [
    ['"x"', '"x"'],
    ['"0:0:[1]"', '"0:0:[1]"'],
    ['"-1:3:[1]"', '"-1:3:[1]"'],
    ['"0:2"', '"0:2"'],
    // Not a string at all: a bad position too, never taken for a record without one.
    ['12', '12'],
    ['null', 'null'],
    ['{"s":0}', '{"s":0}']
  ]
  let k = 0
  for (const [pos, quoted] of cases) {
    const out = join(dir, `bad-${++k}.jsonl`)
    const ckpt = join(dir, `bad-${k}.ckpt`)
    const r = await runTool('jsonl-write', ['--checkpoint', ckpt, '-o', out], { input: `{"_id":"a","_source":{"n":1},"_pos":${pos}}\n` })
    t.equal(r.code, 1, `_pos ${pos}: exit 1`)
    t.equal(r.stderr.split('\n')[0], `jsonl-write: error [RECORD_BAD_POSITION] its _pos member is not a position espipe wrote (${quoted}); it is reserved for the reader's checkpoint positions`, `_pos ${pos}`)
    t.equal(existsSync(out) ? readFileSync(out, 'utf8') : '', '', `_pos ${pos}: nothing written`)
    const saved = existsSync(ckpt) ? readFileSync(ckpt, 'utf8') : ''
    t.equal(saved === '' || (JSON.parse(saved) as { writer?: { committed: number } }).writer?.committed === 0, true, `_pos ${pos}: nothing acknowledged`)
  }
})

t.test('_pos never reaches the output: cut from the bytes, or from a line with a key twice, written again exactly without it', async (t) => {
  const input = [
    '{"_id":"1","_source":{"n":9007199254740993},"_pos":"0:1:[1]"}',
    '{"_id":"2","n":1,"n":12345678901234567890.50,"_pos":"0:2:[2]"}',
    '{"_pos":"0:3:[3]","_id":"3","v":"\\u00e9"}'
  ].join('\n') + '\n'
  const out = join(dir, 'stripped.jsonl')
  const r = await runTool('jsonl-write', ['-o', out], { input })
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(out, 'utf8'), [
    '{"_id":"1","_source":{"n":9007199254740993}}',
    '{"_id":"2","n":12345678901234567890.50}',
    '{"_id":"3","v":"\\u00e9"}'
  ].join('\n') + '\n', 'every line as it came, less its position; the key given twice with its last value, every digit')
})
