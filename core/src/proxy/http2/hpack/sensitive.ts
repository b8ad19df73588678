/**
 * Values the peer sent as never-indexed literals (RFC 7541 section 6.2.3): the decoder marks the
 * value Buffer, and the encoder keeps such a value never-indexed when it is forwarded unchanged
 * (same Buffer object), as section 7.1.3 asks of intermediaries.
 * @internal
 */
import type { Buffer } from 'node:buffer';

const marked = new WeakSet<Buffer>();
let used = false;

/** Marks `value` as never-indexed. */
export function markNeverIndexed(value: Buffer): void {
  used = true;
  marked.add(value);
}

/** Whether `value` was received as a never-indexed literal (cheap when none ever was). */
export function isNeverIndexed(value: Buffer): boolean {
  return used && marked.has(value);
}
