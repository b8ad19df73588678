/**
 * Flow ids: UUIDs whose first 48 bits are the time they were made, in milliseconds (the layout
 * of RFC 9562's version 7; the rest is random). Any UUID reads as a flow id (mitmproxy makes
 * version 4 ones, and loaded flows keep theirs), but ids made in time order land beside each
 * other in a sorted index: the store's unique index on `id` then takes new flows at its end
 * instead of at a random leaf each, which costs a page write per flow per commit
 * (docs/flow-store.md).
 *
 * Made with the store on for every flow, so cheaply: the random bits come from a pool refilled
 * 4,000 bytes at a time, and the id's characters are written into one reused buffer and read
 * out as one string (`randomUUID().slice()` and a concatenation cost ~3x more on the proxy's
 * thread).
 */
import { randomFillSync } from 'node:crypto';

/** `0`-`9a`-`f` as character codes. */
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Random bytes per id: 74 random bits (12 + 62), in whole bytes. */
const PER_ID = 10;
const pool = Buffer.allocUnsafeSlow(4000);
let poolAt = pool.length;
/** The id being written: `tttttttt-tttt-7xxx-Vxxx-xxxxxxxxxxxx` (t: time, 7: version, V: variant 8-b). */
const id = Buffer.from('00000000-0000-7000-8000-000000000000', 'latin1');
let lastMs = -1;

/** A new flow id: a version 7 UUID (millisecond time `now`, then random bits). */
export function newFlowId(now = Date.now()): string {
  if (now !== lastMs) {
    lastMs = now;
    // 48 bits of milliseconds, 12 hex digits, at 0-7 and 9-12.
    let t = now;
    for (let i = 12; i >= 0; i--) {
      if (i === 8) continue;
      id[i] = HEX[t % 16]!;
      t = Math.floor(t / 16);
    }
  }
  if (poolAt + PER_ID > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const r = pool;
  const p = poolAt;
  poolAt += PER_ID;
  // rand_a: 12 bits after the version digit.
  id[15] = HEX[r[p]! >> 4]!;
  id[16] = HEX[r[p]! & 15]!;
  id[17] = HEX[r[p + 1]! & 15]!;
  // The variant (binary 10) and 62 bits of rand_b.
  id[19] = HEX[8 | (r[p + 1]! >> 6)]!;
  id[20] = HEX[r[p + 2]! >> 4]!;
  id[21] = HEX[r[p + 2]! & 15]!;
  id[22] = HEX[r[p + 9]! & 15]!;
  for (let i = 0; i < 6; i++) {
    const b = r[p + 3 + i]!;
    id[24 + 2 * i] = HEX[b >> 4]!;
    id[25 + 2 * i] = HEX[b & 15]!;
  }
  // Unused: bits 4-5 of the second byte and the high half of the last: 74 of the 80 bits drawn.
  return (id as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(0, 36);
}
