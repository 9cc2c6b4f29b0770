// The kill matrix of issue 23 (see test/helpers/resume-matrix.ts) with csv-read as the reader,
// from two files (one with a byte order mark, quoted cells holding line ends and quotes): a
// rerun continues a file at the byte offset and line where the committed records ended.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { killMatrix } from '../helpers/resume-matrix.js'

const HALF = 3000

killMatrix(t, {
  tool: 'csv-read',
  records: 2 * HALF,
  slices: [1],
  setup: async ({ dir }) => {
    const rows = (from: number): string => Array.from({ length: HALF }, (_v, i) => {
      const n = from + i
      return `${n},"name ""${n}""${n % 7 === 0 ? '\nsecond line' : ''}",${n}.50,caf\u00e9 ✓`
    }).join('\n')
    writeFileSync(join(dir, 'a.csv'), `id,name,amount,note\n${rows(0)}\n`)
    writeFileSync(join(dir, 'b.csv'), `\ufeffid,name,amount,note\r\n${rows(HALF).replace(/\n(?!second)/g, '\r\n')}\r\n`)
  },
  reader: ({ dir }, ckpt) => `csv-read --checkpoint ${ckpt} ${join(dir, 'a.csv')} ${join(dir, 'b.csv')}`,
  clean: ({ dir }) => `csv-read -q ${join(dir, 'a.csv')} ${join(dir, 'b.csv')}`
})
