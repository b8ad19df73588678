import type { ClientConnection } from '../connection.js';
import { viaOf } from '../upstream-proxy.js';
import { regularMode } from './regular.js';

/**
 * Upstream mode (`upstream:http[s]://proxy:port`): a regular HTTP proxy towards the client whose
 * server connections all go through another proxy (plain HTTP in absolute form, HTTPS and
 * tunnels with CONNECT; `upstream_auth` adds the credentials). A flow may still choose another
 * upstream, or none, with `setUpstreamProxy`.
 */
export function upstreamMode(conn: ClientConnection): Promise<void> {
  conn.connector.defaultVia = viaOf(conn.proxyMode.server!);
  return regularMode(conn);
}
