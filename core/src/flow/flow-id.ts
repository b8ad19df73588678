/**
 * Flow ids: UUIDs whose first 48 bits are the time they were made, in milliseconds (the layout
 * of RFC 9562's version 7; the rest is random). Any UUID reads as a flow id (mitmproxy makes
 * version 4 ones, and loaded flows keep theirs), but ids made in time order land beside each
 * other in a sorted index: the store's unique index on `id` then takes new flows at its end
 * instead of at a random leaf each, which costs a page write per flow per commit
 * (docs/flow-store.md).
 */
import { randomUUID } from 'node:crypto';

let lastMs = -1;
/** `tttttttt-tttt-7` for {@link lastMs}: made once per millisecond. */
let prefix = '';

/** A new flow id: a version 7 UUID (millisecond time, then random bits). */
export function newFlowId(now = Date.now()): string {
  if (now !== lastMs) {
    const t = now.toString(16).padStart(12, '0');
    prefix = `${t.slice(0, 8)}-${t.slice(8, 12)}-7`;
    lastMs = now;
  }
  // randomUUID: xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx; the time replaces the first 48 bits, 7 the version.
  return prefix + randomUUID().slice(15);
}
