import type { PathGetter } from './record.js'
import { compilePath, topLevelKey } from './record.js'

/**
 * Where a writer takes each record's id and content from (--id-field, --content-field), compiled
 * once, and which top-level members those are: a scanned line (ParsedLine.raw) gives a top-level
 * member as its text, to be cut from the line without a parse.
 */
export class RecordFields {
  readonly getId: PathGetter
  readonly getContent: PathGetter
  /** The content's top-level member, '' for the whole record; undefined for a nested path. */
  readonly contentKey: string | undefined
  /** The id's top-level member; undefined for a nested path (the whole record is never an id). */
  readonly idKey: string | undefined

  constructor (readonly idPath = '_id', readonly contentPath = '_source') {
    this.getId = compilePath(idPath)
    this.getContent = compilePath(contentPath)
    this.contentKey = topLevelKey(contentPath)
    const idKey = topLevelKey(idPath)
    this.idKey = idKey === '' ? undefined : idKey
  }
}
