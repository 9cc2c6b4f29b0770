/**
 * A 32-bit hash of a key's bytes (FNV-1a, then murmur3's finaliser so that the top bits, which
 * pick the partition, depend on every byte). `seed` gives each level of partitioning its own
 * hash, so a partition split again spreads over all its parts.
 */
export function hashKey (key: Buffer, start: number, end: number, seed: number): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) | 0
  for (let i = start; i < end; i++) {
    h ^= key[i]
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
