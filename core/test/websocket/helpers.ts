import { Buffer } from 'node:buffer';

/** Bytes from a hex string with optional spaces: `hex('81 05 48')`. */
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Split `b` into pieces of `size` bytes (the last may be shorter). */
export function pieces(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

/** Every way of cutting `b` in two. */
export function* splits(b: Buffer): Generator<[Buffer, Buffer]> {
  for (let i = 0; i <= b.length; i++) yield [b.subarray(0, i), b.subarray(i)];
}

/** The error `fn` throws, checked to be an instance of `type` (fails the test if nothing is thrown). */
export function thrown<E extends Error>(fn: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof type)) throw new Error(`expected a ${type.name}, got ${String(e)}`);
    return e;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}
