// The tie log (issue 24): the keys of a tie group, in the order they went downstream, synced
// before they go; a rerun leaves out exactly the first K of them.
import t from 'tap'
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TieLog } from '../../lib/core/tie-log.js'
import { scratchDir } from '../helpers/run.js'

const byNumber = (a: string, b: string): number => Number(a) - Number(b)

t.test('a group of several is in the file before flush returns; a lone record is not written', async (t) => {
  const file = join(scratchDir(t), 'c.ties')
  const log = new TieLog(file, byNumber)
  t.strictSame(log.resume(undefined), [])
  t.equal(log.add('1', '["i","a"]'), 1)
  log.flush()
  t.equal(readFileSync(file, 'utf8'), '', 'a value read once needs no record of its ties')
  t.equal(log.add('2', '["i","b"]'), 1)
  t.equal(log.add('2', '["i","c"]'), 2)
  t.equal(log.add('2', '["i","d"]'), 3)
  log.flush()
  t.equal(readFileSync(file, 'utf8'), '["2","[\\"i\\",\\"b\\"]"]\n["2","[\\"i\\",\\"c\\"]"]\n["2","[\\"i\\",\\"d\\"]"]\n', 'the group, in order')
  t.strictSame(log.group, { value: '2', keys: ['["i","b"]', '["i","c"]', '["i","d"]'] })
  log.close()
})

t.test('a rerun after K of a group: the first K keys, and the group goes on from there', async (t) => {
  const file = join(scratchDir(t), 'c.ties')
  const first = new TieLog(file, byNumber)
  first.resume(undefined)
  for (const k of ['a', 'b', 'c', 'd']) first.add('7', `["i","${k}"]`)
  first.flush()
  first.close()
  // Killed mid-write: a cut line was never synced, so no position names it.
  appendFileSync(file, '["7","[\\"i\\",\\"e')
  const again = new TieLog(file, byNumber)
  t.strictSame(again.resume({ value: '7', k: 2, key: '["i","b"]' }), ['["i","a"]', '["i","b"]'], 'the two committed')
  t.equal(again.add('7', '["i","x"]'), 3, 'the next record of the group is its third')
  again.flush()
  t.strictSame(readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as string[])[1]), ['["i","a"]', '["i","b"]', '["i","x"]'])
  again.close()
  const k1 = new TieLog(join(scratchDir(t), 'none'), byNumber)
  t.strictSame(k1.resume({ value: '7', k: 1, key: '["i","q"]' }), ['["i","q"]'], 'K = 1: the position names the one key')
  k1.close()
})

t.test('a file that does not hold the committed keys is refused, not guessed', async (t) => {
  const file = join(scratchDir(t), 'c.ties')
  writeFileSync(file, '["7","[\\"i\\",\\"a\\"]"]\n["7","[\\"i\\",\\"z\\"]"]\n')
  const log = new TieLog(file, byNumber)
  t.throws(() => log.resume({ value: '7', k: 2, key: '["i","b"]' }), { code: 'ECHECKPOINT_TIES' })
  t.throws(() => log.resume({ value: '7', k: 3, key: '["i","c"]' }), { code: 'ECHECKPOINT_TIES' })
})
