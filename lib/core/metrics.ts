import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { EspipeError, UsageError } from './errors.js'
import type { RoundsState } from './follow.js'
import { lagSeconds } from './follow.js'
import type { Stats } from './stats.js'
import type { StageMetrics } from './stage-metrics.js'

export interface MetricsServer { metrics: StageMetrics, port: number, close: () => Promise<void> }

/** `PORT` or `HOST:PORT`; the host defaults to every interface, so Prometheus can scrape from elsewhere. */
export function parseListen (spec: string): { host: string, port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(spec)
  const port = m === null ? NaN : Number(m[2])
  if (m === null || port > 65535) throw new UsageError(`invalid value for --metrics-port: '${spec}' (PORT or HOST:PORT)`)
  return { host: (m[1] ?? '0.0.0.0').replace(/^\[(.*)\]$/, '$1'), port }
}

/**
 * Serves Prometheus metrics at /metrics for a long run: the run's counters (read at scrape time,
 * so the record path pays nothing), batch/page latency, retries, in-flight work, and the
 * process's own (RSS, event-loop lag).
 */
export async function startMetrics (tool: string, stats: Stats, listen: string): Promise<MetricsServer> {
  const { host, port } = parseListen(listen)
  const registry = new Registry()
  registry.setDefaultLabels({ tool })
  collectDefaultMetrics({ register: registry, prefix: 'espipe_' })
  // Counter semantics, but the values live in Stats: set them when scraped.
  new Gauge({
    name: 'espipe_records',
    help: 'Records so far, by outcome (read, inserted, written, skipped, failed, ...)',
    labelNames: ['outcome'],
    registers: [registry],
    collect () {
      for (const [outcome, n] of Object.entries(stats.toJSON())) if (outcome !== 'seconds') this.set({ outcome }, n)
    }
  })
  // A read in rounds (--since-field, --since-column, --follow): labelled by what it is ordered
  // by, so the series appear only in such a run.
  const rounds = (): RoundsState | undefined => stats.follow
  new Gauge({
    name: 'espipe_lag_seconds',
    help: 'Age of the last record handed on: now minus its since value (a date)',
    labelNames: ['field'],
    registers: [registry],
    collect () {
      const f = rounds()
      const lag = f === undefined ? undefined : lagSeconds(f)
      if (f !== undefined && lag !== undefined) this.set({ field: f.field }, lag)
    }
  })
  new Gauge({
    name: 'espipe_rounds',
    help: 'Rounds read to their end',
    labelNames: ['field'],
    registers: [registry],
    collect () {
      const f = rounds()
      if (f !== undefined) this.set({ field: f.field }, f.rounds)
    }
  })
  new Gauge({
    name: 'espipe_round_records',
    help: 'Records of the last round read to its end',
    labelNames: ['field'],
    registers: [registry],
    collect () {
      const f = rounds()
      if (f !== undefined) this.set({ field: f.field }, f.lastRound)
    }
  })
  const batch = new Histogram({ name: 'espipe_batch_duration_seconds', help: 'Time per page read or batch written', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] })
  const retries = new Counter({ name: 'espipe_retries_total', help: 'Requests or batches retried after a transient failure', registers: [registry] })
  const inFlight = new Gauge({ name: 'espipe_in_flight', help: 'Pages held or batches in flight', registers: [registry] })

  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404).end('try /metrics\n'); return }
    registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': registry.contentType }).end(text)
    }, (err: Error) => { res.writeHead(500).end(err.message) })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new EspipeError(err.code ?? 'EADDRINUSE', `cannot serve metrics on ${host}:${port}: ${err.message}`, { context: { host, port } })))
    server.listen(port, host, resolve)
  })
  server.unref()
  return {
    port: (server.address() as AddressInfo).port,
    metrics: {
      observeBatch: (s) => batch.observe(s),
      retried: () => retries.inc(),
      inFlight: (d) => inFlight.inc(d)
    },
    close: async () => { await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}
