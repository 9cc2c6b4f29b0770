// ItemBuilder reads a scanned line (es-write's input) from its text, without parsing it. Every
// record below is built both ways, from the scanned line and from the parsed one, and must give
// the same bulk item or the same problem, for every op and the id/content paths users give; and
// the items of the common ops are written out by hand, so both ways answer to an outside oracle.
import t from 'tap'
import { ParsedLine } from '../../lib/core/ndjson.js'
import { scanObject } from '../../lib/core/raw-json.js'
import type { JsonObject } from '../../lib/core/record.js'
import { BULK_OPS, ItemBuilder } from '../../lib/es/bulk-item.js'
import type { ItemOptions } from '../../lib/es/bulk-item.js'

const LINES = [
  '{"_index":"i","_id":"a1","_source":{"n":1,"s":"x"}}',
  '{"_id":"a1","_index":"i","_source":{"n":9007199254740993,"big":1e400,"z":-0,"f":1.0}}',
  '{"_index":"i","_id":7,"_source":{"n":1}}',
  '{"_index":"i","_id":9007199254740993,"_source":{}}',
  '{"_index":"i","_id":1.0,"_source":{"a":[1,{"b":null}]}}',
  '{"_index":"i","_id":-0,"_source":{"a":true}}',
  '{"_index":"i","_id":1e3,"_source":{"a":false}}',
  '{"_index":"i","_id":"","_source":{"a":1}}',
  '{"_index":"i","_id":null,"_source":{"a":1}}',
  '{"_index":"i","_id":true,"_source":{"a":1}}',
  '{"_index":"i","_id":{"x":1},"_source":{"a":1}}',
  '{"_index":"i","_source":{"a":1}}',
  '{"_index":"i","_id":"é\\u00e9\\"q","_source":{"s":"\\ud83d\\ude00 \\n"}}',
  '{"_index":"i\\u0041","_id":"a","_source":{"a":1}}',
  '{"_index":"","_id":"a","_source":{"a":1}}',
  '{"_index":5,"_id":"a","_source":{"a":1}}',
  '{"_id":"a","_source":{"a":1}}',
  '{"_index":"i","_id":"a","_routing":"r1","_source":{"a":1}}',
  '{"_index":"i","_id":"a","_routing":"","_source":{"a":1}}',
  '{"_index":"i","_id":"a","_routing":12345678901234567890,"_source":{"a":1}}',
  '{"_index":"i","_id":"a","_routing":null,"_source":{"a":1}}',
  '{"_index":"i","_id":"a","_routing":["r"],"_source":{"a":1}}',
  '{"_index":"i","_id":"a"}',
  '{"_index":"i","_id":"a","_source":[1,2]}',
  '{"_index":"i","_id":"a","_source":"text"}',
  '{"_index":"i","_id":"a","_source":null}',
  '{"_index":"i","_id":"a","_source":{"a":1},"extra":{"_source":{"b":2}}}',
  '{ "_index" : "i" , "_id" : "sp" , "_source" : { "a" : 1 } }',
  '{"id":"k1","name":"n","nested":{"id":"inner"},"_index":"i"}',
  '{"id":12,"name":"n","doc":{"id":1}}',
  '{"meta":{"id":"m1"},"doc":{"v":1},"id":"top"}'
]

const OPTIONS: Array<Omit<ItemOptions, 'op'>> = [
  {},
  { index: 'fixed' },
  { index: 'fixed', idField: 'id', contentField: '.' },
  { idField: 'id', contentField: 'doc' },
  { index: 'fixed', idField: 'meta.id', contentField: 'doc' },
  { index: 'fixed', idField: '.id', contentField: '.doc' }
]

function build (line: string, o: ItemOptions, scanned: boolean): unknown {
  const builder = new ItemBuilder(o)
  const raw = scanned ? scanObject(line) : undefined
  const record = scanned ? new ParsedLine(undefined, line, 1, 'f', raw) : new ParsedLine(JSON.parse(line) as JsonObject, line, 1, 'f')
  const item = builder.build(record)
  return { item, withoutId: builder.withoutId }
}

t.test('a scanned line gives the item (or the problem) its parsed line gives', async (t) => {
  let compared = 0
  let scannedLines = 0
  for (const line of LINES) {
    if (scanObject(line) === undefined) continue
    scannedLines++
    for (const op of BULK_OPS) {
      for (const o of OPTIONS) {
        t.strictSame(build(line, { op, ...o }, true), build(line, { op, ...o }, false), `${op} ${JSON.stringify(o)} ${line}`)
        compared++
      }
    }
  }
  // Every line above is plain enough to be scanned: the comparison covers them all.
  t.equal(scannedLines, LINES.length, 'every line scanned')
  t.equal(compared, LINES.length * BULK_OPS.length * OPTIONS.length)
})

/** What a build gave, in a form written out by hand below: the action and document lines, or the problem's code. */
function shown (line: string, o: ItemOptions, scanned: boolean): string {
  const { item } = build(line, o, scanned) as { item: { action?: string, doc?: string, code?: string } }
  return item.action !== undefined ? `${item.action}${item.doc === undefined ? '' : ` ${item.doc}`}` : `! ${item.code ?? '?'}`
}

