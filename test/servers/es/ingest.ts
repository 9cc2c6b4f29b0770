// Ingest pipelines, the subset writers need to prove `pipeline=` reaches the server and runs:
// PUT/GET/DELETE /_ingest/pipeline/{id} with `set` and `remove` processors. Other processors
// are refused when the pipeline is stored, as ES refuses a processor type it does not know.

import { EsError } from './errors.js'
import { isObject, type Json, type Out } from './json.js'

type Processor = { kind: 'set'; field: string; value: Json } | { kind: 'remove'; field: string[] }

interface Pipeline {
  readonly definition: Json
  readonly processors: Processor[]
}

function parseException(reason: string, processor?: string, property?: string): EsError {
  const extra: { [k: string]: Out } = {}
  if (processor !== undefined) extra.processor_type = processor
  if (property !== undefined) extra.property_name = property
  return new EsError(400, { type: 'parse_exception', reason, ...extra })
}

function field(def: { [k: string]: Json }, type: string): string {
  if (typeof def.field !== 'string') throw parseException('[field] required property is missing', type, 'field')
  return def.field
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let cur = obj
  for (const k of keys.slice(0, -1)) {
    if (!isObject(cur[k] as Json)) cur[k] = {}
    cur = cur[k] as Record<string, unknown>
  }
  cur[keys[keys.length - 1] as string] = value
}

function removePath(obj: Record<string, unknown>, path: string): boolean {
  const keys = path.split('.')
  let cur: unknown = obj
  for (const k of keys.slice(0, -1)) {
    if (!isObject(cur as Json)) return false
    cur = (cur as Record<string, unknown>)[k]
  }
  const last = keys[keys.length - 1] as string
  if (!isObject(cur as Json) || !(last in (cur as Record<string, unknown>))) return false
  delete (cur as Record<string, unknown>)[last]
  return true
}

export class Pipelines {
  private readonly byId = new Map<string, Pipeline>()

  put(id: string, body: Json | undefined): Out {
    if (!isObject(body)) throw parseException('request body or source parameter is required')
    const list = body.processors
    if (!Array.isArray(list)) throw parseException('[processors] required property is missing', undefined, 'processors')
    const processors = list.map((p): Processor => {
      const [type, def] = isObject(p) ? (Object.entries(p)[0] ?? []) : []
      if (type === undefined || !isObject(def as Json)) throw parseException('processor definition must be an object')
      const d = def as { [k: string]: Json }
      if (type === 'set') {
        if (d.value === undefined) throw parseException('[value] required property is missing', type, 'value')
        return { kind: 'set', field: field(d, type), value: d.value }
      }
      if (type === 'remove') {
        const f = d.field
        const fields = typeof f === 'string' ? [f] : Array.isArray(f) ? f.map(String) : undefined
        if (fields === undefined) throw parseException('[field] required property is missing', type, 'field')
        return { kind: 'remove', field: fields }
      }
      throw parseException(`No processor type exists with name [${type}]`, type)
    })
    this.byId.set(id, { definition: body, processors })
    return { acknowledged: true }
  }

  get(id: string): { status: number; body: Out } {
    const p = this.byId.get(id)
    return p === undefined ? { status: 404, body: {} } : { status: 200, body: { [id]: p.definition } }
  }

  delete(id: string): Out {
    if (!this.byId.delete(id)) {
      throw new EsError(404, { type: 'resource_not_found_exception', reason: `pipeline [${id}] is missing` })
    }
    return { acknowledged: true }
  }

  /** Runs pipeline `id` over a document, in place; a missing pipeline is the item's 400. */
  run(id: string, source: Record<string, unknown>): void {
    const p = this.byId.get(id)
    if (p === undefined) throw new EsError(400, { type: 'illegal_argument_exception', reason: `pipeline with id [${id}] does not exist` })
    for (const proc of p.processors) {
      if (proc.kind === 'set') setPath(source, proc.field, proc.value)
      else {
        for (const f of proc.field) {
          if (!removePath(source, f)) throw new EsError(400, { type: 'illegal_argument_exception', reason: `field [${f}] not present as part of path [${f}]` })
        }
      }
    }
  }
}
