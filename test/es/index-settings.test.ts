// Which settings the create index API refuses (lib/es/index-settings.ts), as es-write --settings
// and the schema work to come leave them out of a GET /NAME/_settings answer.
import t from 'tap'
import { parseExact, stringifyExact } from '../../lib/core/json.js'
import type { JsonObject } from '../../lib/core/record.js'
import { creatableSettings, isEngineOwnSetting } from '../../lib/es/index-settings.js'

const strip = (text: string): { settings: string, dropped: string[] } => {
  const r = creatableSettings(parseExact(text) as JsonObject)
  return { settings: stringifyExact(r.settings), dropped: r.dropped }
}

t.test('nested, as GET /NAME/_settings prints it: identity, birth, version and the data tier Elasticsearch picked go, the rest stays in its order', async (t) => {
  t.strictSame(strip('{"index":{"routing":{"allocation":{"include":{"_tier_preference":"data_content"}}},"refresh_interval":"7s","number_of_shards":"2","provided_name":"src","creation_date":"1733500000000","number_of_replicas":"0","uuid":"Zq1","version":{"created":"136407827","upgraded":"136407827"},"replication":{"type":"DOCUMENT"}}}'), {
    settings: '{"index":{"refresh_interval":"7s","number_of_shards":"2","number_of_replicas":"0","replication":{"type":"DOCUMENT"}}}',
    dropped: ['index.routing.allocation.include._tier_preference', 'index.provided_name', 'index.creation_date', 'index.uuid', 'index.version.created', 'index.version.upgraded']
  })
})

t.test('flat (?flat_settings=true), short names, and both mixed', async (t) => {
  t.strictSame(strip('{"index.creation_date":"1","index.number_of_shards":"1","index.version.created":"7172899","index.uuid":"u"}'), {
    settings: '{"index.number_of_shards":"1"}',
    dropped: ['index.creation_date', 'index.version.created', 'index.uuid']
  })
  t.strictSame(strip('{"uuid":"u","number_of_shards":1,"index":{"version.created":"1","resize":{"source":{"name":"a","uuid":"b"}}},"index.blocks.write":true}'), {
    settings: '{"number_of_shards":1,"index.blocks.write":true}',
    dropped: ['index.uuid', 'index.version.created', 'index.resize.source.name', 'index.resize.source.uuid']
  })
})

t.test('values stay exact; an object given empty stays; nothing to leave out leaves the settings as they were', async (t) => {
  t.strictSame(strip('{"index":{"max_result_window":100000000000000000001,"x":1.0,"analysis":{},"uuid":"u"}}'), {
    settings: '{"index":{"max_result_window":100000000000000000001,"x":1.0,"analysis":{}}}',
    dropped: ['index.uuid']
  })
  t.strictSame(strip('{"index":{"refresh_interval":"1s"}}'), { settings: '{"index":{"refresh_interval":"1s"}}', dropped: [] })
})

t.test('names: full or short; a prefix covers what is under it, not a longer name', async (t) => {
  t.strictSame(['index.uuid', 'uuid', 'version.created', 'index.version.upgraded', 'index.verified_before_close', 'index.routing.allocation.initial_recovery._id'].map(isEngineOwnSetting), [true, true, true, true, true, true])
  t.strictSame(['index.uuids', 'index.version', 'index.number_of_shards', 'index.routing.allocation.include._tier', 'index.routing.allocation.require._tier_preference', 'index.creation_date_x'].map(isEngineOwnSetting), [false, false, false, false, false, false])
  t.equal(isEngineOwnSetting('index.routing.allocation.include._tier_preference'), true)
})
