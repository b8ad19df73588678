import { describe, expect, it } from 'vitest';
import { tflow } from '@mitmts/sdk/testing';
import { FlowList } from '../src/flow-list.js';

describe('FlowList (the flows the writer holds for later)', () => {
  it('holds each flow once, in the order added, and gives them back by time or count', () => {
    const [a, b, c, d] = [tflow(), tflow(), tflow(), tflow()];
    const list = new FlowList();
    list.add(a, 10);
    list.add(b, 20);
    list.add(a, 99); // already there: keeps its first time
    list.add(c, 30);
    list.add(d, 40);
    expect(list.size).toBe(4);
    expect(list.delete(b)).toBe(true);
    expect(list.delete(b)).toBe(false);
    expect(list.has(b)).toBe(false);
    expect(list.takeDue(30)).toEqual([a, c]);
    expect([list.size, list.has(a), list.has(d)]).toEqual([1, false, true]);
    list.add(a, 50);
    list.add(b, 60);
    expect(list.take(2)).toEqual([d, a]);
    expect(list.take()).toEqual([b]);
    expect(list.size).toBe(0);
    list.add(b);
    expect(list.has(b)).toBe(true);
  });

  it('removes the first, a middle and the last flow, each with its time', () => {
    const flows = [tflow(), tflow(), tflow(), tflow(), tflow()];
    const list = new FlowList();
    flows.forEach((f, i) => list.add(f, i * 10));
    expect([list.delete(flows[0]!), list.delete(flows[4]!), list.delete(flows[2]!)]).toEqual([true, true, true]);
    expect(list.size).toBe(2);
    // The times moved with their flows: only the first remaining one (time 10) is due at 15.
    expect(list.takeDue(15)).toEqual([flows[1]]);
    expect(list.take()).toEqual([flows[3]]);
  });
});
