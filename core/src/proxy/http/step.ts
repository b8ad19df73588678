/** One step of an exchange: done synchronously, or a promise when something had to be waited for. */
export type Step = void | Promise<void>;

/**
 * `f(v)` at once when `v` is a value, else once it resolves. The exchange chains its steps with
 * this, so that a request whose hooks are all synchronous and whose server connection is reused
 * makes no promise of its own (the fast path). (Not named `then`: a module exporting `then` is
 * a thenable, and `await import()` of it would call it.)
 */
export function andThen<T, U>(v: T | Promise<T>, f: (t: T) => U | Promise<U>): U | Promise<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/**
 * Run `step`, then `done` (synchronously if the step was), or `failed` with what it threw or
 * rejected with: how a session runs an exchange without a promise on the fast path.
 */
export function settle(step: () => Step, done: () => void, failed: (err: unknown) => void): void {
  let r: Step;
  try {
    r = step();
  } catch (err) {
    failed(err);
    return;
  }
  if (r instanceof Promise) r.then(done, failed);
  else done();
}
