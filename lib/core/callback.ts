/**
 * Calls a stream's callback once `waiting` settles, or at once when there is nothing to wait for:
 * writers return a promise only when they must wait, so most records cost no promise.
 */
export function doneWhen (waiting: Promise<unknown> | undefined, done: (err?: Error | null) => void): void {
  if (waiting === undefined) done()
  else waiting.then(() => { done() }, (err: unknown) => { done(err as Error) })
}
