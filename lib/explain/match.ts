import type { ErrorContext } from '../core/errors.js'
import type { ToolRegistry } from '../core/tools.js'
import type { Finding, FindingKind, Service } from './finding.js'
import { serviceOf } from './finding.js'
import type { Rule } from './rules.js'
import { RULES, UNKNOWN_RULE } from './rules.js'

/**
 * The rule for a finding: the first whose codes include its code (the driver's code is the
 * surest sign), else the first whose message patterns match (generic codes such as
 * ResponseError, or raw messages).
 */
export function matchRule (f: Finding, tools: ToolRegistry, rules: readonly Rule[] = RULES): Rule {
  const service = serviceOf(f, tools)
  const status = Number(f.context.status)
  const usable = rules.filter((r) =>
    (r.services === undefined || service === undefined || r.services.includes(service)) &&
    (r.statuses === undefined || !Number.isInteger(status) || status === 0 || r.statuses.includes(status)))
  return usable.find((r) => r.codes?.includes(f.code) === true) ??
    usable.find((r) => r.messages?.some((re) => re.test(f.message)) === true) ??
    UNKNOWN_RULE
}

/** One example of a grouped failure: where it was, which record. */
export interface Example {
  line?: string | number
  id?: string
  file?: string
  record?: string
  message: string
}

/** A rule applied to a group of identical failures: what the renderers print. */
export interface Explanation {
  rule: string
  title: string
  kind: FindingKind
  severity: number
  tool?: string
  code: string
  count: number
  what: string
  message: string
  context: ErrorContext
  causes: string[]
  commands: string[]
  option?: string
  examples: Example[]
}

/** Credentials never go into a suggested command: the user is named with -u, curl asks for the password. */
function bareUrl (url: string): string {
  return url.replace(/\/\/[^/@\s]*@/, '//').replace(/\/$/, '')
}

/** The side a rule is about, by its name (mysql-…, es-…), for a bare message that names no tool. */
function ruleService (rule: Rule, tools: ToolRegistry): Service | undefined {
  if (rule.services?.length === 1) return rule.services[0]
  return tools.serviceNamedBy(rule.id)
}

/** The values a rule's templates can name, from the context first, then from the message. */
export function templateVars (f: Finding, rule: Rule, tools: ToolRegistry): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const re of rule.extract ?? []) {
    const m = re.exec(f.message)
    for (const [k, v] of Object.entries(m?.groups ?? {})) {
      if (v !== undefined && vars[k] === undefined) vars[k] = v
    }
  }
  for (const [k, v] of Object.entries(f.context)) {
    if (v !== undefined && v !== '') vars[k] = String(v)
  }
  if (vars.database === undefined && vars.db !== undefined) vars.database = vars.db
  // mysql-write names a table as database.table when --table says so.
  const dotted = /^([^.`]+)\.([^.`]+)$/.exec(vars.table ?? '')
  if (dotted !== null) { vars.database ??= dotted[1]; vars.table = dotted[2] }
  const service = serviceOf(f, tools) ?? ruleService(rule, tools)
  // es-read's context names the node as host=URL.
  if (vars.host !== undefined && /^https?:\/\//.test(vars.host)) { vars.url ??= vars.host; delete vars.host }
  // A bare message (`explain-errors "… at http://es:9200 …"`) names the node in its text.
  const url = vars.url ?? vars.node ?? vars.esUrl ?? /\bhttps?:\/\/[^\s'"(),]+?(?=[:.;,]?(?:\s|$))/.exec(f.message)?.[0]
  if (url !== undefined) {
    try {
      const u = new URL(url)
      vars.host ??= u.hostname
      vars.port ??= u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80'
    } catch { /* not a URL: keep the text */ }
  }
  for (const [k, v] of Object.entries(rule.defaults ?? {})) vars[k] ??= v
  const port = service === undefined ? undefined : tools.service(service)?.port
  vars.port ??= port === undefined ? 'PORT' : String(port)
  vars.host ??= 'HOST'
  vars.hostport = `${vars.host}:${vars.port}`
  vars.esUrl = url !== undefined ? bareUrl(url) : vars.host !== 'HOST' ? `http://${vars.hostport}` : '"$ES_URL"'
  vars.user ??= 'USER'
  vars.mysql = `mariadb -h ${vars.host} -P ${vars.port} -u ${vars.user} -p`
  vars.tool = f.tool ?? 'the program'
  vars.code = f.code
  vars.message = f.message.split('\n')[0]
  return vars
}

/** Fills `{name}`; a name with no value shows as NAME, a placeholder for the user to fill. */
export function fill (template: string, vars: Record<string, string>): string {
  return template.replace(/\{([a-zA-Z]+)\}/g, (_m, name: string) => vars[name] ?? name.toUpperCase())
}

/** The commands a rule offers for this finding's side (MySQL or Elasticsearch), filled in. */
function commandsFor (f: Finding, rule: Rule, vars: Record<string, string>, tools: ToolRegistry): string[] {
  const service = serviceOf(f, tools)
  return rule.commands
    .filter((c) => typeof c === 'string' || service === undefined || c.service === service)
    .map((c) => fill(typeof c === 'string' ? c : c.run, vars))
}

const RECORD_KEYS = ['line', 'id', '_id', 'record', 'row']

export function exampleOf (f: Finding): Example {
  const id = f.context.id ?? f.context._id
  return {
    line: f.context.line ?? f.context.row,
    id: id === undefined ? undefined : String(id),
    file: f.context.file === undefined ? undefined : String(f.context.file),
    record: f.record,
    message: f.message
  }
}

/** The context that is the same for every record of a group (not the line, not the id). */
export function stableContext (context: ErrorContext): ErrorContext {
  const out: ErrorContext = {}
  for (const [k, v] of Object.entries(context)) if (!RECORD_KEYS.includes(k)) out[k] = v
  return out
}

/** Applies the rule to a group represented by its first finding. */
export function explainFinding (f: Finding, rule: Rule, tools: ToolRegistry, count = 1, examples: Finding[] = [f]): Explanation {
  const vars = templateVars(f, rule, tools)
  return {
    rule: rule.id,
    title: rule.title,
    kind: f.kind,
    severity: rule.severity,
    tool: f.tool,
    code: f.code,
    count,
    what: fill(rule.what, vars),
    message: f.message,
    context: count > 1 ? stableContext(f.context) : f.context,
    causes: rule.causes.map((c) => fill(c, vars)),
    commands: commandsFor(f, rule, vars, tools),
    option: rule.option === undefined ? undefined : fill(rule.option, vars),
    examples: examples.map(exampleOf)
  }
}
