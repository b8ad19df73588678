/**
 * Domain names on the wire (RFC 1035 section 3.1, 4.1.4): labels, and compression pointers when
 * reading. Names are written uncompressed (`packDomainName` of the flow model), as mitmproxy does.
 */
import type { Buffer } from 'node:buffer';
import { DnsWireError, DnsWireErrorCodes as C } from './errors.js';

/** Largest name on the wire (RFC 1035 section 2.3.4). */
const MAX_NAME = 255;

/**
 * Read a possibly compressed name at `off` in the whole message `msg`. Pointers must point
 * backwards (so they cannot loop).
 * @returns the name (labels joined with dots, no trailing dot; '' for the root) and the offset after it.
 * @throws DnsWireError TRUNCATED or BAD_NAME.
 */
export function readName(msg: Buffer, off: number): { name: string; end: number } {
  const labels: string[] = [];
  let p = off;
  let end = -1;
  let wire = 1;
  let lowest = off;
  for (;;) {
    if (p >= msg.length)
      throw new DnsWireError(C.TRUNCATED, `the name at byte ${off} runs past the end of the message`, off);
    const len = msg[p]!;
    if (len === 0) {
      if (end < 0) end = p + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= msg.length)
        throw new DnsWireError(C.TRUNCATED, `the name at byte ${off} ends inside a compression pointer`, p);
      const target = ((len & 0x3f) << 8) | msg[p + 1]!;
      if (target >= lowest)
        throw new DnsWireError(
          C.BAD_NAME,
          `the name at byte ${off} has a compression pointer to byte ${target} that does not point backwards`,
          p,
        );
      if (end < 0) end = p + 2;
      lowest = target;
      p = target;
      continue;
    }
    if (kind !== 0)
      throw new DnsWireError(
        C.BAD_NAME,
        `the name at byte ${off} has a label of unknown type 0x${kind.toString(16)}`,
        p,
      );
    if (p + 1 + len > msg.length)
      throw new DnsWireError(C.TRUNCATED, `a label of the name at byte ${off} runs past the end of the message`, p);
    wire += len + 1;
    if (wire > MAX_NAME) throw new DnsWireError(C.BAD_NAME, `the name at byte ${off} is longer than 255 bytes`, p);
    labels.push(msg.toString('utf8', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return { name: labels.join('.'), end };
}
