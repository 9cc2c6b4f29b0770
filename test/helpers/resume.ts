// The kill matrix of issue 23: a checkpointed pipe (a reader, maybe `jq -c .`, a writer, all
// given the same --checkpoint FILE) is killed with SIGKILL at seeded random moments, one stage
// or its whole process group, then run again, killed again, and at last run to the end. The
// destination must then hold every record of the source exactly once, with the source's
// bytes, and the last run must have read only what was not committed yet.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync, readdirSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { installedBinDir, collect } from './run.js'
import type { RunResult } from './run.js'
import { WaitError, waitFor } from './wait.js'

export type KillTarget = 'reader' | 'jq' | 'writer' | 'group' | 'saving'

export interface Chain {
  /** The reader's command line, given the checkpoint file. */
  reader: (ckpt: string) => string
  /** The writer's command line, given the checkpoint file. */
  writer: (ckpt: string) => string
  /** How many records the source holds. */
  records: number
  kill: KillTarget
  seed: number
  /** Where the checkpoint file and the pid files go. */
  dir: string
  env?: NodeJS.ProcessEnv
  /** Kills before the run to the end (default 5). */
  kills?: number
  /**
   * Empties the destination, for a chain whose pipe ran to its end before any kill came (a fast
   * machine): it is started over with kills sooner, so that a kill always lands.
   */
  reset?: () => Promise<void>
  /** Every other kill waits for a commit first, so that some kill lands mid-stream. */
  midStream?: boolean
}

export interface ChainResult {
  /** The last run, to the end. */
  final: RunResult
  /** Records the writer had committed before the last run (the prefix it resumed from). */
  committedBefore: number
  /** How many of the kills landed while the pipe was still running. */
  landed: number
  /** What each run's kill hit, for messages. */
  log: string[]
}

/** A small deterministic generator (mulberry32), so a failing chain can be run again as it was. */
export function random (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** What the file says the writer committed (0 before it has said anything). */
export function committed (ckpt: string): number {
  try {
    return (JSON.parse(readFileSync(ckpt, 'utf8')) as { writer?: { committed?: number } }).writer?.committed ?? 0
  } catch {
    return 0
  }
}

export function complete (ckpt: string): boolean {
  try {
    return (JSON.parse(readFileSync(ckpt, 'utf8')) as { writer?: { complete?: boolean } }).writer?.complete === true
  } catch {
    return false
  }
}

function pid (file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8'))
    return Number.isInteger(n) && n > 0 ? n : undefined
  } catch {
    return undefined
  }
}

function kill (target: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(target, signal)
    return true
  } catch {
    return false
  }
}

/** The checkpoint's temporary file of a save in progress (`FILE.tmp-PID`), and that PID. */
function saving (ckpt: string): number | undefined {
  const prefix = `${basename(ckpt)}.tmp-`
  const name = readdirSync(dirname(ckpt)).find((f) => f.startsWith(prefix))
  if (name === undefined) return undefined
  const n = Number(name.slice(prefix.length))
  return Number.isInteger(n) ? n : undefined
}

/**
 * One run of the pipe, killed (unless `delayMs` is undefined) that long after it started: the
 * stage named, or the whole group, or, for `saving`, the first process then found in the middle
 * of a save of the checkpoint (saves are slowed down for that). Each stage writes its pid
 * first, so each can be killed alone; the pipe is its own process group.
 */
