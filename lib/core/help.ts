import type { FlagSpec, FlagSpecs } from './cli.js'

/**
 * One block of a binary's --help: a heading with prose or option lines under it, or a
 * paragraph of prose. The prose (usage, descriptions, exit status, examples) is written by
 * hand; option lines are rendered from the flag specs, so a flag's spelling, value, default
 * and environment variable are said where the flag is defined and nowhere else.
 */
export interface HelpSection {
  /** A heading ('Usage', 'Connection'); what follows is indented under it. */
  title?: string
  /**
   * Prose. A newline breaks the line; a line too long for the width wraps at the same
   * indentation, except example lines (`$ …`), which stay whole to be copied.
   */
  text?: string
  /**
   * Option lines, in this order: a flag's name (its spec's `help`), or several flags sharing
   * one line of help. Every flag a binary takes is shown exactly once (renderHelp checks).
   */
  options?: Array<string | { flags: string[], help: string }>
}

/** The Examples section: commands as a user types them, each on a line of its own. */
export function examples (...commands: string[]): HelpSection {
  return { title: 'Examples', text: commands.map((c) => `$ ${c}`).join('\n') }
}

/** Columns before meow indents the whole text by two: prose under a heading, option help. */
const INDENT = 2
const HELP_COLUMN = INDENT + 23
const WIDTH = 91

/** Flags that parseArgv knows itself; listed in --help like any other. */
const BUILTIN: FlagSpecs = {
  help: { type: 'boolean', help: 'print this help and exit' },
  version: { type: 'boolean', help: 'print the version and exit' }
}

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())

/** Greedy wrap of `words` joined by `sep`; a word longer than the width gets a line of its own. */
function wrap (words: readonly string[], width: number, sep = ' '): string[] {
  const out: string[] = []
  let line = ''
  for (const word of words) {
    if (line !== '' && line.length + sep.length + word.length > width) {
      out.push(line + sep.trimEnd())
      line = word
    } else {
      line = line === '' ? word : line + sep + word
    }
  }
  out.push(line)
  return out
}

/** How an option is spelled in --help: `-o, --output FILE`; a boolean that is on by default as `--no-X`. */
function optionUsage (name: string, f: FlagSpec): string {
  if (f.type === 'boolean') return f.default === true ? `--no-${kebab(name)}` : `${f.shortFlag === undefined ? '' : `-${f.shortFlag}, `}--${kebab(name)}`
  return `${f.shortFlag === undefined ? '' : `-${f.shortFlag}, `}--${kebab(name)} ${f.value ?? 'VALUE'}`
}

/**
 * A flag's help text with its default and environment variable: where the text has `{default}`
 * or `{env}` they go there, otherwise they are added at the end, `(default: X; env Y)`.
 */
function optionHelp (f: FlagSpec): string {
  const help = f.help ?? ''
  const shownDefault = typeof f.default === 'string' ? f.default : undefined
  const extra: string[] = []
  if (shownDefault !== undefined && !help.includes('{default}')) extra.push(`default: ${shownDefault}`)
  if (f.env !== undefined && !help.includes('{env}')) extra.push(`env ${f.env}`)
  const text = help.replaceAll('{default}', shownDefault ?? '').replaceAll('{env}', f.env ?? '')
  if (extra.length === 0) return text
  return `${text}${text === '' ? '' : ' '}(${extra.join('; ')})`
}

/** One option line (or a few options sharing one), help in the second column. */
function optionLines (usages: readonly string[], help: string): string[] {
  const pad = ' '.repeat(HELP_COLUMN)
  const left = wrap(usages, WIDTH - INDENT, ', ').map((l) => ' '.repeat(INDENT) + l)
  const right = help.split('\n').flatMap((p) => wrap(p.split(' '), WIDTH - HELP_COLUMN))
  const last = left[left.length - 1]
  if (help === '') return left
  if (last.length < HELP_COLUMN) left[left.length - 1] = last.padEnd(HELP_COLUMN) + right.shift()
  return [...left, ...right.map((l) => pad + l)]
}

function proseLines (text: string, indent: number): string[] {
  return text.split('\n').flatMap((line) => {
    const own = /^ */.exec(line)?.[0].length ?? 0
    const at = ' '.repeat(indent + own)
    const body = line.slice(own)
    if (body === '') return ['']
    if (body.startsWith('$ ')) return [at + body]
    return wrap(body.split(' '), WIDTH - indent - own).map((l) => at + l)
  })
}

/**
 * The --help text (before meow indents it) from the sections and the binary's flags. Throws
 * when a flag is missing from the sections, shown twice, or unknown: a binary's help names every
 * option it takes, once.
 */
export function renderHelp (sections: readonly HelpSection[], flags: FlagSpecs): string {
  const all: FlagSpecs = { ...flags, ...BUILTIN }
  const shown = new Map<string, number>()
  const spec = (name: string): FlagSpec => {
    const f = all[name]
    if (f === undefined) throw new Error(`--help lists ${name}, which is not an option of this binary`)
    shown.set(name, (shown.get(name) ?? 0) + 1)
    return f
  }
  const blocks = sections.map((s) => {
    const lines: string[] = []
    if (s.title !== undefined) lines.push(s.title)
    if (s.text !== undefined) lines.push(...proseLines(s.text, s.title === undefined ? 0 : INDENT))
    for (const item of s.options ?? []) {
      if (typeof item === 'string') {
        const f = spec(item)
        if (f.ignored !== undefined) throw new Error(`--help: --${kebab(item)} changes nothing here and is not listed`)
        if (f.help === undefined) throw new Error(`--help: --${kebab(item)} has no help text`)
        lines.push(...optionLines([optionUsage(item, f)], optionHelp(f)))
      } else {
        lines.push(...optionLines(item.flags.map((n) => optionUsage(n, spec(n))), item.help))
      }
    }
    return lines.join('\n')
  })
  const problems = Object.entries(all).flatMap(([name, f]) => {
    const n = shown.get(name) ?? 0
    if (f.ignored !== undefined) return n === 0 ? [] : [`--${kebab(name)} changes nothing here and is not listed`]
    if (n === 0) return [`--${kebab(name)} is missing`]
    if (n > 1) return [`--${kebab(name)} is listed ${n} times`]
    return []
  })
  if (problems.length > 0) throw new Error(`--help: ${problems.join('; ')}`)
  return blocks.join('\n\n')
}
