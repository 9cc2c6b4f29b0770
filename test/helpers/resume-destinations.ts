// The four writers of the kill matrix, each with what it holds once the pipe has run: id →
// the bytes the destination keeps of the record (a row's content, a stored _source, a line).
import { readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { EsTestServer } from '../servers/es/server.js'
import type { TestDatabase } from './mysql.js'

export interface Destination {
  name: 'mysql-write' | 'es-write' | 'jsonl-write' | 'csv-write'
  /** The writer's command, for chain `k` with `concurrency` connections or requests. */
  writer: (ckpt: string, k: string, concurrency: number) => string
  /** What chain `k` left there: id → bytes. */
  holds: (k: string) => Promise<Map<string, string>>
  /** Empties chain `k`'s destination, as before its first run. */
  reset: (k: string) => Promise<void>
}

/** Lines of NDJSON keyed by `_id` (the value of a top-level string member, read without parsing the rest). */
export function byId (lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (const l of lines) {
    const m = /"_id":"((?:[^"\\]|\\.)*)"/.exec(l)
    if (m === null) throw new Error(`no _id in ${l.slice(0, 80)}`)
    if (out.has(m[1])) out.set(`${m[1]} (again)`, l)
    else out.set(m[1], l)
  }
  return out
}

/** `_source`'s bytes in a line the reader wrote (it comes right after `_id`, and runs to the end of the record or to `_pos`). */
export function sourceOf (line: string): string {
  const at = line.indexOf(',"_source":')
  if (at < 0) throw new Error(`no _source in ${line.slice(0, 80)}`)
  const tail = line.slice(at + 11).replace(/,"_pos":"(?:[^"\\]|\\.)*"\}$/, '}')
  return tail.slice(0, -1)
}

/** A file output and the temporary files runs left beside it. */
function removeOutputs (dir: string, name: string): void {
  for (const f of readdirSync(dir)) if (f === name || (f.startsWith(`.${name}.`) && f.endsWith('.tmp'))) rmSync(join(dir, f), { force: true })
}

/** The four destinations: a table, an index, a gzip JSON Lines file and a CSV file. */
export function destinations (o: { db: TestDatabase, dbUrl: string, es: EsTestServer, dir: string }): Destination[] {
  return [
    {
      name: 'mysql-write',
      // insert mode: a record written twice would fail its second time (a duplicate id).
      writer: (ckpt, k, c) => `mysql-write --url ${o.dbUrl} -t w${k} --create --mode insert -c ${c} --batch-size 40 --flush-interval 100ms --checkpoint ${ckpt} -q`,
      holds: async (k) => {
        const rows = await o.db.rows<{ id: string, content: string }>(`SELECT id, CAST(content AS CHAR) AS content FROM \`w${k}\``)
        return new Map(rows.map((r) => [r.id, r.content]))
      },
      reset: async (k) => { await o.db.rows(`DROP TABLE IF EXISTS \`w${k}\``) }
    },
    {
      name: 'es-write',
      writer: (ckpt, k, c) => `es-write --url ${o.es.url} --index w${k} -c ${c} --batch-size 40 --flush-interval 100ms --checkpoint ${ckpt} -q`,
      holds: async (k) => o.es.storedSources(`w${k}`),
      reset: async (k) => {
        await fetch(`${o.es.url}/w${k}`, { method: 'DELETE' })
        // As the matrix made it (resume-matrix.ts makeIndex): documents kept as they came.
        const r = await fetch(`${o.es.url}/w${k}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mappings: { dynamic: false } }) })
        if (!r.ok) throw new Error(`creating index w${k} again failed: ${r.status} ${await r.text()}`)
      }
    },
    {
      name: 'jsonl-write',
      writer: (ckpt, k) => `jsonl-write -o ${join(o.dir, `w${k}.jsonl.gz`)} --flush-interval 100ms --checkpoint ${ckpt} -q`,
      holds: async (k) => byId(gunzipSync(readFileSync(join(o.dir, `w${k}.jsonl.gz`))).toString('utf8').split('\n').filter((l) => l !== '')),
      reset: async (k) => { removeOutputs(o.dir, `w${k}.jsonl.gz`) }
    },
    {
      name: 'csv-write',
      writer: (ckpt, k) => `csv-write -o ${join(o.dir, `w${k}.csv`)} --flush-interval 100ms --checkpoint ${ckpt} -q`,
      holds: async (k) => csvRows(readFileSync(join(o.dir, `w${k}.csv`), 'utf8')),
      reset: async (k) => { removeOutputs(o.dir, `w${k}.csv`) }
    }
  ]
}

/**
 * A CSV file's rows keyed by the first cell (the id), the header under ''. Rows are split at
 * line ends outside quotes, as RFC 4180 has it.
 */
export function csvRows (text: string): Map<string, string> {
  const out = new Map<string, string>()
  let start = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') quoted = !quoted
    else if (c === '\n' && !quoted) {
      const row = text.slice(start, i)
      const id = start === 0 ? '' : row.startsWith('"') ? row.slice(1, row.indexOf('"', 1)) : row.slice(0, row.indexOf(','))
      out.set(out.has(id) ? `${id} (again)` : id, row)
      start = i + 1
    }
  }
  return out
}
