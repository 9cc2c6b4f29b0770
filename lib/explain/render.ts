import type { ErrorContext } from '../core/errors.js'
import type { AiResult } from './ai.js'
import type { RunSummary } from './finding.js'
import type { Example, Explanation } from './match.js'

export const EXPLAIN_FORMATS = ['text', 'markdown', 'json'] as const
export type ExplainFormat = typeof EXPLAIN_FORMATS[number]

/** Everything explain-errors found in its input, ready to print. */
export interface Report {
  /** Distinct problems, most severe first. */
  problems: Explanation[]
  /** Error lines read (before grouping). */
  errors: number
  runs: RunSummary[]
  ai?: AiResult
}

function contextText (c: ErrorContext): string {
  return Object.entries(c).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${String(v)}`).join(', ')
}

function exampleText (x: Example): string {
  const where = [x.file, x.line !== undefined ? `line ${x.line}` : undefined].filter((s) => s !== undefined).join(' ')
  const parts = [where !== '' ? where : undefined, x.id !== undefined ? `id ${x.id}` : undefined, x.record !== undefined ? x.record : undefined]
  return parts.filter((s) => s !== undefined).join(': ')
}

function heading (e: Explanation): string {
  const what = e.kind === 'fatal' ? (e.count > 1 ? `fatal, ${e.count} times` : 'fatal') : `${e.count} record${e.count === 1 ? '' : 's'}`
  return `${e.title} [${[e.tool, what, e.code].filter((s) => s !== undefined).join(', ')}]`
}

/** `2 problems in 5 errors`: the first line of every report. */
export function countLine (r: Report): string {
  const n = r.problems.length
  return `${n} problem${n === 1 ? '' : 's'} in ${r.errors} error${r.errors === 1 ? '' : 's'}`
}

function aiNote (ai: AiResult | undefined): string | undefined {
  return ai !== undefined && !ai.used ? `AI explanation not used: ${ai.reason}; the explanation above is rule-based.` : undefined
}

function indent (text: string, pad: string): string {
  return text.split('\n').map((l) => pad + l).join('\n')
}

export function renderText (r: Report): string {
  const out: string[] = []
  if (r.ai?.used === true) out.push(`Claude (${r.ai.model}):`, '', r.ai.text, '', '--- rule-based explanation ---', '')
  out.push(countLine(r))
  for (const s of r.runs) out.push(`  ${s.tool}: ${s.message}`)
  r.problems.forEach((e, i) => {
    out.push('', `${i + 1}. ${heading(e)}`)
    out.push(`   ${e.what}`)
    out.push(indent(`Message: ${e.message}`, '   '))
    const ctx = contextText(e.context)
    if (ctx !== '') out.push(`   Context: ${ctx}`)
    if (e.examples.length > 0 && (e.count > 1 || e.kind === 'record')) {
      out.push(`   Example${e.examples.length > 1 ? 's' : ''}:`)
      for (const x of e.examples) out.push(`     - ${exampleText(x)}`)
    }
    out.push('   Likely causes:')
    e.causes.forEach((c, j) => out.push(`     ${j + 1}. ${c}`))
    if (e.commands.length > 0) {
      out.push('   Check and fix:')
      for (const c of e.commands) out.push(`     $ ${c}`)
    }
    if (e.option !== undefined) out.push(`   espipe: ${e.option}`)
  })
  const note = aiNote(r.ai)
  if (note !== undefined) out.push('', note)
  return out.join('\n') + '\n'
}

function code (s: string): string {
  return '`' + s.replace(/`/g, "'") + '`'
}

export function renderMarkdown (r: Report): string {
  const out: string[] = ['# What failed', '']
  if (r.ai?.used === true) out.push(`## Claude's explanation (${r.ai.model})`, '', r.ai.text, '', '## Rule-based explanation', '')
  out.push(`${countLine(r)}.`)
  if (r.runs.length > 0) { out.push(''); for (const s of r.runs) out.push(`- ${code(`${s.tool}: ${s.message}`)}`) }
  r.problems.forEach((e, i) => {
    out.push('', `### ${i + 1}. ${heading(e)}`, '', e.what, '', '```', e.message, '```')
    const ctx = contextText(e.context)
    if (ctx !== '') out.push('', `Context: ${code(ctx)}`)
    if (e.examples.length > 0 && (e.count > 1 || e.kind === 'record')) {
      out.push('', 'Examples:', '')
      for (const x of e.examples) out.push(`- ${code(exampleText(x))}`)
    }
    out.push('', 'Likely causes:', '')
    e.causes.forEach((c, j) => out.push(`${j + 1}. ${c}`))
    if (e.commands.length > 0) out.push('', 'Check and fix:', '', '```sh', ...e.commands, '```')
    if (e.option !== undefined) out.push('', `espipe: ${e.option}`)
  })
  const note = aiNote(r.ai)
  if (note !== undefined) out.push('', `> ${note}`)
  return out.join('\n') + '\n'
}

export function renderJson (r: Report): string {
  return JSON.stringify(r, null, 2) + '\n'
}

export function renderReport (r: Report, format: ExplainFormat = 'text'): string {
  return format === 'json' ? renderJson(r) : format === 'markdown' ? renderMarkdown(r) : renderText(r)
}
