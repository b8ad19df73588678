import { FlowError, Headers, HTTPFlow, Request, Response, Server } from '../flow/index.js';
import type { HookTable } from '../hooks/dispatcher.js';
import type { ClientConnection } from './connection.js';
import { UpstreamError } from './errors.js';
import { failFlow } from './http/exchange.js';
import { serializeResponseHead, type RequestHead } from './http1/index.js';

/** What CONNECT handling needs from the HTTP session that received the request. */
export interface TunnelRequest {
  /** Write bytes to the client (the 200, or an addon's refusal). */
  respond(data: Buffer): void;
  /** Answer with an error page and close. */
  fail(status: number, message: string): void;
  close(): void;
  /** The stream leaves HTTP: the bytes the client sent past the CONNECT head. */
  takeOver(): Buffer;
}

const CONNECTION_ESTABLISHED = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n', 'latin1');

/**
 * CONNECT: an HTTPFlow with `http_connect` (an addon may refuse with a response, kill, or change
 * the target), an eager server connection (`connection_strategy`, and always for ignored hosts),
 * `200 Connection established`, `http_connected`, then the tunnel's own layers.
 */
export async function handleConnect(conn: ClientConnection, req: TunnelRequest, head: RequestHead): Promise<void> {
  const table = conn.hooks;
  const now = Date.now() / 1000;
  const server = conn.connector.newServer(head.host, head.port);
  const flow = new HTTPFlow(conn.client, server, true);
  flow.request = new Request({
    host: head.host,
    port: head.port,
    method: head.method,
    scheme: '',
    authority: head.authority,
    path: '',
    httpVersion: head.httpVersion,
    headers: Headers.fromRaw(head.headers),
    content: Buffer.alloc(0),
    timestampStart: now,
    timestampEnd: now,
  });
  conn.track(flow);
  await triggerFlow(table, 'http_connect', flow);
  if (flow.error?.msg === FlowError.KILLED_MESSAGE) return conn.destroy();
  const refusal = flow.response;
  if (refusal && (refusal.statusCode < 200 || refusal.statusCode >= 300)) {
    const body = refusal.rawContent ?? Buffer.alloc(0);
    req.respond(
      Buffer.concat([
        serializeResponseHead({
          httpVersion: 'HTTP/1.1',
          statusCode: refusal.statusCode,
          reason: refusal.reason,
          headers: refusal.headers.fields,
        }),
        body,
      ]),
    );
    req.close();
    return;
  }
  const target = { host: flow.request.host, port: flow.request.port };
  if (target.host !== head.host || target.port !== head.port)
    flow.serverConn = new Server({ address: [target.host, target.port], via: flow.serverConn.via });
  conn.connector.server = flow.serverConn;
  if (conn.config.connectionStrategy === 'eager' || conn.ignored(target.host, target.port)) {
    try {
      await conn.connector.connectTo(flow.serverConn, null);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      flow.error = new FlowError(err.message);
      await triggerFlow(table, 'http_connect_error', flow);
      await failFlow(conn, table, flow, err.message);
      req.fail(502, err.message);
      return;
    }
  }
  flow.response = new Response({
    httpVersion: 'HTTP/1.1',
    statusCode: 200,
    reason: 'Connection established',
    headers: new Headers(),
    content: Buffer.alloc(0),
    timestampStart: now,
    timestampEnd: now,
  });
  req.respond(CONNECTION_ESTABLISHED);
  await triggerFlow(table, 'http_connected', flow);
  await conn.tunnel(target, req.takeOver());
}

async function triggerFlow(
  table: HookTable,
  name: 'http_connect' | 'http_connected' | 'http_connect_error',
  flow: HTTPFlow,
): Promise<void> {
  const r = table.triggerFlow(name, flow);
  if (r) await r;
}
