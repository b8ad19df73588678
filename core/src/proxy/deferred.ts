/** A promise with its resolve/reject handles, for bridging sync parser events to async code. */
export class Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  settled = false;
  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = (v) => {
        if (this.settled) return;
        this.settled = true;
        res(v);
      };
      this.reject = (e) => {
        if (this.settled) return;
        this.settled = true;
        rej(e);
      };
    });
    // A rejection nobody awaits yet must not crash the process.
    this.promise.catch(() => undefined);
  }
}
