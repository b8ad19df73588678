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
