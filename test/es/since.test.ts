// es-read --since-field's positions and round queries (issue 24): every digit of a number,
// dates read back in a format that keeps them, ties left out only while their value holds.
import t from 'tap'
import { compareValues, isoNanos, parseSincePosition, roundQuery, sincePositionText, valueMs } from '../../lib/es/since.js'

t.test('positions: [V,K,KEY] and back, big numbers exact', async (t) => {
  const text = sincePositionText({ value: '18446744073709551615', k: 3, key: '["logs","a\\"1"]' })
  t.equal(text, '[18446744073709551615,3,["logs","a\\"1"]]')
  t.strictSame(parseSincePosition(text), { value: '18446744073709551615', k: 3, key: '["logs","a\\"1"]' })
  t.throws(() => parseSincePosition('[1,2]'), { code: 'ECHECKPOINT' })
  t.throws(() => parseSincePosition('[1,0,["i","a"]]'), { code: 'ECHECKPOINT' })
})

t.test('values compare as numbers, every digit', async (t) => {
  t.equal(compareValues('9007199254740993', '9007199254740992'), 1)
  t.equal(compareValues('-5', '3'), -1)
  t.equal(compareValues('1.5', '1.5'), 0)
  t.equal(valueMs('date_nanos', '1704067200123456789'), 1704067200123)
  t.equal(valueMs('number', '5'), undefined)
})

t.test('nanoseconds as ISO-8601 with nine digits, before 1970 too', async (t) => {
  t.equal(isoNanos(1704067200123456789n), '2024-01-01T00:00:00.123456789Z')
  t.equal(isoNanos(-1n), '1969-12-31T23:59:59.999999999Z')
})

t.test('a round: from V (numbers as their digits), before the cutoff (dates), the committed ties of V left out while F is V', async (t) => {
  const base = { match_all: {} }
  t.strictSame(roundQuery(base, { name: 'seq', kind: 'number', indices: 1 }, { value: '18446744073709551615', keys: ['["i","a"]', '["i","b"]'] }, 1000), {
    bool: {
      filter: [base, { exists: { field: 'seq' } }, { range: { seq: { gte: '18446744073709551615' } } }],
      must_not: [{ bool: { filter: [{ range: { seq: { gte: '18446744073709551615', lte: '18446744073709551615' } } }, { ids: { values: ['a', 'b'] } }] } }]
    }
  })
  t.strictSame(roundQuery(base, { name: 'at', kind: 'date', indices: 2 }, { value: '1704067200123', keys: ['["x","a"]', '["y","a"]'] }, Date.UTC(2024, 0, 2)), {
    bool: {
      filter: [base, { exists: { field: 'at' } }, { range: { at: { gte: '2024-01-01T00:00:00.123Z', lt: '2024-01-02T00:00:00.000Z', format: 'strict_date_optional_time' } } }],
      must_not: ['x', 'y'].map((index) => ({ bool: { filter: [{ range: { at: { gte: '2024-01-01T00:00:00.123Z', lte: '2024-01-01T00:00:00.123Z', format: 'strict_date_optional_time' } } }, { ids: { values: ['a'] } }, { term: { _index: index } }] } }))
    }
  })
  t.strictSame(roundQuery(base, { name: 'at', kind: 'date_nanos', indices: 1 }, { value: '1704067200123456789', keys: [] }, undefined), {
    bool: { filter: [base, { exists: { field: 'at' } }, { range: { at: { gte: '2024-01-01T00:00:00.123456789Z', format: 'strict_date_optional_time_nanos' } } }] }
  })
  t.strictSame(roundQuery(base, { name: 'at', kind: 'date', indices: 1 }, undefined, undefined), { bool: { filter: [base, { exists: { field: 'at' } }] } }, 'the first run reads everything')
})
