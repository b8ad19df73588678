import net from 'node:net';
import { Server } from '../../flow/index.js';
import type { NextLayer } from '../../hooks/data.js';
import type { ClientConnection, TlsRoute } from '../connection.js';
import { hostSni } from '../connector.js';
import { UpstreamError } from '../errors.js';
import type { Target } from '../http/sides.js';
import { hostHeaderValue } from '../http1/outbound.js';
import { looksLikeTls } from '../tls/clienthello.js';
import { firstBytes } from '../relay.js';
import { dnsTcpMode } from './dns.js';
import type { UpstreamTls } from '../transport.js';

const EMPTY = Buffer.alloc(0);

/**
 * Reverse mode (`reverse:SCHEME://host[:port]`): every connection goes to one fixed server, as
 * mitmproxy's reverse proxy. `http`/`https`: HTTP, whatever the client speaks (plain HTTP or TLS,
 * sniffed from its first bytes: a client may speak plain HTTP to a `reverse:https` listener); each
 * request's host, port and scheme become the target's and its Host header is rewritten unless
 * `keep_host_header`. `tls`: TLS with the client, raw TCP (`tcp_*` hooks) over TLS to the server.
 * `tcp`: raw TCP. `dns`: DNS over TCP to that name server (UDP: `DnsUdpListener`). `next_layer`
 * may change the layer, as everywhere.
 */
export async function reverseMode(conn: ClientConnection): Promise<void> {
  const spec = conn.proxyMode.server!;
  if (spec.scheme === 'dns') return dnsTcpMode(conn);
  const cfg = conn.config;
  const target = { host: spec.host, port: spec.port };
  const isHttp = spec.scheme === 'http' || spec.scheme === 'https';
  const serverTls: UpstreamTls | null =
    spec.scheme === 'https' || spec.scheme === 'tls'
      ? { sni: net.isIP(spec.host) ? null : spec.host, alpn: spec.scheme === 'https' ? ['http/1.1'] : [] }
      : null;
  const connector = conn.connector;
  connector.server = new Server({ address: [spec.host, spec.port] });
  // keep_host_header: the server sees what the client asked for, SNI included.
  if (cfg.keepHostHeader) connector.sni = (req) => conn.client.sni ?? hostSni(req);
  // https: TCP only here; TLS follows the client's ClientHello with its ALPN (tls/intercept.ts),
  // so an HTTP/2-only target is offered h2 when the client speaks it.
  if (cfg.connectionStrategy === 'eager') await eagerConnect(conn, target, spec.scheme === 'https' ? null : serverTls);

  const first = await firstBytes(conn.socket, connector.transport);
  if (!first) return conn.destroy();
  const clientData = first.from === 'client' ? first.data : EMPTY;
  const serverData = first.from === 'server' ? first.data : EMPTY;
  const clientTls = first.from === 'client' && looksLikeTls(first.data);
  const nl: NextLayer = {
    context: conn,
    dataClient: () => clientData,
    dataServer: () => serverData,
    layer: clientTls && spec.scheme !== 'tcp' ? 'tls' : isHttp && first.from === 'client' ? 'http' : 'tcp',
    ignoreConnection: false,
  };
  const r = conn.hooks.trigger('next_layer', nl);
  if (r) await r;
  if (nl.ignoreConnection || nl.layer === 'passthrough')
    return conn.passthrough(conn.socket, clientData, target, serverData);
  const http: Target | null = isHttp
    ? {
        scheme: spec.scheme as 'http' | 'https',
        ...target,
        reverse: { hostHeader: cfg.keepHostHeader ? null : hostHeaderValue(spec.host, spec.port, spec.scheme) },
      }
    : null;
  switch (nl.layer) {
    case 'tls': {
      const route: TlsRoute = { server: serverTls, http };
      return conn.intercept(target, clientData, route);
    }
    case 'http':
      return conn.serveHttp(conn.stream, http ?? { scheme: 'http', ...target }, clientData);
    case 'tcp':
      return conn.tcp(conn.socket, clientData, serverData, target, serverTls);
    default:
      conn.log.info(`${conn.describe()}: next_layer chose no layer for this reverse-proxy connection; closing it.`);
      return conn.destroy();
  }
}

/**
 * Connect before the client's first bytes (`connection_strategy` eager, as mitmproxy), with TLS
 * for `https`/`tls` targets so the server's certificate shapes ours. A failure is kept: the
 * client's requests get a 502 naming it (a relay logs it and closes).
 */
async function eagerConnect(
  conn: ClientConnection,
  target: { host: string; port: number },
  serverTls: UpstreamTls | null,
): Promise<void> {
  const connector = conn.connector;
  try {
    await connector.connectTo(connector.server, serverTls);
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err;
    connector.tunnelError = { ...target, message: err.message };
    connector.close();
  }
}
