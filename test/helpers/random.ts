/** A small deterministic generator (mulberry32), so a failure names a seed that replays it. */
export function random (seed: number): () => number {
  let a = seed
  return () => {
    a |= 0; a = a + 0x6D2B79F5 | 0
    let x = Math.imul(a ^ a >>> 15, 1 | a)
    x = x + Math.imul(x ^ x >>> 7, 61 | x) ^ x
    return ((x ^ x >>> 14) >>> 0) / 4294967296
  }
}
