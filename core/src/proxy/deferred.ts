const noop = (): void => undefined;

/** A promise with its resolve/reject handles, for bridging sync parser events to async code. */
export class Deferred<T = void> {
  readonly promise: Promise<T>;
  /** Settle it; later calls do nothing (native promise semantics). */
  resolve!: (value: T) => void;
  private rejectFn!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = res;
      this.rejectFn = rej;
    });
  }

  reject(error: unknown): void {
    // A rejection nobody awaits yet must not crash the process: mark it handled first (only on
    // this path, so the common one allocates nothing extra).
    this.promise.catch(noop);
    this.rejectFn(error);
  }
}
