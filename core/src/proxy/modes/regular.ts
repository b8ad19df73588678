import type { NextLayer } from '../../hooks/data.js';
import type { ClientConnection } from '../connection.js';
import { headTimeouts } from '../http1/head-timeout.js';
import { firstBytes } from '../relay.js';
import { looksLikeTls } from '../tls/clienthello.js';
import { acceptProxyTls } from '../tls/intercept.js';

/**
 * Regular mode (an explicit HTTP proxy): the first layer is HTTP/1 with requests in absolute
 * form and CONNECT for tunnels, or cleartext HTTP/2 with prior knowledge (each request names its
 * destination in `:scheme` and `:authority`), in the clear or, when the client opens with a TLS
 * ClientHello (`HTTPS_PROXY=https://...`), inside TLS to the proxy itself (as mitmproxy). As
 * mitmproxy, `next_layer` is asked for it too (an addon may look at the first bytes, or drop the
 * connection).
 */
export async function regularMode(conn: ClientConnection): Promise<void> {
  // request_head_timeout covers the wait for the first bytes too (a client that never sends).
  const timeout = conn.config.requestHeadTimeout;
  const wait = timeout > 0 ? headTimeouts.expectWithin(conn.socket, timeout * 1000, () => conn.destroy()) : null;
  const first = await firstBytes(conn.socket, null);
  wait?.done();
  if (!first) return conn.destroy();
  let initial: Buffer | null = first.data;
  if (looksLikeTls(initial)) {
    const tls = await acceptProxyTls(conn, initial);
    if (!tls) return conn.destroy();
    conn.stream = tls;
    initial = null;
  }
  if (conn.hooks.has('next_layer')) {
    if (initial === null) {
      const inner = await firstBytes(conn.stream, null);
      if (!inner) return conn.destroy();
      initial = inner.data;
    }
    const data = initial;
    const nl: NextLayer = {
      context: conn,
      dataClient: () => data,
      dataServer: () => Buffer.alloc(0),
      layer: 'http',
      ignoreConnection: false,
    };
    const r = conn.hooks.trigger('next_layer', nl);
    if (r) await r;
    if (nl.layer !== 'http' || nl.ignoreConnection) {
      conn.log.info(
        `${conn.describe()}: next_layer chose ${nl.ignoreConnection ? 'to ignore the connection' : `layer ${nl.layer}`}, but a regular-mode connection has no target before its first request; closing it.`,
      );
      return conn.destroy();
    }
  }
  return conn.serveHttp(conn.stream, null, initial);
}
