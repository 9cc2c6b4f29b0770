import { EspipeError } from '../core/errors.js'
import type { ClusterInfo } from './client.js'
import { versionAtLeast } from './client.js'
import type { PitApi, Tiebreak } from './pit.js'

/** How a read pages through the index on this cluster. */
export type PagingPlan =
  | { mode: 'pit', api: PitApi, tiebreak: Tiebreak }
  | { mode: 'scroll' }

export interface PagingWish {
  /** --scroll was given. */
  scroll: boolean
  /** --sort was given. */
  sorted: boolean
  /** --checkpoint was given (needs a point in time). */
  checkpoint: boolean
}

/** "OpenSearch 2.19.1", "OpenSearch Serverless" or "Elasticsearch (version unknown)", for messages. */
export function engineName (info: ClusterInfo): string {
  if (info.serverless === true) return 'OpenSearch Serverless'
  return `${info.distribution === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'} ${info.version ?? '(version unknown)'}`
}

/**
 * Point in time + search_after wherever the engine has it and the order can be made total;
 * scroll otherwise:
 * - Elasticsearch 7.10+ (or unknown): PIT, Elasticsearch's implicit `_shard_doc` tiebreaker.
 * - OpenSearch 3.3+: PIT with `_shard_doc`.
 * - OpenSearch 2.4–3.2: no `_shard_doc`. A sorted or checkpointed read takes a PIT ended by
 *   `_index`,`_id`; an unsorted one scrolls in index order (`_doc`), which costs the cluster no
 *   `_id` field data.
 * - OpenSearch before 2.4 (or of unknown version), Elasticsearch before 7.10: scroll.
 * - OpenSearch Serverless (--aws-service aoss): no scroll at all, and no `_shard_doc`
 *   documented; its point-in-time API is OpenSearch's, so every read takes a PIT ended by
 *   `_index`,`_id`, and --scroll is refused.
 */
export function choosePaging (info: ClusterInfo, wish: PagingWish): PagingPlan {
  if (info.serverless === true) {
    if (wish.scroll) throw new EspipeError('ES_NO_SCROLL', 'OpenSearch Serverless has no scroll API: drop --scroll (es-read pages it with a point in time)')
    return { mode: 'pit', api: 'opensearch', tiebreak: 'id' }
  }
  let plan: PagingPlan = { mode: 'scroll' }
  if (info.distribution === 'elasticsearch') {
    if (info.version === undefined || versionAtLeast(info.version, 7, 10)) plan = { mode: 'pit', api: 'elasticsearch', tiebreak: 'implicit' }
  } else if (versionAtLeast(info.version, 3, 3)) {
    plan = { mode: 'pit', api: 'opensearch', tiebreak: 'shard_doc' }
  } else if (versionAtLeast(info.version, 2, 4) && (wish.sorted || wish.checkpoint)) {
    plan = { mode: 'pit', api: 'opensearch', tiebreak: 'id' }
  }
  if (wish.scroll) return { mode: 'scroll' }
  if (wish.checkpoint && plan.mode === 'scroll') {
    throw new EspipeError('ES_NO_POINT_IN_TIME', `--checkpoint needs point-in-time paging, which ${engineName(info)} lacks (Elasticsearch 7.10+, OpenSearch 2.4+)`)
  }
  return plan
}
