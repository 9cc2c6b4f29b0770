import t from 'tap'
import Big from 'big.js'
import { canonicalDecimal } from '../../lib/diff/decimal.js'
import { compareTexts, describe } from '../../lib/diff/equal.js'

t.test('canonical decimals: equal exactly when big.js says the values are equal', async (t) => {
  const tokens = ['0', '-0', '0.0', '0e5', '1', '1.0', '1.00', '10e-1', '0.1e1', '100', '1e2', '1E+2', '0.01e4', '-1', '-1.0', '1.5', '15e-1', '0.15e1',
    '9007199254740992', '9007199254740993', '9007199254740993.0', '90071992547409930e-1', '0.1', '0.10', '1e-7', '0.0000001', '123456789012345678901234567890', '1.23456789012345678901234567890e29',
    '1e400', '10e399', '1e-400', '0.001e-397', '-1e400']
  let pairs = 0
  for (const a of tokens) {
    for (const b of tokens) {
      pairs++
      t.equal(canonicalDecimal(a) === canonicalDecimal(b), new Big(a).eq(new Big(b)), `${a} vs ${b}`)
    }
  }
  t.equal(pairs, tokens.length ** 2)
  t.equal(canonicalDecimal('12e99999999999999999999'), '12e99999999999999999999', 'exponents beyond a double keep every digit')
  t.equal(canonicalDecimal('1e99999999999999999999'), canonicalDecimal('10e99999999999999999998'))
  t.equal(canonicalDecimal('01'), undefined, 'not a JSON number')
  t.equal(canonicalDecimal('1.'), undefined)
})

t.test('the first difference: its path and both values as written', async (t) => {
  const d = (a: string | undefined, b: string | undefined, numbers: 'value' | 'text' = 'value'): string | undefined => {
    const x = compareTexts(a, b, numbers, '_source')
    return x === undefined ? undefined : describe(x)
  }
  t.equal(d('{"a":1,"b":{"c":[1,2]}}', '{"b":{"c":[1,2]},"a":1}'), undefined, 'member order does not matter')
  t.equal(d('{"price":10}', '{"price":10.5}'), '_source.price: 10 ≠ 10.5')
  t.equal(d('{"price":10}', '{"price":10.0}'), undefined, '10 = 10.0 by value')
  t.equal(d('{"price":10}', '{"price":10.0}', 'text'), '_source.price: 10 ≠ 10.0', 'as written with --numbers text')
  t.equal(d('{"n":9007199254740993}', '{"n":9007199254740992}'), '_source.n: 9007199254740993 ≠ 9007199254740992')
  t.equal(d('{"n":1}', '{"n":"1"}'), '_source.n: 1 ≠ "1"', 'a number is not a string')
  t.equal(d('{"t":[1,2]}', '{"t":[2,1]}'), '_source.t[0]: 1 ≠ 2', 'arrays in order')
  t.equal(d('{"t":[1,2]}', '{"t":[1]}'), '_source.t[1]: 2 ≠ (absent)')
  t.equal(d('{"a":1}', '{"a":1,"b":null}'), '_source.b: (absent) ≠ null', 'null is a value')
  t.equal(d('{"a b":{"c.d":1}}', '{"a b":{"c.d":2}}'), '_source["a b"]["c.d"]: 1 ≠ 2', 'keys that are no identifier, quoted')
  t.equal(d('{"s":"\u00e9"}', '{"s":"e\u0301"}'), '_source.s: "\u00e9" ≠ "e\u0301"', 'no Unicode normalisation: NFC and NFD differ')
  t.equal(d('{"s":"é"}', '{"s":"\\u00e9"}'), undefined, 'an escape is the character it stands for')
  t.equal(d('{"a":1,"a":2}', '{"a":2}'), undefined, 'a key given twice: the last counts, as JSON.parse reads it')
  t.equal(d('{"d":"2024-01-01T00:00:00Z"}', '{"d":"2024-01-01T00:00:00.000Z"}'), '_source.d: "2024-01-01T00:00:00Z" ≠ "2024-01-01T00:00:00.000Z"', 'dates are strings')
  t.equal(d(undefined, '{"a":1}'), '_source: (absent) ≠ {"a":1}')
  t.equal(d(undefined, undefined), undefined)
  t.equal(d('{"long":"' + 'x'.repeat(100) + '"}', '{"long":1}'), `_source.long: "${'x'.repeat(78)}… ≠ 1`, 'long values cut at 80 characters')
})
