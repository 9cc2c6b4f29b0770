import t from 'tap'
import { Stats, groupDigits } from '../../lib/core/stats.js'

t.test('the progress line adds percent and ETA once the total is known', async (t) => {
  const stats = new Stats(['read', 'written'])
  stats.add('read', 250)
  t.match(stats.describeProgress(), /^250 read, 0 written, 0 failed in [\d.]+ s \([\d,]+\/s\)$/, 'no total: the summary form')
  stats.expected = 1000
  t.match(stats.describeProgress(), /^250 read, 0 written, 0 failed in [\d.]+ s \([\d,]+\/s\), 25\.0% of 1000, ETA \d+ s$/)
  stats.add('read', 750)
  t.match(stats.describeProgress(), /100\.0% of 1000, ETA 0 s$/)
})

t.test('rates are grouped in thousands as en-US writes them', async (t) => {
  for (const n of [0, 7, 999, 1000, 12345, 999999, 1000000, 123456789, 9007199254740991]) {
    t.equal(groupDigits(n), n.toLocaleString('en-US'), String(n))
  }
})
