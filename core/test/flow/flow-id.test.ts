import { describe, expect, it } from 'vitest';
import { newFlowId } from '../../src/flow/flow-id.js';
import { tflow } from '../../src/flow/testing.js';

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('flow ids', () => {
  it('are version 7 UUIDs: the time in milliseconds, then random bits', () => {
    const id = newFlowId(0x0123456789ab);
    expect(id).toMatch(UUID7);
    expect(id.slice(0, 13)).toBe('01234567-89ab');
    expect(newFlowId(1)).toMatch(/^00000000-0001-7/);
    expect(newFlowId()).toMatch(UUID7);
  });

  it('are unique, and every random digit varies, across pool refills', () => {
    const ids = Array.from({ length: 50_000 }, () => newFlowId(1_765_148_000_000));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(UUID7);
    // Each random position takes many values (a digit written from the wrong bits would be constant).
    for (const pos of [15, 16, 17, 19, 20, 21, 22, ...Array.from({ length: 12 }, (_, i) => 24 + i)]) {
      const values = new Set(ids.slice(0, 2000).map((id) => id[pos]));
      expect(values.size, `position ${pos}`).toBe(pos === 19 ? 4 : 16);
    }
  });

  it('sort in time order: a later millisecond sorts after', () => {
    const a = newFlowId(1_765_148_000_000);
    const b = newFlowId(1_765_148_000_001);
    const c = newFlowId(1_765_148_000_016);
    expect([c, b, a].sort()).toEqual([a, b, c]);
  });

  it('of a flow carry its creation time', () => {
    const f = tflow();
    f.timestampCreated = 1_765_148_000.123;
    expect(f.id.slice(0, 13)).toBe(newFlowId(1_765_148_000_123).slice(0, 13));
    const weird = tflow();
    weird.timestampCreated = -5;
    expect(weird.id).toMatch(UUID7);
  });
});
