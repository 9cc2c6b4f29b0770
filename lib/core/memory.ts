import { setFlagsFromString } from 'node:v8'

/**
 * For a stage that holds records in batches: V8 would let a young generation of up to 3 × 16 MB
 * and an old generation of mostly garbage grow before collecting (records wait in batches long
 * enough to be promoted). Smaller semi-spaces and a smaller heap growth step keep RSS near half
 * of that for a few percent more CPU (measured: bench/mysql-write.ts, bench/es-write-bench.ts).
 * Call it first thing in a binary: it changes flags of this process's V8.
 */
export function keepHeapSmall (): void {
  setFlagsFromString('--heap-growing-percent=30')
  setFlagsFromString('--max-semi-space-size=4')
}
