import t from 'tap'
import type { RetriesSpent } from '../../lib/core/retry.js'
import { withRetry } from '../../lib/core/retry.js'

class Flaky extends Error {
  constructor (readonly n: number, readonly retry = true) { super(`failure ${n}`) }
}
const retryable = (err: unknown): boolean => err instanceof Flaky && err.retry

t.test('forMs ends the retries once that long has passed, whatever retries remain', async (t) => {
  let calls = 0
  const waits: number[] = []
  let spent: RetriesSpent | undefined
  const err = await withRetry(async () => { throw new Flaky(++calls) }, { retries: 1000, maxWaitMs: 40, baseWaitMs: 10, forMs: 150 }, {
    retryable,
    onRetry: (_e, _n, wait) => { waits.push(wait) },
    giveUp: (e, s) => { spent = s; return new Error(`gave up (${(e as Error).message})`) }
  }).catch((e: unknown) => e)
  t.equal((err as Error).message, `gave up (failure ${calls})`, 'giveUp made the error, from the last failure')
  t.equal(spent?.by, 'time')
  t.ok(spent !== undefined && spent.retries < 1000, 'retries were left')
  t.equal(spent?.retries, calls - 1, 'every failure but the first was a retry')
  t.ok(spent !== undefined && spent.elapsedMs >= 150, `${spent?.elapsedMs ?? 0} ms since the first failure`)
  t.ok(waits.length > 0 && waits.every((w) => w <= 40), 'waits stay under maxWaitMs')
})

t.test('the wait before the deadline is cut to it: one more try at that moment, then give up', async (t) => {
  let calls = 0
  const waits: number[] = []
  let spent: RetriesSpent | undefined
  await withRetry(async () => { throw new Flaky(++calls) }, { retries: 8, maxWaitMs: 30_000, baseWaitMs: 5000, forMs: 60 }, {
    retryable,
    onRetry: (_e, _n, wait) => { waits.push(wait) },
    giveUp: (e, s) => { spent = s; return e }
  }).catch(() => undefined)
  // The first backoff would be 2.5-5 s; forMs leaves 60 ms.
  t.equal(waits.length, 1)
  t.ok(waits[0] <= 60, `the one wait was cut to the deadline (${waits[0]} ms)`)
  t.equal(calls, 2)
  t.equal(spent?.by, 'time')
})

t.test('the count runs out first: giveUp is told so; without giveUp the last failure is thrown', async (t) => {
  let calls = 0
  let spent: RetriesSpent | undefined
  await withRetry(async () => { throw new Flaky(++calls) }, { retries: 3, maxWaitMs: 2, baseWaitMs: 1, forMs: 60_000 }, {
    retryable,
    giveUp: (e, s) => { spent = s; return e }
  }).catch(() => undefined)
  t.equal(calls, 4, 'the first attempt and 3 retries')
  t.strictSame(spent === undefined ? undefined : { by: spent.by, retries: spent.retries }, { by: 'retries', retries: 3 })

  calls = 0
  const last = await withRetry(async () => { throw new Flaky(++calls) }, { retries: 2, maxWaitMs: 2, baseWaitMs: 1 }, { retryable }).catch((e: unknown) => e)
  t.ok(last instanceof Flaky && last.n === 3, 'the third failure itself')
})

t.test('a failure that is not retryable is thrown at once, giveUp is not asked', async (t) => {
  let calls = 0
  let asked = false
  const err = await withRetry(async () => { throw new Flaky(++calls, false) }, { retries: 5, maxWaitMs: 2, forMs: 0 }, {
    retryable,
    giveUp: (e) => { asked = true; return e }
  }).catch((e: unknown) => e)
  t.equal(calls, 1)
  t.equal(asked, false)
  t.ok(err instanceof Flaky && err.n === 1)
})

t.test('forMs 0: the first retryable failure gives up at once', async (t) => {
  let calls = 0
  let spent: RetriesSpent | undefined
  await withRetry(async () => { throw new Flaky(++calls) }, { retries: 5, maxWaitMs: 2, forMs: 0 }, {
    retryable,
    giveUp: (e, s) => { spent = s; return e }
  }).catch(() => undefined)
  t.equal(calls, 1)
  t.equal(spent?.by, 'time')
  t.equal(spent?.retries, 0)
})

t.test('an abort ends the wait and throws the failure, not a give-up', async (t) => {
  const stop = new AbortController()
  let asked = false
  let calls = 0
  const err = await withRetry(async () => { throw new Flaky(++calls) }, { retries: 5, maxWaitMs: 60_000, baseWaitMs: 60_000, forMs: 120_000 }, {
    retryable,
    signal: stop.signal,
    onRetry: () => { stop.abort() },
    giveUp: (e) => { asked = true; return e }
  }).catch((e: unknown) => e)
  t.equal(calls, 1, 'no second attempt after the abort')
  t.equal(asked, false)
  t.ok(err instanceof Flaky && err.n === 1)
})

t.test('a success after failures returns its value', async (t) => {
  let calls = 0
  const v = await withRetry(async () => { if (++calls < 3) throw new Flaky(calls); return 'ok' }, { retries: 5, maxWaitMs: 2, baseWaitMs: 1, forMs: 10_000 }, { retryable })
  t.equal(v, 'ok')
  t.equal(calls, 3)
})
