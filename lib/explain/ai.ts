import type { RunSummary } from './finding.js'
import type { Explanation } from './match.js'
import { scrubSecrets } from './scrub.js'

/** A current model that is good at reading logs; --model / ANTHROPIC_MODEL override it. */
export const DEFAULT_MODEL = 'claude-sonnet-4-6'
export const DEFAULT_BASE_URL = 'https://api.anthropic.com'
export const ANTHROPIC_VERSION = '2023-06-01'
const MAX_TOKENS = 2048
/** Longest message or record excerpt sent per problem. */
const MAX_TEXT = 600
/** Problems sent, most severe first: enough to see the pattern, a bounded request. */
const MAX_PROBLEMS = 40

export interface AiOptions {
  apiKey?: string
  baseUrl?: string
  model?: string
  timeoutMs?: number
  /** Extra secret values to remove (the environment's are removed anyway). */
  secrets?: string[]
}

export type AiResult = { used: true, model: string, text: string } | { used: false, reason: string }

const SYSTEM = `You explain failures of espipe, a toolkit of Unix filters that move records as NDJSON:
es-read (Elasticsearch, @elastic/elasticsearch client), csv-read, mysql-write (MySQL/MariaDB,
mysql2 driver) and jsonl-write. You get the grouped errors of one or more runs with their codes
and context, and the explanation a rule catalogue already gave. For each problem, most severe
first: say what happened using the real context (host:port, index, table, file and line), the
likely causes ranked, and the exact shell commands to check and to fix it. Correct the
rule-based explanation where the details show it is wrong. Be brief; plain text, no preamble.`

function clip (s: string): string {
  return s.length > MAX_TEXT ? s.slice(0, MAX_TEXT) + '…' : s
}

/** The user message: the problems and what the rules said, scrubbed of secrets. */
export function buildPrompt (explanations: readonly Explanation[], summaries: readonly RunSummary[], secrets: string[] = []): string {
  const problems = explanations.slice(0, MAX_PROBLEMS).map((e) => ({
    tool: e.tool,
    kind: e.kind === 'fatal' ? 'fatal error (the run stopped)' : 'record error (the record was skipped)',
    code: e.code,
    count: e.count,
    message: clip(e.message),
    context: e.context,
    examples: e.examples.map((x) => ({ line: x.line, id: x.id, file: x.file, record: x.record === undefined ? undefined : clip(x.record) })),
    ruleBased: { title: e.title, what: e.what, causes: e.causes, commands: e.commands, option: e.option }
  }))
  const left = explanations.length - problems.length
  const text = JSON.stringify({ runs: summaries, problems, ...(left > 0 ? { moreProblemsNotShown: left } : {}) }, null, 2)
  return scrubSecrets(`Explain these espipe failures.\n\n${text}`, secrets)
}


interface MessagesResponse {
  content?: Array<{ type?: string, text?: string }>
  error?: { type?: string, message?: string }
}

/** Why a fetch failed, in a few words (the code of the cause: ECONNREFUSED, ENOTFOUND…). */
function networkReason (err: unknown, url: string, timeoutMs: number): string {
  const e = err as { name?: string, cause?: { code?: string, message?: string }, message?: string }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer from ${url} within ${timeoutMs / 1000} s (--timeout)`
  const why = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)
  return `could not reach ${url}: ${why}`
}

/**
 * Asks Claude through the Messages API. Never throws: every way it can fail (no key, no
 * network, a timeout, an API error) comes back as a reason, and the caller prints the
 * rule-based explanation with it.
 */
export async function askClaude (explanations: readonly Explanation[], summaries: readonly RunSummary[], opts: AiOptions = {}): Promise<AiResult> {
  const apiKey = opts.apiKey ?? process.env.ANTHROPIC_API_KEY
  if (apiKey === undefined || apiKey === '') return { used: false, reason: 'ANTHROPIC_API_KEY is not set' }
  const base = (opts.baseUrl ?? (process.env.ANTHROPIC_BASE_URL !== undefined && process.env.ANTHROPIC_BASE_URL !== '' ? process.env.ANTHROPIC_BASE_URL : DEFAULT_BASE_URL)).replace(/\/+$/, '')
  const url = `${base}/v1/messages`
  const model = opts.model ?? (process.env.ANTHROPIC_MODEL !== undefined && process.env.ANTHROPIC_MODEL !== '' ? process.env.ANTHROPIC_MODEL : DEFAULT_MODEL)
  const timeoutMs = opts.timeoutMs ?? 60_000
  const body = {
    model,
    max_tokens: MAX_TOKENS,
    system: SYSTEM,
    messages: [{ role: 'user', content: buildPrompt(explanations, summaries, [apiKey, ...(opts.secrets ?? [])]) }]
  }
  let res: Response
  let answer: MessagesResponse
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'x-api-key': apiKey, 'anthropic-version': ANTHROPIC_VERSION, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs)
    })
    const text = await res.text()
    try { answer = JSON.parse(text) as MessagesResponse } catch { answer = {} }
  } catch (err) {
    return { used: false, reason: networkReason(err, url, timeoutMs) }
  }
  if (!res.ok) {
    const detail = answer.error !== undefined ? `: ${answer.error.type ?? 'error'}: ${answer.error.message ?? ''}` : ''
    return { used: false, reason: `the API answered ${res.status}${detail}` }
  }
  const text = (answer.content ?? []).filter((c) => c.type === 'text' && typeof c.text === 'string').map((c) => c.text).join('\n').trim()
  if (text === '') return { used: false, reason: 'the API answered with no text' }
  return { used: true, model, text }
}
