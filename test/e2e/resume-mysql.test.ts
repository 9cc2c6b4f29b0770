// The kill matrix of issue 23 (see test/helpers/resume-matrix.ts) with mysql-read as the
// reader, from a table of values mysql-read writes exactly: BIGINT UNSIGNED at its limit,
// DECIMAL, utf8mb4 text with quotes, JSON, DATETIME(6), binary (as base64).
import t from 'tap'
import { killMatrix } from '../helpers/resume-matrix.js'

const N = 6000

killMatrix(t, {
  tool: 'mysql-read',
  records: N,
  slices: [1, 4],
  setup: async ({ db }) => {
    await db.rows('CREATE TABLE src (id INT PRIMARY KEY, big BIGINT UNSIGNED, price DECIMAL(20,6), s VARCHAR(200) CHARACTER SET utf8mb4, j JSON, at DATETIME(6), b VARBINARY(16)) ENGINE=InnoDB')
    const values: string[] = []
    for (let i = 0; i < N; i++) {
      values.push(`(${i}, ${18446744073709551615n - BigInt(i)}, ${i}.500000, 'caf\u00e9 ✓ "${i}" \\\\ ${'x'.repeat(i % 50)}', '{"k":${i},"v":[1,2.0,null]}', '2024-03-31 02:30:00.${String(i % 1000000).padStart(6, '0')}', UNHEX('${(i * 2654435761 % 4294967296).toString(16).padStart(8, '0')}ff00'))`)
    }
    for (let i = 0; i < values.length; i += 1000) await db.rows(`INSERT INTO src VALUES ${values.slice(i, i + 1000).join(',')}`)
  },
  reader: ({ db }, ckpt, slices) => `mysql-read --url ${db.url} -t src --batch-size 200 --slices ${slices} --checkpoint ${ckpt}`,
  clean: ({ db }, slices) => `mysql-read --url ${db.url} -t src --batch-size 200 --slices ${slices} -q`
})
