/**
 * The HPACK static table (RFC 7541 Appendix A).
 * @internal
 */
import { Buffer } from 'node:buffer';
import { HeaderEntry } from './entry.js';

// prettier-ignore
const PAIRS: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

const names = new Map<string, Buffer>();
const EMPTY = Buffer.alloc(0);

/**
 * Static entries by HPACK index: `STATIC_TABLE[1]` is `:authority`; index 0 is unused. Entries
 * with the same name share one name Buffer.
 */
export const STATIC_TABLE: readonly HeaderEntry[] = [
  new HeaderEntry(EMPTY, EMPTY),
  ...PAIRS.map(([n, v]) => {
    let name = names.get(n);
    if (name === undefined) names.set(n, (name = Buffer.from(n, 'latin1')));
    const e = new HeaderEntry(name, v === '' ? EMPTY : Buffer.from(v, 'latin1'));
    e.checked = true;
    return e;
  }),
];

/** Number of static entries (61). */
export const STATIC_COUNT = PAIRS.length;

/** The static table's name Buffer for `name`, if the table has that name. */
export function staticName(name: string): Buffer | undefined {
  return names.get(name);
}