async function run (c: Chain, delayMs: number | undefined, afterCommit = false): Promise<{ result: RunResult, hit: string }> {
  const ckpt = join(c.dir, 'ckpt')
  const p = (name: string): string => join(c.dir, `${name}.pid`)
  const stage = (name: string, command: string): string => `( echo $BASHPID > ${p(name)}; exec ${command} )`
  const middle = c.kill === 'jq' ? ` | ${stage('jq', 'jq -c .')}` : ''
  const script = `${stage('reader', c.reader(ckpt))}${middle} | ${stage('writer', c.writer(ckpt))}`
  for (const name of ['reader', 'jq', 'writer']) rmSync(p(name), { force: true })
  const env: NodeJS.ProcessEnv = { ...process.env, ...c.env, PATH: `${installedBinDir()}:${process.env.PATH ?? ''}` }
  if (c.kill === 'saving' && delayMs !== undefined) env.ESPIPE_TEST_SAVE_DELAY_MS = '40'
  const child: ChildProcess = spawn('bash', ['-o', 'pipefail', '-c', script], { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const done = collect(child, null)
  let hit = 'ran to the end'
  if (delayMs !== undefined) {
    try {
      if (afterCommit) {
        const before = committed(ckpt)
        await waitFor(() => committed(ckpt) > before, { what: 'a commit', timeoutMs: 60_000, everyMs: 5, child })
      }
      await waitFor(() => false, { what: `${delayMs} ms`, timeoutMs: delayMs, everyMs: 5, child }).catch((err: unknown) => {
        if (!(err instanceof WaitError) || !err.message.endsWith(' ms')) throw err
      })
      const at = committed(ckpt)
      if (c.kill === 'saving') {
        const who = await waitFor(() => saving(ckpt), { what: `a save of ${ckpt} under way`, timeoutMs: 60_000, everyMs: 2, child })
        if (kill(who, 'SIGKILL')) hit = `killed process ${who} while it saved the checkpoint (${committed(ckpt)} records committed)`
      } else {
        // A stage not started yet (its pid file not written) is waited for: killing nothing is no kill.
        const target = c.kill === 'group' ? -(child.pid as number) : await waitFor(() => pid(p(c.kill)), { what: `the ${c.kill} to start`, timeoutMs: 30_000, everyMs: 2, child }).catch(() => undefined)
        if (target !== undefined && kill(target, 'SIGKILL')) hit = `killed the ${c.kill} ${delayMs} ms in, ${at} records committed`
        else hit = `the ${c.kill} had ended before the kill`
      }
    } catch (err) {
      if (!(err instanceof WaitError)) throw err
      hit = `finished before the kill (${err.message})`
    }
  }
  const result = await done
  // Killing a stage leaves the others to end on their own (EPIPE, end of input); killing the
  // group ends them all. Either way nothing of this run may go on into the next.
  for (const name of ['reader', 'jq', 'writer']) {
    const n = pid(p(name))
    if (n !== undefined) await waitFor(() => !kill(n, 0), { what: `the ${name} (${n}) to be gone`, timeoutMs: 30_000 }).catch(() => kill(n, 'SIGKILL'))
  }
  return { result, hit }
}

/**
 * The chain: `kills` runs killed at seeded random moments (within about how long the rest would
 * take, `cleanMs` being a whole run's time), then a run to the end.
 */
export async function killChain (c: Chain & { cleanMs: number }): Promise<ChainResult> {
  const rnd = random(c.seed)
  const ckpt = join(c.dir, 'ckpt')
  const log: string[] = []
  let landed = 0
  // A run that ended before its kill came (the pipe is faster than guessed) is run again with
  // a kill sooner, so that every round kills something.
  let scale = 1
  for (let i = 0, misses = 0, resets = 0; i < (c.kills ?? 5);) {
    const left = c.records - committed(ckpt)
    if (left <= 0 || complete(ckpt)) {
      if (landed > 0 || c.reset === undefined || resets >= 3) break
      // The pipe ran to its end before any kill: start the chain over, kills sooner.
      resets++
      await c.reset()
      for (const f of readdirSync(c.dir)) if (f === 'ckpt' || f.startsWith('ckpt.')) rmSync(join(c.dir, f), { force: true })
      log.push(`ran to the end before any kill: started over (${resets})`)
      scale /= 2
      continue
    }
    // The processes take a few hundred milliseconds to start; the work is in proportion to what is left.
    // After a miss (the stage aimed at had ended) the whole delay shrinks, its start too: a fast stage is then killed right after it starts.
    const delay = Math.round(150 * scale + rnd() * scale * Math.max(200, 0.6 * c.cleanMs * left / c.records))
    const { hit } = await run(c, c.midStream === true && i % 2 === 0 ? Math.round(delay / 4) : delay, c.midStream === true && i % 2 === 0)
    log.push(`run ${i + 1}: ${hit}`)
    if (hit.startsWith('killed')) landed++
    // A kill that came too late (the pipe, or the stage aimed at, had already ended) is tried again sooner.
    if (!hit.startsWith('killed') && misses < 5) {
      misses++
      scale /= 2
      continue
    }
    i++
  }
  const committedBefore = committed(ckpt)
  const { result } = await run(c, undefined)
  log.push(`last run: exit ${String(result.code)}`)
  return { final: result, committedBefore, landed, log }
}

/** `TOOL: N read, M emitted` from a reader's summary line. */
export function emitted (stderr: string, tool: string): number | undefined {
  const m = new RegExp(`^${tool}: [\\d,]+ read, ([\\d,]+) emitted`, 'm').exec(stderr)
  return m === null ? undefined : Number(m[1].replace(/,/g, ''))
}

/** The records (id → bytes) that differ between two maps: missing, extra, or other bytes; the first few. */
export function differences (got: Map<string, string>, want: Map<string, string>): string[] {
  const out: string[] = []
  for (const [id, text] of want) if (got.get(id) !== text) out.push(`${id}: ${got.has(id) ? `holds ${got.get(id) ?? ''} for ${text}` : 'missing'}`)
  for (const id of got.keys()) if (!want.has(id)) out.push(`${id}: not in the source`)
  return out.slice(0, 5)
}
