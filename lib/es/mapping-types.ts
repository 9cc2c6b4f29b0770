import type { JsonObject } from '../core/record.js'

/** The mapped type of a dotted path (`a.b`), through object properties. */
export function typeAt (mappings: JsonObject, path: string): string | undefined {
  let props = mappings.properties as JsonObject | undefined
  const parts = path.split('.')
  for (let i = 0; i < parts.length && props !== undefined; i++) {
    // A dotted name may also be mapped as one key.
    const whole = props[parts.slice(i).join('.')] as JsonObject | undefined
    if (whole !== undefined && typeof whole.type === 'string') return whole.type
    const node = props[parts[i]] as JsonObject | undefined
    if (node === undefined) return undefined
    if (i === parts.length - 1) return typeof node.type === 'string' ? node.type : 'object'
    props = node.properties as JsonObject | undefined
  }
  return undefined
}
