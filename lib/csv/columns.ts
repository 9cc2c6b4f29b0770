import { isLosslessNumber } from '../core/json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'

/**
 * Columns are dot paths into a record's content (`user.name`). A key that itself holds dots
 * (`{"user.name": …}`, which Elasticsearch keeps as written in _source) names the same column
 * as the nested path, so a CSV header `user.name` read by csv-read comes back to its column.
 */

interface ColumnNode {
  /** The column this path fills, or -1 when the path only leads to deeper columns. */
  index: number
  children: Map<string, ColumnNode> | undefined
}

/** Where a record's values go: the cells of its row, and the paths that have no column. */
export interface Placement {
  cells: unknown[]
  /** Paths outside the columns (leaf paths, as --columns would name them). */
  extra: string[] | undefined
  /** A column that two keys filled (`a.b` written both nested and dotted). */
  conflict: string | undefined
}

/** An object with keys, to flatten; a number kept exact (LosslessNumber) is a value, not an object. */
const isNonEmptyObject = (v: unknown): v is JsonObject => isJsonObject(v) && !isEmpty(v) && !isLosslessNumber(v)

function isEmpty (o: JsonObject): boolean {
  for (const _ in o) return false
  return true
}

/**
 * The leaf paths of an object, in key order: a leaf is a value that is not an object with
 * keys (an array, a scalar, null, `{}`). Calls `add` once per leaf.
 */
export function forEachLeafPath (obj: JsonObject, add: (path: string) => void, prefix = ''): void {
  for (const key in obj) {
    const v = obj[key]
    if (isNonEmptyObject(v)) forEachLeafPath(v, add, prefix + key + '.')
    else add(prefix + key)
  }
}

/** JavaScript lists these keys first in an object, whatever their order in the JSON text. */
const INDEX_KEY = /^(?:0|[1-9]\d*)$/

/** Whether some key of the object (at any depth) is one JavaScript moves to the front. */
export function hasIndexKeys (obj: JsonObject): boolean {
  for (const key in obj) {
    if (INDEX_KEY.test(key)) return true
    const v = obj[key]
    if (isNonEmptyObject(v) && hasIndexKeys(v)) return true
  }
  return false
}

/** The ordered set of columns that a list of records fills, as `--sample` finds them. */
export class ColumnCollector {
  private readonly seen = new Set<string>()
  private firstCount: number | undefined
  private readonly add = (path: string): void => { this.seen.add(path) }

  /**
   * Adds the content's leaf paths. When the object's key order differs from the JSON text's
   * (keys like "2024" come first in JavaScript), `leafPathsOfText` gives them as written.
   */
  collect (content: JsonObject, leafPathsOfText?: () => string[] | undefined): void {
    const ordered = hasIndexKeys(content) ? leafPathsOfText?.() : undefined
    if (ordered !== undefined) for (const p of ordered) this.add(p)
    else forEachLeafPath(content, this.add)
    this.firstCount ??= this.seen.size
  }

  get columns (): string[] {
    return [...this.seen]
  }

  /** Whether the first record has this column (the others only add columns after its own). */
  inFirst (column: string): boolean {
    const i = this.columns.indexOf(column)
    return i >= 0 && i < (this.firstCount ?? 0)
  }
}

/** Fills rows from records' contents by column path. */
export class ColumnTree {
  readonly columns: readonly string[]
  private readonly root: ColumnNode = { index: -1, children: undefined }
  private readonly placement: Placement
  /** The keys leading to the object being walked, to name a key outside the columns. */
  private readonly path: string[] = []

  constructor (columns: readonly string[]) {
    this.columns = columns
    columns.forEach((path, index) => {
      let node = this.root
      for (const key of path.split('.')) {
        node.children ??= new Map()
        let child = node.children.get(key)
        if (child === undefined) {
          child = { index: -1, children: undefined }
          node.children.set(key, child)
        }
        node = child
      }
      node.index = index
    })
    this.placement = { cells: new Array(columns.length), extra: undefined, conflict: undefined }
  }

  /** The column a path names exactly, or -1. */
  indexOf (path: string): number {
    return this.descend(this.root, path.split('.'))?.index ?? -1
  }

  /**
   * Where the content's values go. The answer (and its cells) is reused by the next call:
   * rows are written one at a time, and a row's worth of garbage per record adds up.
   */
  place (content: JsonObject): Placement {
    const p = this.placement
    p.cells.fill(undefined)
    p.extra = undefined
    p.conflict = undefined
    this.walk(content, this.root, p)
    return p
  }

  private descend (from: ColumnNode, keys: string[]): ColumnNode | undefined {
    let node: ColumnNode | undefined = from
    for (const k of keys) {
      node = node.children?.get(k)
      if (node === undefined) return undefined
    }
    return node
  }

  private walk (obj: JsonObject, node: ColumnNode, p: Placement): void {
    for (const key in obj) {
      const v = obj[key]
      let child = node.children?.get(key)
      if (child === undefined && key.includes('.')) child = this.descend(node, key.split('.'))
      if (child === undefined) {
        this.outside(key, v, p)
      } else if (child.children !== undefined && isNonEmptyObject(v)) {
        // A path that also leads to deeper columns spreads an object over them.
        this.path.push(key)
        this.walk(v, child, p)
        this.path.pop()
      } else if (child.index >= 0) {
        if (p.cells[child.index] !== undefined) p.conflict ??= this.columns[child.index]
        p.cells[child.index] = v
      } else {
        this.outside(key, v, p)
      }
    }
  }

  private outside (key: string, v: unknown, p: Placement): void {
    const path = [...this.path, key].join('.')
    p.extra ??= []
    if (isNonEmptyObject(v)) forEachLeafPath(v, (leaf) => p.extra?.push(leaf), path + '.')
    else p.extra.push(path)
  }
}

/**
 * The leaf paths of the JSON object text at `text` (valid JSON, as parsed before), in the
 * order the keys are written; `under` keeps only those below that path (the content field).
 */
export function leafPathsOfJson (text: string, under: string[] = []): string[] {
  const paths = new Set<string>()
  let i = 0
  const space = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  }
  const string = (): string => {
    const start = i
    for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++
    i++
    return JSON.parse(text.slice(start, i)) as string
  }
  const skip = (): void => {
    space()
    const c = text[i]
    if (c === '"') { string(); return }
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']'
      i++
      space()
      if (text[i] === close) { i++; return }
      for (;;) {
        if (c === '{') { space(); string(); space(); i++ }
        skip()
        space()
        if (text[i++] === close) return
      }
    }
    while (i < text.length && !/[\s,\]}]/.test(text[i])) i++
  }
  // Walks an object whose keys so far are `path`, collecting the leaves below `under`.
  const object = (path: string[]): void => {
    i++
    space()
    if (text[i] === '}') { i++; return }
    for (;;) {
      space()
      const key = string()
      space()
      i++ // the colon
      space()
      const inside = [...path, key]
      const matched = inside.length <= under.length ? inside.every((k, n) => k === under[n]) : true
      if (!matched) {
        skip()
      } else if (text[i] === '{' && !emptyObjectAt(i)) {
        object(inside)
      } else {
        if (inside.length > under.length) paths.add(inside.slice(under.length).join('.'))
        skip()
      }
      space()
      if (text[i++] === '}') return
    }
  }
  const emptyObjectAt = (at: number): boolean => {
    let j = at + 1
    while (j < text.length && /\s/.test(text[j])) j++
    return text[j] === '}'
  }
  space()
  if (text[i] === '{') object([])
  return [...paths]
}
