import { SecretMasker } from '../core/mask.js'

const MASK = '*****'

// key=value, key: value, "key": "value" where the key names a secret (MYSQL_PWD=…, --password=…,
// "api_key": "…"); "using password: YES" in MySQL's messages is information, not a secret.
const SECRET_ASSIGNMENT = /([A-Za-z_-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?)[A-Za-z_-]*)(["']?\s*[:=]\s*["']?)(?!(?:YES|NO)\b)([^\s"',;&)}\]]+)/gi
const AUTH_HEADER = /\b(authorization\s*:\s*(?:basic|bearer|apikey)\s+)[^\s"',]+/gi
const ANTHROPIC_KEY = /\bsk-ant-[A-Za-z0-9_-]+/g
// Long opaque strings (base64 credentials, tokens): never needed to explain a failure. Mixed
// case and digits tell them from long words and paths.
const OPAQUE = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{40,}={0,2}(?![A-Za-z0-9+/=_-])/g
const isOpaque = (s: string): boolean => /[a-z]/.test(s) && /[A-Z]/.test(s) && /\d/.test(s)

/** The secrets this process knows from its environment (CONTRACT.md §2), to remove wherever they appear. */
export function environmentSecrets (env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = []
  for (const name of ['ES_PASSWORD', 'ES_API_KEY', 'MYSQL_PWD', 'MYSQL_PASSWORD', 'ANTHROPIC_API_KEY']) {
    const v = env[name]
    if (v !== undefined && v !== '') out.push(v)
  }
  for (const name of ['MYSQL_URL', 'ES_URL']) {
    const v = env[name]
    if (v === undefined) continue
    try {
      const pass = decodeURIComponent(new URL(v).password)
      if (pass !== '') out.push(pass)
    } catch { /* not a URL */ }
  }
  return out
}

/**
 * Removes what could be a secret from text before it leaves the machine: passwords in URLs,
 * key=value assignments of passwords, keys and tokens, Authorization headers, Anthropic keys,
 * long opaque tokens, and the secret values of this process's environment.
 */
export function scrubSecrets (text: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): string {
  return maskSecrets(text, extra, env).replace(OPAQUE, (s) => isOpaque(s) ? MASK : s)
}

/**
 * The lighter scrub for what explain-errors prints: the same, except long opaque strings
 * (a PIT id, a record's id) which the user may need to find the failure.
 */
export function maskSecrets (text: string, extra: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): string {
  const masker = new SecretMasker()
  masker.add(...environmentSecrets(env), ...extra)
  return masker.mask(text)
    .replace(AUTH_HEADER, `$1${MASK}`)
    .replace(ANTHROPIC_KEY, MASK)
    .replace(SECRET_ASSIGNMENT, `$1$2${MASK}`)
}
