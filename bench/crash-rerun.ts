/**
 * README's "Crashes and reruns" table: the pipelines issue 23 tried, at its size, one stage
 * killed with -9 part way, then the same command again; what the destination then holds.
 * Usage: node --import tsx bench/crash-rerun.ts [docs=300000] [killAfterSeconds=4]
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BIN, fmt, mariadbClient, startEsServerProcess } from './measure.js'

const docs = Number(process.argv[2] ?? 300000)
const killAfter = Number(process.argv[3] ?? 4) * 1000
const DB = 'espipe_bench_crash'
const my = mariadbClient()
my.sql(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB} CHARACTER SET utf8mb4`)
const server = await startEsServerProcess(docs, 'logs', { nodeArgs: ['--max-old-space-size=8192'] })
const dir = mkdtempSync(join(tmpdir(), 'espipe-crash-'))
const C = join(dir, 'C')
const out = join(dir, 'out.jsonl')

const read = `node ${BIN}/es-read.js -q --url ${server.url} --index logs --checkpoint ${C}`
const stage = (name: string, command: string): string => `( echo $BASHPID > ${dir}/${name}.pid; exec ${command} )`

/** The pipe, with `victim` killed with -9 `killAfter` ms in (or run to the end). */
async function run (writer: string, victim?: 'reader' | 'writer'): Promise<number | null> {
  const child = spawn('bash', ['-o', 'pipefail', '-c', `${stage('reader', read)} | ${stage('writer', writer)}`], { stdio: ['ignore', 'ignore', 'inherit'] })
  const done = new Promise<number | null>((resolve) => child.on('close', resolve))
  if (victim !== undefined) {
    await new Promise((resolve) => setTimeout(resolve, killAfter))
    process.kill(Number(readFileSync(join(dir, `${victim}.pid`), 'utf8')), 'SIGKILL')
  }
  return await done
}

function lines (): { lines: number, ids: number } {
  const text = readFileSync(out, 'utf8').split('\n').filter((l) => l !== '')
  return { lines: text.length, ids: new Set(text.map((l) => /"_id":"([^"]*)"/.exec(l)?.[1])).size }
}

console.log(`${fmt(docs)} documents, the stage killed ${killAfter / 1000} s in\n`)
console.log('| pipeline | killed with -9 | first run | rerun | destination |')
console.log('|---|---|---|---|---|')
try {
  const mw = `node ${BIN}/mysql-write.js -q --url ${my.url(DB)} --table t --create --checkpoint ${C}`
  const first = await run(mw, 'writer')
  const rerun = await run(mw)
  const rows = Number(my.sql('SELECT COUNT(*) FROM t', DB))
  console.log(`| es-read --checkpoint C \\| mysql-write --table t --create --checkpoint C | mysql-write | exit ${String(first)} | exit ${String(rerun)} | ${fmt(rows)} rows, ${fmt(rows - docs)} missing or extra |`)

  for (const victim of ['writer', 'reader'] as const) {
    rmSync(C, { force: true })
    rmSync(out, { force: true })
    const jw = `node ${BIN}/jsonl-write.js -q -o ${out} --checkpoint ${C}`
    const a = await run(jw, victim)
    const b = await run(jw)
    const got = lines()
    const temps = readdirSync(dir).filter((f) => f.includes('.tmp')).length
    console.log(`| es-read --checkpoint C \\| jsonl-write -o out.jsonl --checkpoint C | ${victim === 'writer' ? 'jsonl-write' : 'es-read'} | exit ${String(a)} | exit ${String(b)} | ${fmt(got.lines)} lines, ${fmt(got.ids)} distinct ids, ${temps} temporary files |`)
  }
} finally {
  server.stop()
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true })
  my.sql(`DROP DATABASE IF EXISTS ${DB}`)
}
