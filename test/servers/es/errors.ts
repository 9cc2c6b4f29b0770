// Elasticsearch-shaped errors: `{"error":{"root_cause":[…],"type","reason",…},"status":N}`.
// Clients (and es-read's error explanations) key off `error.type` and `root_cause[0]`, so every
// refusal is one of these rather than a bare status.

import type { Out } from './json.js'

export type ErrorCause = { type: string; reason: string } & { [k: string]: Out }

export class EsError extends Error {
  constructor(
    readonly status: number,
    readonly cause_: ErrorCause,
    /** Defaults to `[cause_]`; a search phase failure reports the shard-level cause here. */
    readonly rootCause?: ErrorCause[],
    readonly headers: Record<string, string> = {},
    /** REST-layer refusals (no handler, wrong method) carry `error` as a bare string in ES. */
    readonly plain = false,
  ) {
    super(cause_.reason)
  }

  body(): { error: Out; status: number } {
    if (this.plain) return { error: this.cause_.reason, status: this.status }
    return { error: { root_cause: this.rootCause ?? [this.cause_], ...this.cause_ }, status: this.status }
  }
}

export function indexNotFound(name: string): EsError {
  return new EsError(404, {
    type: 'index_not_found_exception',
    reason: `no such index [${name}]`,
    'resource.type': 'index_or_alias',
    'resource.id': name,
    index_uuid: '_na_',
    index: name,
  })
}

export function resourceAlreadyExists(name: string): EsError {
  return new EsError(400, {
    type: 'resource_already_exists_exception',
    reason: `index [${name}/${'_na_'}] already exists`,
    index_uuid: '_na_',
    index: name,
  })
}

/** Request validation: ES numbers each message and ends it with ';'. */
export function validationFailed(...messages: string[]): EsError {
  const reason = 'Validation Failed: ' + messages.map((m, i) => `${i + 1}: ${m};`).join(' ')
  return new EsError(400, { type: 'action_request_validation_exception', reason })
}

export function parsingException(reason: string): EsError {
  return new EsError(400, { type: 'parsing_exception', reason, line: 1, col: 1 })
}

export function xContentParse(reason: string): EsError {
  return new EsError(400, { type: 'x_content_parse_exception', reason: `[1:1] ${reason}` })
}

export function illegalArgument(reason: string): EsError {
  return new EsError(400, { type: 'illegal_argument_exception', reason })
}

/**
 * A failure every shard hit while running a search: ES reports it as a
 * search_phase_execution_exception whose root cause is the shard's own error.
 */
export function allShardsFailed(status: number, shardCause: ErrorCause, index: string | null, phase = 'query'): EsError {
  return new EsError(
    status,
    {
      type: 'search_phase_execution_exception',
      reason: 'all shards failed',
      phase,
      grouped: true,
      failed_shards: [{ shard: index === null ? -1 : 0, index, node: null, reason: shardCause }],
      caused_by: shardCause,
    },
    [shardCause],
  )
}

export function searchContextMissing(contextId: number | string): EsError {
  return allShardsFailed(
    404,
    { type: 'search_context_missing_exception', reason: `No search context found for id [${contextId}]` },
    null,
  )
}

/** A shard-level argument error (sorts, slices, search_after): 400 wrapped as a phase failure. */
export function shardIllegalArgument(reason: string, index: string | null): EsError {
  return allShardsFailed(400, { type: 'illegal_argument_exception', reason }, index)
}

/** 401: ES always names the realm schemes it accepts in WWW-Authenticate. */
export function unauthenticated(reason: string): EsError {
  const challenge = 'Basic realm="security", charset="UTF-8"'
  return new EsError(
    401,
    { type: 'security_exception', reason, header: { 'WWW-Authenticate': [challenge, 'ApiKey'] } },
    undefined,
    { 'www-authenticate': challenge },
  )
}

export function unauthorized(action: string, user: string): EsError {
  return new EsError(403, {
    type: 'security_exception',
    reason: `action [${action}] is unauthorized for user [${user}] with effective roles [] on indices [*], this action is granted by the index privileges [read,all]`,
  })
}

export function methodNotAllowed(method: string, path: string, allowed: string[]): EsError {
  return new EsError(
    405,
    {
      type: 'illegal_argument_exception',
      reason: `Incorrect HTTP method for uri [${path}] and method [${method}], allowed: [${allowed.join(', ')}]`,
    },
    undefined,
    { allow: allowed.join(',') },
    true,
  )
}

export function noHandler(method: string, path: string): EsError {
  return new EsError(
    400,
    { type: 'illegal_argument_exception', reason: `no handler found for uri [${path}] and method [${method}]` },
    undefined,
    {},
    true,
  )
}

/** The bodies the fault injector sends, by status, as ES itself would phrase them. */
export function injectedError(status: number, type?: string): EsError {
  const defaults: Record<number, ErrorCause> = {
    429: {
      type: 'es_rejected_execution_exception',
      reason: 'rejected execution of coordinating operation [shard_detail=[search], queue capacity = 1000, task queue size = 1000]',
    },
    500: { type: 'exception', reason: 'injected internal failure' },
    502: { type: 'exception', reason: 'bad gateway (injected)' },
    503: { type: 'unavailable_shards_exception', reason: '[espipe][0] primary shard is not active Timeout: [1m]' },
    504: { type: 'timeout_exception', reason: 'timed out (injected)' },
    401: { type: 'security_exception', reason: 'unable to authenticate user [elastic] for REST request [/_search]' },
    403: {
      type: 'security_exception',
      reason: 'action [indices:data/read/search] is unauthorized for user [espipe] with effective roles []',
    },
  }
  const base = defaults[status] ?? { type: 'exception', reason: `injected failure with status ${status}` }
  if (type === 'circuit_breaking_exception') {
    return new EsError(status, {
      type,
      reason: '[parent] Data too large, data for [<http_request>] would be [1024/1kb], which is larger than the limit of [512/512b]',
      bytes_wanted: 1024,
      bytes_limit: 512,
      durability: 'TRANSIENT',
    })
  }
  return new EsError(status, type === undefined ? base : { ...base, type })
}
