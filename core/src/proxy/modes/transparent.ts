import { networkInterfaces } from 'node:os';
import type { ClientConnection } from '../connection.js';
import { looksLikeHttp1 } from '../layers.js';
import { getHeader } from '../http1/raw-headers.js';
import { firstBytes } from '../relay.js';
import { ClientHelloError, parseClientHello } from '../tls/clienthello.js';
import { conntrackOriginal, plainIp } from './conntrack.js';

type Address = { host: string; port: number };

/**
 * Transparent mode (Linux): the client connected to some server and the kernel steered the
 * connection here. Its original destination is the accepted socket's local address (TPROXY,
 * `IP_TRANSPARENT` on the listener), or the conntrack entry of a REDIRECT/DNAT rule. Then it is a
 * tunnel like after CONNECT (TLS interception, HTTP, TCP). When neither knows the destination,
 * the TLS SNI or the HTTP Host header names it, if the client sent one.
 */
export async function transparentMode(conn: ClientConnection): Promise<void> {
  const socket = conn.socket;
  const local = { host: plainIp(socket.localAddress ?? ''), port: socket.localPort ?? 0 };
  let dest: Address | null = null;
  let why = '';
  if (!isLocalAddress(local.host)) dest = local;
  else {
    const found = await conntrackOriginal({ host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
    if (found.dest && (found.dest.host !== local.host || found.dest.port !== local.port)) dest = found.dest;
    else
      why =
        found.error ??
        `no TPROXY or REDIRECT rule sent it here (it was addressed to this proxy, ${local.host}:${local.port})`;
  }
  let initial: Buffer = Buffer.alloc(0);
  if (dest === null) {
    const first = await firstBytes(socket, null);
    if (!first) return conn.destroy();
    initial = first.data;
    const hint = destinationHint(initial);
    if (hint === null || (isLocalAddress(hint.host) && hint.port === local.port)) {
      conn.log.warn(
        `${conn.describe()}: transparent mode cannot tell where this connection was going: ${why}; and it names no other host (TLS SNI or HTTP Host). Closing it. See docs/modes.md for the nftables rules.`,
      );
      return conn.destroy();
    }
    conn.log.info(
      `${conn.describe()}: transparent mode: ${why}; going to ${hint.host}:${hint.port} as its ${looksLikeHttp1(initial) ? 'Host header' : 'TLS SNI'} says.`,
    );
    dest = hint;
  }
  conn.connector.server = conn.connector.newServer(dest.host, dest.port);
  await conn.tunnel(dest, initial);
}

/** The host (and port) a TLS ClientHello's SNI or an HTTP/1 request's Host header names, or null. */
export function destinationHint(data: Buffer): Address | null {
  if (looksLikeHttp1(data)) {
    const end = data.indexOf('\r\n\r\n');
    const head = data.toString('latin1', 0, end < 0 ? data.length : end);
    const fields = head
      .split('\r\n')
      .slice(1)
      .map((l): [Buffer, Buffer] => {
        const c = l.indexOf(':');
        return [Buffer.from(l.slice(0, c), 'latin1'), Buffer.from(l.slice(c + 1).trim(), 'latin1')];
      });
    const host = getHeader(fields, 'host');
    const m = host ? /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host) : null;
    return m ? { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 80 } : null;
  }
  try {
    const sni = parseClientHello(data)?.sni;
    return sni ? { host: sni, port: 443 } : null;
  } catch (err) {
    if (err instanceof ClientHelloError) return null;
    throw err;
  }
}

let localCache: { at: number; set: Set<string> } | null = null;

/** Is this one of this machine's addresses (looked up at most once a second)? */
function isLocalAddress(ip: string): boolean {
  const now = Date.now();
  if (localCache === null || now - localCache.at > 1000) {
    const set = new Set<string>();
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) set.add(plainIp(a.address));
    localCache = { at: now, set };
  }
  return localCache.set.has(ip) || ip.startsWith('127.') || ip === '::1';
}
