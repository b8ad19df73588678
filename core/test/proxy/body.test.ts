import { describe, expect, it } from 'vitest';
import { BodyRelay } from '../../src/proxy/http/body.js';
import type { BodyWriter, HeaderPairs } from '../../src/proxy/http/sides.js';

/** A receiver that takes `room` chunks before it asks the producer to pause. */
function receiver(
  room = Infinity,
): BodyWriter & { got: string[]; ended: HeaderPairs | null | undefined; drains: Array<() => void> } {
  const r = {
    got: [] as string[],
    ended: undefined as HeaderPairs | null | undefined,
    drains: [] as Array<() => void>,
    retained: false,
    write: (c: Buffer) => (r.got.push(c.toString()), r.got.length < room),
    onDrain: (resume: () => void) => void r.drains.push(resume),
    end: (t: HeaderPairs | null) => void (r.ended = t),
  };
  return r;
}

describe('BodyRelay', () => {
  it('passes chunks through; keeps copies only when asked; taps what goes through', () => {
    const out = receiver();
    const tapped: string[] = [];
    const view = Buffer.from('abc');
    const relay = new BodyRelay(out, null, true, (c) => tapped.push(c.toString()));
    relay.write(view);
    view.write('xyz'); // the producer reuses its read buffer: the copy must not change
    relay.write(Buffer.alloc(0));
    relay.end(null);
    expect(out.got).toEqual(['abc']);
    expect(relay.kept()!.toString()).toBe('abc');
    expect(tapped).toEqual(['abc']);
    expect(out.ended).toBeNull();
    expect(new BodyRelay(receiver(), null, false).kept()).toBeNull();
  });

  it('runs the stream function per chunk and once more to flush at the end', () => {
    const out = receiver();
    const relay = new BodyRelay(out, (c) => (c.length === 0 ? [Buffer.from('|end')] : [c, Buffer.from('.')]), false);
    relay.write(Buffer.from('a'));
    relay.end([[Buffer.from('T'), Buffer.from('1')]]);
    expect(out.got).toEqual(['a', '.', '|end']);
    expect(out.ended).toHaveLength(1);
  });

  it('asks the producer to pause when any output chunk found the receiver full', () => {
    const out = receiver(1);
    const relay = new BodyRelay(out, (c) => [c, c], false);
    expect(relay.write(Buffer.from('x'))).toBe(false);
    let resumed = false;
    relay.onDrain(() => (resumed = true));
    out.drains[0]!();
    expect(resumed).toBe(true);
  });
});
