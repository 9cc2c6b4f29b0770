import type { ToolRegistry } from '../core/tools.js'
import type { Finding } from './finding.js'
import type { Explanation } from './match.js'
import { explainFinding, matchRule, stableContext, templateVars } from './match.js'
import type { Rule } from './rules.js'

/** Examples kept per group: enough to find the lines, not the whole input again. */
export const EXAMPLES_PER_GROUP = 3

interface Group {
  rule: Rule
  first: Finding
  count: number
  examples: Finding[]
  order: number
}

/**
 * The same failure with only the line, the id or a quoted value changed is one problem:
 * numbers and quoted values are blanked so 10,000 "Duplicate entry 'x'" are one group.
 */
function normalise (message: string): string {
  // An apostrophe inside a word ("field's", "doesn't") opens no quote.
  return message.replace(/(\w)'(\w)/g, '$1$2').replace(/'[^']*'|"[^"]*"|`[^`]*`|\[[^\]]*\]/g, 'Q').replace(/\d+/g, '#')
}

/**
 * Collects findings into groups in constant memory per distinct problem (a count and a few
 * examples), so a dead-letter file of millions of lines is summarised without holding it.
 */
export class Grouper {
  private readonly groups = new Map<string, Group>()
  total = 0

  /** `tools`: what the failing tools talk to, so each failure gets its service's rule and checks. */
  constructor (private readonly tools: ToolRegistry) {}

  add (f: Finding): void {
    this.total++
    const rule = matchRule(f, this.tools)
    const vars = rule.groupBy === undefined ? {} : templateVars(f, rule, this.tools)
    const key = JSON.stringify([f.kind, f.tool ?? '', rule.id, f.code, stableContext(f.context), normalise(f.message), rule.groupBy?.map((k) => vars[k])])
    const g = this.groups.get(key)
    if (g === undefined) {
      this.groups.set(key, { rule, first: f, count: 1, examples: [f], order: this.groups.size })
      return
    }
    g.count++
    if (g.examples.length < EXAMPLES_PER_GROUP) g.examples.push(f)
  }

  get size (): number {
    return this.groups.size
  }

  /** Most severe first: fatal errors before record errors, then by the rule's severity, then by count. */
  explanations (): Explanation[] {
    return [...this.groups.values()]
      .sort((a, b) =>
        (a.first.kind === b.first.kind ? 0 : a.first.kind === 'fatal' ? -1 : 1) ||
        b.rule.severity - a.rule.severity ||
        b.count - a.count ||
        a.order - b.order)
      .map((g) => explainFinding(g.first, g.rule, this.tools, g.count, g.examples))
  }
}
