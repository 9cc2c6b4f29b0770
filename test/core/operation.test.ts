import t from 'tap'
import { RECORD_OPS, isOpProblem, recordOp, withoutReserved } from '../../lib/core/operation.js'
import { mergeDocument } from '../../lib/core/merge.js'
import { parseExact, stringifyExact } from '../../lib/core/json.js'
import { scanObject } from '../../lib/core/raw-json.js'
import type { JsonObject } from '../../lib/core/record.js'

/** The operation of a line read both ways a writer reads it: scanned, and parsed. */
function both (line: string): [unknown, unknown] {
  const raw = scanObject(line)
  if (raw === undefined) throw new Error(`${line} does not scan`)
  return [recordOp(raw, undefined), recordOp(undefined, parseExact(line) as JsonObject)]
}

t.test('_op: each operation, none, or a bad record with a one-line reason (scanned and parsed alike)', async (t) => {
  for (const op of RECORD_OPS) t.strictSame(both(`{"_id":"a","_op":"${op}"}`), [op, op], op)
  t.strictSame(both('{"_id":"a","_source":{"_op":"delete"}}'), [undefined, undefined], 'only the top-level member counts')
  const bad: Array<[string, string]> = [
    ['"Delete"', 'its _op is "Delete", not an operation (index, create, update, upsert, delete)'],
    ['null', 'its _op is null, not an operation (index, create, update, upsert, delete)'],
    ['1', 'its _op is a number, not an operation (index, create, update, upsert, delete)'],
    ['""', 'its _op is "", not an operation (index, create, update, upsert, delete)']
  ]
  for (const [value, message] of bad) {
    const [scanned, parsed] = both(`{"_id":"a","_op":${value}}`)
    t.ok(isOpProblem(scanned as never) && isOpProblem(parsed as never), value)
    t.strictSame(parsed, { code: 'RECORD_BAD_OP', message }, `parsed ${value}`)
    t.equal((scanned as { code: string }).code, 'RECORD_BAD_OP', `scanned ${value}`)
  }
})

t.test('withoutReserved: _op and _pos cut from a record, every other byte kept', async (t) => {
  const cases: Array<[string, string]> = [
    ['{"_op":"index","a":1.0,"_pos":"0:1:2","b":9007199254740993}', '{"a":1.0,"b":9007199254740993}'],
    ['{"a":1.0, "_op":"delete"}', '{"a":1.0}'],
    ['{"_op":"delete","_pos":"0:1:2"}', '{}'],
    ['{"a":{"_op":"x"},"b":"\\u00e9"}', '{"a":{"_op":"x"},"b":"\\u00e9"}'],
    // A key given twice does not scan: written again exactly, without them.
    ['{"a":1,"a":2,"_op":"index","n":1e400}', '{"a":2,"n":1e400}']
  ]
  for (const [line, want] of cases) t.equal(withoutReserved(line), want, line)
})

t.test('mergeDocument merges as Elasticsearch merges an update: objects by key, the rest replaced, digits kept', async (t) => {
  const base = parseExact('{"a":1,"o":{"x":1,"deep":{"k":1}},"arr":[1,2],"big":9007199254740993,"gone":{"x":1}}') as JsonObject
  const partial = parseExact('{"o":{"y":2,"deep":{"j":2}},"arr":[3],"big":90071992547409931,"gone":null,"new":1.0}') as JsonObject
  const merged = mergeDocument(base, partial)
  t.equal(stringifyExact(merged), '{"a":1,"o":{"x":1,"deep":{"k":1,"j":2},"y":2},"arr":[3],"big":90071992547409931,"gone":null,"new":1.0}')
  t.equal(stringifyExact(base), '{"a":1,"o":{"x":1,"deep":{"k":1}},"arr":[1,2],"big":9007199254740993,"gone":{"x":1}}', 'the stored document is not changed')
  const proto = mergeDocument(parseExact('{"a":1}') as JsonObject, parseExact('{"__proto__":{"x":1}}') as JsonObject)
  t.equal(stringifyExact(proto), '{"a":1,"__proto__":{"x":1}}', 'a "__proto__" key stays a key')
})
