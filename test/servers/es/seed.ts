// Generated documents (~400 bytes each) for benchmarks and demos: a timestamp, numbers, keywords.

const LEVELS = ['debug', 'info', 'warn', 'error']
const SERVICES = ['api', 'billing', 'search', 'auth', 'mailer', 'worker']

export function generateDocs(n: number, start = 0): Array<{ _id: string; _source: Record<string, unknown> }> {
  const base = Date.UTC(2024, 0, 1)
  const out: Array<{ _id: string; _source: Record<string, unknown> }> = new Array(n)
  for (let i = 0; i < n; i++) {
    const k = start + i
    out[i] = {
      _id: `doc-${k}`,
      _source: {
        '@timestamp': new Date(base + k * 1000).toISOString(),
        seq: k,
        bytes: (k * 7919) % 100000,
        latency_ms: ((k * 31) % 5000) / 10,
        level: LEVELS[k % LEVELS.length],
        service: SERVICES[k % SERVICES.length],
        host: { name: `host-${k % 50}`, ip: `10.0.${(k >> 8) & 255}.${k & 255}` },
        user: { id: `u${k % 9973}`, country: ['DE', 'FR', 'US', 'JP', 'BR'][k % 5] },
        message: `request ${k} handled by ${SERVICES[k % SERVICES.length]} in ${(k * 31) % 5000} ms with status ${k % 7 === 0 ? 500 : 200}`,
        tags: ['espipe', k % 2 === 0 ? 'even' : 'odd'],
      },
    }
  }
  return out
}
