import t from 'tap'
import { Stats } from '../../lib/core/stats.js'

t.test('the progress line adds percent and ETA once the total is known', async (t) => {
  const stats = new Stats(['read', 'written'])
  stats.add('read', 250)
  t.match(stats.describeProgress(), /^250 read, 0 written, 0 failed in [\d.]+ s \([\d,]+\/s\)$/, 'no total: the summary form')
  stats.expected = 1000
  t.match(stats.describeProgress(), /^250 read, 0 written, 0 failed in [\d.]+ s \([\d,]+\/s\), 25\.0% of 1000, ETA \d+ s$/)
  stats.add('read', 750)
  t.match(stats.describeProgress(), /100\.0% of 1000, ETA 0 s$/)
})
