/**
 * Hop-by-hop header fields (RFC 9110 section 7.6.1): they describe one connection, so a proxy
 * removes them when it forwards a message (unless `keep_hop_by_hop_headers`, mitmproxy's
 * behaviour). Transfer-Encoding is the codec's: it frames each message it sends itself.
 */
import { Buffer } from 'node:buffer';
import { equalsLower, latin1, lower } from './chars.js';
import type { RawHeaders } from './types.js';

const CONNECTION = lower('connection');
const KEEP_ALIVE = lower('keep-alive');
const PROXY_CONNECTION = lower('proxy-connection');
const TE = lower('te');
const UPGRADE = lower('upgrade');
const PROXY_AUTHORIZATION = lower('proxy-authorization');
const TRAILERS = Buffer.from('trailers', 'latin1');

/** What may stay beside the fixed list. */
export interface HopByHopContext {
  /** A request that asks for a protocol switch (`Connection: upgrade` and `Upgrade`): both stay. */
  readonly request: boolean;
  /** The client's Proxy-Authorization goes on (upstream mode: it is meant for the next proxy). */
  readonly keepProxyAuthorization: boolean;
}

function is(name: Buffer, lit: Uint8Array): boolean {
  return name.length === lit.length && equalsLower(name, 0, lit);
}

/** The lower-case tokens of a Connection value. */
function tokens(value: Buffer): string[] {
  return latin1(value, 0, value.length)
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/**
 * `fields` without hop-by-hop headers: Connection and every field it names, Keep-Alive,
 * Proxy-Connection, TE (a TE that accepts `trailers` becomes `TE: trailers`), Upgrade (both
 * stay on a request that upgrades) and, unless kept, Proxy-Authorization. Returns `fields`
 * itself when there is nothing to remove (the common case costs one pass over the names).
 */
export function withoutHopByHop(fields: RawHeaders, ctx: HopByHopContext): RawHeaders {
  let named: string[] | null = null;
  let hit = false;
  let hasUpgrade = false;
  for (let i = 0; i < fields.length; i++) {
    const n = fields[i]![0];
    if (is(n, CONNECTION)) {
      hit = true;
      named = named === null ? tokens(fields[i]![1]) : named.concat(tokens(fields[i]![1]));
    } else if (is(n, UPGRADE)) {
      hit = true;
      hasUpgrade = true;
    } else if (
      is(n, KEEP_ALIVE) ||
      is(n, PROXY_CONNECTION) ||
      is(n, TE) ||
      (is(n, PROXY_AUTHORIZATION) && !ctx.keepProxyAuthorization)
    ) {
      hit = true;
    }
  }
  if (!hit) return fields;
  const upgrading = ctx.request && hasUpgrade && named !== null && named.includes('upgrade');
  // Tokens that name no field left to drop (Keep-Alive and Upgrade are handled above).
  const other = named === null ? [] : named.filter((t) => t !== 'close' && t !== 'keep-alive' && t !== 'upgrade');
  const out: RawHeaders = [];
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const n = f[0];
    if (is(n, CONNECTION) || is(n, UPGRADE)) {
      if (upgrading) out.push(f);
    } else if (is(n, TE)) {
      if (tokens(f[1]).some((t) => t === 'trailers' || t.startsWith('trailers;'))) out.push([n, TRAILERS]);
    } else if (
      is(n, KEEP_ALIVE) ||
      is(n, PROXY_CONNECTION) ||
      (is(n, PROXY_AUTHORIZATION) && !ctx.keepProxyAuthorization)
    ) {
      // dropped
    } else if (other.length === 0 || !other.includes(latin1(n, 0, n.length).toLowerCase())) {
      out.push(f);
    }
  }
  return out;
}

const CLOSE: [Buffer, Buffer] = [Buffer.from('Connection'), Buffer.from('close')];
const KEEP: [Buffer, Buffer] = [Buffer.from('Connection'), Buffer.from('keep-alive')];
const RESPONSE: HopByHopContext = { request: false, keepProxyAuthorization: true };

/**
 * A response's fields as the proxy sends them to its client: the server's hop-by-hop headers
 * removed, then the proxy's own `Connection` (close when it will close the connection after this
 * response; keep-alive for an HTTP/1.0 client it keeps).
 */
export function responseFieldsForClient(fields: RawHeaders, keepAlive: boolean, http10: boolean): RawHeaders {
  const out = withoutHopByHop(fields, RESPONSE);
  if (keepAlive && !http10) return out;
  return [...out, keepAlive ? KEEP : CLOSE];
}