t.test('the items, written out: each line gives the action and document bytes (or the problem) stated here, both ways', async (t) => {
  // Written by hand from the Elasticsearch _bulk format, not from the builder: ids as their JSON
  // text (7 → "7", 1.0 → "1.0"), documents as the bytes they had, an id of null as no id.
  const index: Array<[string, string]> = [
    ['{"index":{"_index":"i","_id":"a1"}} {"n":1,"s":"x"}', LINES[0]],
    ['{"index":{"_index":"i","_id":"a1"}} {"n":9007199254740993,"big":1e400,"z":-0,"f":1.0}', LINES[1]],
    ['{"index":{"_index":"i","_id":"7"}} {"n":1}', LINES[2]],
    ['{"index":{"_index":"i","_id":"9007199254740993"}} {}', LINES[3]],
    ['{"index":{"_index":"i","_id":"1.0"}} {"a":[1,{"b":null}]}', LINES[4]],
    ['{"index":{"_index":"i","_id":"-0"}} {"a":true}', LINES[5]],
    ['{"index":{"_index":"i","_id":"1e3"}} {"a":false}', LINES[6]],
    ['! RECORD_EMPTY_ID', LINES[7]],
    ['{"index":{"_index":"i"}} {"a":1}', LINES[8]],
    ['! RECORD_BAD_ID', LINES[9]],
    ['! RECORD_BAD_ID', LINES[10]],
    ['{"index":{"_index":"i"}} {"a":1}', LINES[11]],
    ['{"index":{"_index":"i","_id":"éé\\"q"}} {"s":"\\ud83d\\ude00 \\n"}', LINES[12]],
    ['{"index":{"_index":"iA","_id":"a"}} {"a":1}', LINES[13]],
    ['! RECORD_MISSING_INDEX', LINES[14]],
    ['! RECORD_MISSING_INDEX', LINES[15]],
    ['! RECORD_MISSING_INDEX', LINES[16]],
    ['{"index":{"_index":"i","_id":"a","routing":"r1"}} {"a":1}', LINES[17]],
    ['{"index":{"_index":"i","_id":"a","routing":""}} {"a":1}', LINES[18]],
    ['{"index":{"_index":"i","_id":"a","routing":"12345678901234567890"}} {"a":1}', LINES[19]],
    ['{"index":{"_index":"i","_id":"a"}} {"a":1}', LINES[20]],
    ['! RECORD_BAD_ROUTING', LINES[21]],
    ['! RECORD_MISSING_CONTENT', LINES[22]],
    ['! RECORD_CONTENT_NOT_OBJECT', LINES[23]],
    ['! RECORD_CONTENT_NOT_OBJECT', LINES[24]],
    ['! RECORD_CONTENT_NOT_OBJECT', LINES[25]],
    ['{"index":{"_index":"i","_id":"a"}} {"a":1}', LINES[26]],
    ['{"index":{"_index":"i","_id":"sp"}} { "a" : 1 }', LINES[27]],
    ['! RECORD_MISSING_CONTENT', LINES[28]],
    ['! RECORD_MISSING_INDEX', LINES[29]],
    ['! RECORD_MISSING_INDEX', LINES[30]]
  ]
  t.equal(index.length, LINES.length, 'every line has its expectation')
  const others: Array<[Omit<ItemOptions, 'op'> & { op: ItemOptions['op'] }, string, string]> = [
    [{ op: 'delete' }, LINES[2], '{"delete":{"_index":"i","_id":"7"}}'],
    [{ op: 'delete' }, LINES[8], '! RECORD_MISSING_ID'],
    [{ op: 'delete' }, LINES[22], '{"delete":{"_index":"i","_id":"a"}}'],
    [{ op: 'create' }, LINES[1], '{"create":{"_index":"i","_id":"a1"}} {"n":9007199254740993,"big":1e400,"z":-0,"f":1.0}'],
    [{ op: 'update', index: 'fixed', idField: 'id', contentField: 'doc' }, LINES[29], '{"update":{"_index":"fixed","_id":"12","retry_on_conflict":3}} {"doc":{"id":1}}'],
    [{ op: 'update', index: 'fixed', idField: 'id', contentField: 'doc' }, LINES[28], '! RECORD_MISSING_CONTENT'],
    [{ op: 'update', index: 'fixed', idField: 'id', contentField: 'doc' }, LINES[0], '! RECORD_MISSING_ID']
  ]
  for (const scanned of [true, false]) {
    const how = scanned ? 'scanned' : 'parsed'
    t.strictSame(LINES.map((l) => shown(l, { op: 'index' }, scanned)), index.map(([want]) => want), `index, ${how}`)
    for (const [o, line, want] of others) t.equal(shown(line, o, scanned), want, `${o.op} ${JSON.stringify(o)} ${line}, ${how}`)
  }
})

t.test('the document goes out as the bytes it had in the line', async (t) => {
  const line = '{"_index":"i","_id":"a","_source":{"n":9007199254740993,"big":1e400,"f":1.0,"s":"\\u00e9"}}'
  const item = new ItemBuilder({ op: 'index' }).build(new ParsedLine(undefined, line, 1, undefined, scanObject(line)))
  t.strictSame(item, {
    op: 'index',
    action: '{"index":{"_index":"i","_id":"a"}}',
    doc: '{"n":9007199254740993,"big":1e400,"f":1.0,"s":"\\u00e9"}',
    bytes: 34 + 55 + 2,
    index: 'i',
    id: 'a',
    key: 'i\u0000a\u0000',
    record: line,
    line: 1,
    file: undefined,
    attempts: 0,
    ambiguous: false
  })
})
