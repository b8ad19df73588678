/**
 * Server connections through an upstream HTTP proxy (`Server.via`, set by upstream mode for
 * every server, or per flow by an addon): TLS to the proxy itself for `https://` proxies, then,
 * for a tunnel, `CONNECT host:port` with the `http_connect_upstream` hook (where
 * `upstream_auth` adds its `Proxy-Authorization`). Plain HTTP requests skip the CONNECT: they go
 * to the proxy in absolute form on the same connection (see `Http1ServerSide`).
 */
import net from 'node:net';
import tls from 'node:tls';
import { Headers, HTTPFlow, Request, Server } from '../flow/index.js';
import type { Address } from '../flow/state.js';
import { UpstreamError } from './errors.js';
import { ResponseParser } from './http1/response-parser.js';
import { serializeRequestHead } from './http1/serialize.js';
import type { ResponseHead } from './http1/types.js';
import { parseServerSpec, type ServerSpec } from './modes.js';
import type { TransportEnv } from './transport.js';

/** An upstream proxy as the flow model stores it (`Server.via`): `[scheme, [host, port]]`. */
export type Via = [scheme: string, address: Address];

/** The `via` of an upstream proxy spec (`upstream:` mode data, or what an addon gives). */
export function viaOf(spec: ServerSpec): Via {
  return [spec.scheme, [spec.host, spec.port]];
}

/** Do two connections go through the same upstream proxy (or both direct)? */
export function sameVia(a: Via | null, b: Via | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return a[0] === b[0] && a[1][0] === b[1][0] && a[1][1] === b[1][1];
}

/** `host:port` of an address, IPv6 in brackets. */
export function formatAddress([host, port]: Address): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Route a flow through an upstream HTTP proxy, or (with null) directly, from a `requestheaders`
 * or `request` hook; in upstream mode null bypasses the mode's proxy for this flow. `proxy` is
 * `http://host:port`, `https://host:port` (TLS to the proxy), or a `via` tuple. When the flow's
 * server connection is already open (a reused connection) and goes elsewhere, the flow gets a new
 * `Server`; the connector opens it when the request goes out.
 * @throws Error naming the bad spec.
 */
export function setUpstreamProxy(flow: HTTPFlow, proxy: string | Via | null): void {
  let via: Via | null;
  if (proxy === null) via = null;
  else if (typeof proxy === 'string') {
    try {
      via = viaOf(parseServerSpec(proxy, 'http', ['http', 'https']));
    } catch (err) {
      throw new Error(
        `Invalid upstream proxy ${JSON.stringify(proxy)}: ${(err as Error).message} (expected http://host:port or https://host:port).`,
      );
    }
  } else via = [proxy[0], [proxy[1][0], proxy[1][1]]];
  const server = flow.serverConn;
  if (sameVia(server.via, via)) return;
  if (server.timestampStart === null) {
    server.via = via;
    return;
  }
  // The flow's server is an open (reused) connection: a new one replaces it for this flow.
  flow.serverConn = new Server({ address: [flow.request.host, flow.request.port], via });
}

const CONNECT_TIMEOUT_MS = 30_000;

/**
 * Finish a connection to the proxy of `server.via` (TCP is open on `socket`): TLS for an
 * `https://` proxy, then for a tunnel the CONNECT exchange. Returns the stream to use and the
 * bytes the proxy sent past its `200` (a server that speaks first).
 * @throws UpstreamError naming the proxy and what it answered.
 */
export async function proxyHandshake(
  socket: net.Socket,
  server: Server,
  env: TransportEnv,
  tunnel: boolean,
): Promise<{ socket: net.Socket; rest: Buffer }> {
  const [scheme, proxy] = server.via!;
  const where = formatAddress(proxy);
  let s: net.Socket = socket;
  if (scheme === 'https') s = await tlsToProxy(socket, proxy, env, where);
  if (!tunnel) return { socket: s, rest: Buffer.alloc(0) };
  const [host, port] = server.address!;
  const authority = formatAddress([host, port]);
  const flow = new HTTPFlow(env.client, server);
  const headers = new Headers();
  if (env.config.connectSendHostHeader) headers.set('Host', authority);
  const now = Date.now() / 1000;
  flow.request = new Request({
    host,
    port,
    method: 'CONNECT',
    scheme: '',
    authority,
    path: '',
    httpVersion: 'HTTP/1.1',
    headers,
    content: Buffer.alloc(0),
    timestampStart: now,
    timestampEnd: now,
  });
  const r = env.hooks.triggerFlow('http_connect_upstream', flow);
  if (r) await r;
  const req = flow.request;
  s.write(
    serializeRequestHead({
      method: 'CONNECT',
      target: req.authority || authority,
      httpVersion: 'HTTP/1.1',
      headers: req.headers.fields,
    }),
  );
  const { head, rest } = await connectResponse(s, where);
  if (head.statusCode < 200 || head.statusCode > 299) {
    s.destroy();
    throw new UpstreamError(`Upstream proxy ${where} refused HTTP CONNECT request: ${head.statusCode} ${head.reason}`);
  }
  return { socket: s, rest };
}

/** TLS with the proxy itself (`https://` proxies), verified like a server; no TLS hooks (they are about the server). */
function tlsToProxy(socket: net.Socket, [host]: Address, env: TransportEnv, where: string): Promise<tls.TLSSocket> {
  const cfg = env.config;
  return new Promise((resolve, reject) => {
    const t = tls.connect({
      socket,
      ...(net.isIP(host) ? {} : { servername: host }),
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: !cfg.sslInsecure,
      secureContext: cfg.upstreamContext(),
    });
    t.once('secureConnect', () => {
      t.removeAllListeners('error');
      resolve(t);
    });
    t.once('error', (err) => {
      socket.destroy();
      reject(new UpstreamError(`TLS handshake with upstream proxy ${where} failed: ${err.message}`));
    });
  });
}

/** Read the proxy's answer to CONNECT (the head; its body, if any, is not needed). */
function connectResponse(s: net.Socket, where: string): Promise<{ head: ResponseHead; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, v?: { head: ResponseHead; rest: Buffer }): void => {
      clearTimeout(timer);
      s.removeListener('data', onData);
      s.removeListener('close', onClose);
      s.removeListener('error', onError);
      s.pause();
      if (err) {
        s.destroy();
        reject(err);
      } else resolve(v!);
    };
    const parser = new ResponseParser(
      {
        onHead: (head) => {
          parser.pause();
          done(null, {
            head,
            rest: head.statusCode >= 200 && head.statusCode < 300 ? parser.takeRemaining() : Buffer.alloc(0),
          });
        },
        onInformational: () => undefined,
        onData: () => undefined,
        onTrailers: () => undefined,
        onEnd: () => undefined,
        onError: (e) =>
          done(new UpstreamError(`Upstream proxy ${where} sent a malformed answer to CONNECT: ${e.message}`)),
      },
      { strict: false },
    );
    parser.next('CONNECT');
    const onData = (chunk: Buffer): void => parser.push(chunk);
    const onClose = (): void =>
      done(new UpstreamError(`Upstream proxy ${where} closed the connection without answering CONNECT.`));
    const onError = (err: Error): void => done(new UpstreamError(`Upstream proxy ${where}: ${err.message}`));
    const timer = setTimeout(
      () =>
        done(
          new UpstreamError(`Upstream proxy ${where} did not answer CONNECT within ${CONNECT_TIMEOUT_MS / 1000} s.`),
        ),
      CONNECT_TIMEOUT_MS,
    );
    s.on('data', onData);
    s.once('close', onClose);
    s.once('error', onError);
    s.resume();
  });
}
