import type { NextLayer } from '../../hooks/data.js';
import type { ClientConnection } from '../connection.js';
import { firstBytes } from '../relay.js';

/**
 * Regular mode (an explicit HTTP proxy): the first layer is HTTP/1 with requests in absolute
 * form and CONNECT for tunnels. As mitmproxy, `next_layer` is asked for it too (an addon may look
 * at the first bytes, or drop the connection).
 */
export async function regularMode(conn: ClientConnection): Promise<void> {
  let initial: Buffer | null = null;
  if (conn.hooks.has('next_layer')) {
    const first = await firstBytes(conn.socket, null);
    if (!first) return conn.destroy();
    initial = first.data;
    const nl: NextLayer = { context: conn, dataClient: () => first.data, dataServer: () => Buffer.alloc(0), layer: 'http', ignoreConnection: false };
    const r = conn.hooks.trigger('next_layer', nl);
    if (r) await r;
    if (nl.layer !== 'http' || nl.ignoreConnection) {
      conn.log.info(`${conn.describe()}: next_layer chose ${nl.ignoreConnection ? 'to ignore the connection' : `layer ${nl.layer}`}, but a regular-mode connection has no target before its first request; closing it.`);
      return conn.destroy();
    }
  }
  conn.serveHttp1(conn.socket, null, initial);
}
