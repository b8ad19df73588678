import { describe, expect, it } from 'vitest';
import { Sweeper, type SweepEntry } from '../../src/proxy/sweeper.js';

/** An entry that counts its sweeps and resolves `swept` after the n-th. */
function counting(timeoutMs: number, keepFor: number): SweepEntry & { calls: number; swept: Promise<void> } {
  let done!: () => void;
  const entry = {
    timeoutMs,
    calls: 0,
    swept: new Promise<void>((r) => (done = r)),
    sweep(): boolean {
      entry.calls++;
      if (entry.calls === keepFor) done();
      return entry.calls < keepFor;
    },
  };
  return entry;
}

describe('Sweeper', () => {
  it('sweeps an entry until it asks to be dropped, then sweeps it no more', async () => {
    const sweeper = new Sweeper();
    const a = counting(40, 3);
    sweeper.register(a);
    await a.swept;
    // A second entry keeps the timer running; the first one, dropped, is not called again.
    const b = counting(40, 2);
    sweeper.register(b);
    await b.swept;
    expect(a.calls).toBe(3);
  });

  it('does not sweep an entry once it is unregistered', async () => {
    const sweeper = new Sweeper();
    const gone = counting(40, 100);
    const stays = counting(40, 3);
    sweeper.register(gone);
    sweeper.register(stays);
    sweeper.unregister(gone);
    await stays.swept;
    expect(gone.calls).toBe(0);
  });
});
