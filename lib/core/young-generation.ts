import { setFlagsFromString } from 'node:v8'

/**
 * Imported first by a binary that streams large volumes through Buffers (mysql-read): keeps
 * V8's young generation at its starting 2 MB instead of letting it grow to 32 MB.
 *
 * Every chunk read from a socket and every chunk written out is an ArrayBuffer, freed only when
 * a collection of the young generation finds it dead. A large young generation is collected
 * rarely, so ~40 MB of spent chunks wait in memory: mysql-read peaked at 120 MB instead of about
 * 90, for the same CPU (measured, bench/mysql-read.ts). The flag takes effect for growth after
 * it is set, so this module must be evaluated before the others allocate: import it first.
 */
setFlagsFromString('--semi-space-growth-factor=1')
