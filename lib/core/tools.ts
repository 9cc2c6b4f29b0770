/**
 * What explain-errors needs to know about the binaries and the services they talk to. Each
 * folder declares its own (lib/<folder>/tools.ts), the top level gathers them into one
 * ToolRegistry (TOOLS in lib/cli.ts), and explain-errors reads only that: a new binary or a
 * new service is a declaration, with no edit in explain-errors.
 */

/** A side a binary talks to: a server, a file format, files. */
export interface ServiceDeclaration {
  /** The name rules and commands say it by: `mysql`, `elasticsearch`, `csv`. */
  name: string
  /** Shorter names rule ids start with (`es` for elasticsearch: es-unauthorized). */
  aliases?: readonly string[]
  /** Where it listens unless told otherwise: a failure at this port is about it. */
  port?: number
  /** The error codes only it gives, as a whole code (ER_…, CSV_…, *_exception). */
  codes?: RegExp
  /** The same codes as they appear inside a message (no anchors, no flags). */
  codesInText?: RegExp
  /** A message that names it without a code or a port in its context (`mysql://`). */
  mentions?: RegExp
}

export interface ToolDeclaration {
  /** The binary's name, as in package.json `bin`. */
  name: string
  /** The service its connection or driver failures are about (a declared service's name). */
  service: string
  /** What it reads and what it writes, a service's name or `ndjson` (the pipe). */
  reads: string
  writes: string
}

/** What one folder contributes: its binaries and the services only it knows. */
export interface ToolDeclarations {
  services?: readonly ServiceDeclaration[]
  tools?: readonly ToolDeclaration[]
}

/** The services core itself stands for: the pipe's NDJSON framing and plain files. */
export const CORE_TOOLS: ToolDeclarations = {
  services: [
    { name: 'ndjson', codes: /^NDJSON_/ },
    { name: 'file' }
  ]
}

// Codes of the system, whichever service gave them: ECONNREFUSED, ENOENT, EPIPE.
const ERRNO_IN_TEXT = 'E[A-Z]{3,}'

/** Every tool and service declared, looked up by name, by error code, by port. */
export class ToolRegistry {
  readonly tools: readonly ToolDeclaration[]
  readonly services: readonly ServiceDeclaration[]
  /** Finds the first error code in a message: a system code or one a service declared. */
  readonly codeInText: RegExp
  private readonly byTool: ReadonlyMap<string, ToolDeclaration>
  private readonly byService: ReadonlyMap<string, ServiceDeclaration>
  /** Per service, what in a message names it: its port after a colon, its URL scheme. */
  private readonly named: ReadonlyArray<{ name: string, port?: string, mention?: RegExp }>

  constructor (declarations: readonly ToolDeclarations[]) {
    this.services = declarations.flatMap((d) => d.services ?? [])
    this.tools = declarations.flatMap((d) => d.tools ?? [])
    this.byService = unique(this.services, 'service')
    this.byTool = unique(this.tools, 'tool')
    for (const tool of this.tools) {
      for (const name of [tool.service, tool.reads, tool.writes]) {
        if (!this.byService.has(name)) throw new Error(`tool ${tool.name} names service ${name}, which nothing declares`)
      }
    }
    this.named = this.services.map((s) => {
      const mentions = [...(s.port === undefined ? [] : [`:${s.port}\\b`]), ...(s.mentions === undefined ? [] : [s.mentions.source])]
      return { name: s.name, port: s.port === undefined ? undefined : String(s.port), mention: mentions.length === 0 ? undefined : new RegExp(mentions.join('|')) }
    })
    const inText = [ERRNO_IN_TEXT, ...this.services.flatMap((s) => s.codesInText === undefined ? [] : [s.codesInText.source])]
    this.codeInText = new RegExp(`\\b(${inText.join('|')})\\b`)
  }

  tool (name: string): ToolDeclaration | undefined {
    return this.byTool.get(name)
  }

  service (name: string): ServiceDeclaration | undefined {
    return this.byService.get(name)
  }

  /** The service only this code can come from. */
  serviceOfCode (code: string): string | undefined {
    return this.services.find((s) => s.codes?.test(code) === true)?.name
  }

  /**
   * The service a failure is about by where it happened: the port its context names, else a
   * port or a URL scheme its message names.
   */
  serviceAt (port: string, message: string): string | undefined {
    return (this.named.find((s) => s.port === port) ?? this.named.find((s) => s.mention?.test(message) === true))?.name
  }

  /** The service whose name or alias starts `id` (`mysql-…`, `es-…`). */
  serviceNamedBy (id: string): string | undefined {
    return this.services.find((s) => [s.name, ...(s.aliases ?? [])].some((n) => id.startsWith(n + '-')))?.name
  }
}

function unique<T extends { name: string }> (list: readonly T[], what: string): Map<string, T> {
  const map = new Map<string, T>()
  for (const item of list) {
    if (map.has(item.name)) throw new Error(`${what} ${item.name} is declared twice`)
    map.set(item.name, item)
  }
  return map
}
