// HTTP/2 clients and origins for the end-to-end tests: Node's http2 as a client through the
// proxy (CONNECT + TLS interception, or cleartext prior knowledge in regular mode), and
// node:http2 origins whose certificates the test CA signed.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { testCa } from './servers.js';

/** CONNECT `host:port` through the proxy, then TLS offering `alpn`, trusting `ca`. */
export function tunnel(
  proxyPort: number,
  host: string,
  port: number,
  ca: string | Buffer,
  alpn: string[] = ['h2'],
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: `${host}:${port}` });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) return reject(new Error(`CONNECT answered ${res.statusCode}`));
      const t = tls.connect({ socket, ca, servername: net.isIP(host) ? undefined : host, ALPNProtocols: alpn }, () =>
        resolve(t),
      );
      t.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** An HTTP/2 session to `https://host:port` through the proxy (CONNECT + TLS interception). */
export async function h2Through(
  proxyPort: number,
  host: string,
  port: number,
  ca: string | Buffer,
  settings?: http2.Settings,
): Promise<http2.ClientHttp2Session> {
  const socket = await tunnel(proxyPort, host, port, ca);
  if (socket.alpnProtocol !== 'h2') throw new Error(`the proxy negotiated ${String(socket.alpnProtocol)}, not h2`);
  return connected(
    http2.connect(`https://${host}:${port}`, { createConnection: () => socket, ...(settings ? { settings } : {}) }),
  );
}

/** Cleartext HTTP/2 with prior knowledge to the proxy (regular mode); requests name `origin` in `:scheme`/`:authority`. */
export function h2cThrough(proxyPort: number, origin: string): Promise<http2.ClientHttp2Session> {
  return connected(http2.connect(origin, { createConnection: () => net.connect(proxyPort, '127.0.0.1') }));
}

function connected(s: http2.ClientHttp2Session): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** What a client got for one request. */
export interface H2Result {
  status: number;
  headers: http2.IncomingHttpHeaders;
  /** Raw header pairs as received (`[name, value, name, value, ...]`). */
  rawHeaders: string[];
  body: Buffer;
  trailers: http2.IncomingHttpHeaders | null;
  /** 1xx heads before the final one. */
  interim: http2.IncomingHttpHeaders[];
  /** RST_STREAM code if the stream was reset, else 0. */
  rstCode: number;
}

/** Per session, the requests waiting for their stream to close: a session error rejects them all. */
const waiting = new WeakMap<http2.ClientHttp2Session, Set<(err: Error) => void>>();

/** The rejecters of `session`'s open requests, behind one 'error' listener per session (not one per request). */
function errorWaiters(session: http2.ClientHttp2Session): Set<(err: Error) => void> {
  let set = waiting.get(session);
  if (set === undefined) {
    const waiters = new Set<(err: Error) => void>();
    session.on('error', (err: Error) => {
      for (const reject of waiters) reject(err);
      waiters.clear();
    });
    waiting.set(session, waiters);
    set = waiters;
  }
  return set;
}

/** One request on a session; resolves when the stream closes (normally or reset). */
export function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer | string,
  opts: http2.ClientSessionRequestOptions = {},
): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined, ...opts });
    const r: H2Result = {
      status: 0,
      headers: {},
      rawHeaders: [],
      body: Buffer.alloc(0),
      trailers: null,
      interim: [],
      rstCode: 0,
    };
    const chunks: Buffer[] = [];
    stream.on('headers', (h) => r.interim.push(h));
    stream.on(
      'response',
      (h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, _flags: number, raw: unknown) => {
        r.status = Number(h[':status']);
        r.headers = h;
        r.rawHeaders = (raw as unknown as string[]) ?? [];
      },
    );
    stream.on('trailers', (t) => (r.trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    const waiters = errorWaiters(session);
    stream.on('close', () => {
      waiters.delete(reject);
      r.body = Buffer.concat(chunks);
      r.rstCode = stream.rstCode ?? 0;
      resolve(r);
    });
    waiters.add(reject);
    if (body !== undefined) stream.end(body);
  });
}

/** A node:http2 TLS origin (certificate from the test CA for localhost and 127.0.0.1). */
export async function h2Origin(
  onStream: (
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    session: http2.ServerHttp2Session,
  ) => void,
  options: Partial<http2.SecureServerOptions> = {},
): Promise<{
  server: http2.Http2SecureServer;
  port: number;
  caCertPath: string;
  sessions: http2.ServerHttp2Session[];
  close(): Promise<void>;
}> {
  const ca = await testCa();
  const server = http2.createSecureServer({ ...ca.issue('localhost', '127.0.0.1'), ...options });
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s) => sessions.push(s));
  server.on('stream', (stream, headers) => onStream(stream, headers, stream.session as http2.ServerHttp2Session));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    caCertPath: ca.caCertPath,
    sessions,
    close: () => {
      for (const s of sessions) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A cleartext node:http2 origin (h2c with prior knowledge only). */
export async function h2cOrigin(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http2.createServer();
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s) => sessions.push(s));
  server.on('stream', (stream, headers) => onStream(stream, headers));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sessions) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
