// Kept apart from metrics.ts so that only a run with --metrics-port loads prom-client (~12 MB).

/** What a stage reports beyond its counters. Without --metrics-port every call is a no-op. */
export interface StageMetrics {
  /** One page fetched or one batch written, and how long it took. */
  observeBatch: (seconds: number) => void
  retried: () => void
  /** Pages or batches currently held or in flight. */
  inFlight: (delta: number) => void
}

export const noMetrics: StageMetrics = { observeBatch: () => {}, retried: () => {}, inFlight: () => {} }
