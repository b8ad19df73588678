import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchQueue } from '@mitmts/addon-sink-clickhouse';

afterEach(() => vi.useRealTimers());

function recorder(fail: () => boolean = () => false): {
  batches: number[][];
  send: (items: number[]) => Promise<void>;
} {
  const batches: number[][] = [];
  return {
    batches,
    send: async (items) => {
      if (fail()) throw new Error('server down');
      batches.push(items);
    },
  };
}

describe('BatchQueue', () => {
  it('sends full batches at once and a partial one after flushMs', async () => {
    vi.useFakeTimers();
    const r = recorder();
    const q = new BatchQueue(r.send, { batch: 3, flushMs: 100, max: 100 });
    for (let i = 0; i < 7; i++) q.push(i);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.batches).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    await vi.advanceTimersByTimeAsync(100);
    expect(r.batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(q.stats).toMatchObject({ queued: 0, sent: 7, batches: 3, dropped: 0 });
  });

  it('retries a failed batch with doubling backoff, in order, and reports each failure', async () => {
    vi.useFakeTimers();
    let down = 3;
    const r = recorder(() => down-- > 0);
    const errors: Array<[number, number]> = [];
    const q = new BatchQueue(r.send, { batch: 2, flushMs: 10, max: 100, backoffMs: 100 }, (_e, attempt, delay) =>
      errors.push([attempt, delay]),
    );
    q.push(1);
    q.push(2);
    q.push(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(q.stats.lastError).toBe('server down');
    await vi.advanceTimersByTimeAsync(100 + 200 + 400);
    expect(errors).toEqual([
      [1, 100],
      [2, 200],
      [3, 400],
    ]);
    await vi.advanceTimersByTimeAsync(20);
    expect(r.batches).toEqual([[1, 2], [3]]);
    expect(q.stats).toMatchObject({ retries: 3, lastError: null, queued: 0 });
  });

  it('drops the oldest rows beyond max while the server is down, and counts them', async () => {
    vi.useFakeTimers();
    let up = false;
    const r = recorder(() => !up);
    const q = new BatchQueue(r.send, { batch: 10, flushMs: 10, max: 25, backoffMs: 50, maxBackoffMs: 50 });
    for (let i = 0; i < 100; i++) q.push(i);
    await vi.advanceTimersByTimeAsync(10);
    expect(q.stats).toMatchObject({ queued: 25, dropped: 75 });
    up = true;
    await vi.advanceTimersByTimeAsync(200);
    // The batch that was in flight is kept; of the rest, the newest.
    expect(r.batches.flat()).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i),
      ...Array.from({ length: 15 }, (_, i) => 85 + i),
    ]);
  });

  it('close() sends what waits, then stops taking rows', async () => {
    const r = recorder();
    const q = new BatchQueue(r.send, { batch: 100, flushMs: 60_000, max: 1000 });
    q.push(1);
    q.push(2);
    await q.close(1000);
    expect(r.batches).toEqual([[1, 2]]);
    q.push(3);
    expect(q.stats.queued).toBe(0);
  });

  it('close() gives up after its timeout when the server stays down', async () => {
    const q = new BatchQueue(() => Promise.reject(new Error('down')), {
      batch: 10,
      flushMs: 10,
      max: 100,
      backoffMs: 10,
    });
    q.push(1);
    const t0 = performance.now();
    await q.close(200);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(q.stats.queued).toBe(1);
  });
});
