/**
 * A test-only socket adapter for the HTTP/2 codec: a tiny server and client that run an
 * {@link Http2Connection} on a real (TLS or plain) socket, so the codec can face curl, nghttp,
 * nghttpd and node:http2. Not the runtime's session: no flows, no hooks, bodies buffered.
 */
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import {
  Http2Connection,
  type Http2Error,
  type Http2Handler,
  type Http2Head,
  type Http2Options,
  type Http2RequestInit,
  type RawHeaders,
  type ResetCause,
} from '../../src/proxy/http2/index.js';
import { type Pairs, str } from './helpers.js';

type Socket = net.Socket | tls.TLSSocket;

/** Feeds a socket's bytes to a connection; the connection's bytes to the socket. */
function wire(conn: Http2Connection, socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('data', (c: Buffer) => conn.receive(c));
  socket.on('close', () => conn.close());
  socket.on('error', () => undefined);
}

/** What a codec server received on one stream. */
export interface Received {
  id: number;
  head: Http2Head;
  body: Buffer;
  trailers: Pairs;
  conn: Http2Connection;
}

/** Events a codec server saw, for assertions. */
export interface ServerLog {
  errors: Http2Error[];
  streamErrors: Http2Error[];
  resets: Array<{ id: number; code: number; cause: ResetCause }>;
  received: Received[];
}

class ServerHandler implements Http2Handler {
  conn!: Http2Connection;
  private readonly open = new Map<number, { head: Http2Head; body: Buffer[]; trailers: Pairs }>();
  constructor(
    private readonly socket: Socket,
    private readonly log: ServerLog,
    private readonly onRequest: (r: Received) => void,
    private readonly onHead: ((id: number, head: Http2Head, conn: Http2Connection) => void) | undefined,
  ) {}
  write(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }
  onHeaders(id: number, head: Http2Head, end: boolean): void {
    this.open.set(id, { head, body: [], trailers: [] });
    this.onHead?.(id, head, this.conn);
    if (end) this.done(id);
  }
  onData(id: number, chunk: Buffer, end: boolean): void {
    const s = this.open.get(id);
    if (s === undefined) return;
    s.body.push(Buffer.from(chunk));
    this.conn.consume(id, chunk.length);
    if (end) this.done(id);
  }
  onTrailers(id: number, trailers: RawHeaders): void {
    const s = this.open.get(id);
    if (s === undefined) return;
    s.trailers = str(trailers);
    this.done(id);
  }
  onReset(id: number, code: number, cause: ResetCause): void {
    this.log.resets.push({ id, code, cause });
    this.open.delete(id);
  }
  onStreamError(e: Http2Error): void {
    this.log.streamErrors.push(e);
  }
  onStreamClose(id: number): void {
    this.open.delete(id);
  }
  onError(e: Http2Error): void {
    this.log.errors.push(e);
    this.socket.end();
  }
  private done(id: number): void {
    const s = this.open.get(id)!;
    const r = { id, head: s.head, body: Buffer.concat(s.body), trailers: s.trailers, conn: this.conn };
    this.log.received.push(r);
    this.onRequest(r);
  }
}

/**
 * A server answering every request with `onRequest` (which calls `r.conn.sendHeaders` etc.),
 * over TLS with ALPN h2 when `secureContext` is given, else h2c with prior knowledge.
 */
export async function codecServer(
  onRequest: (r: Received) => void,
  opts: {
    secureContext?: tls.SecureContext;
    options?: Http2Options;
    onHead?: (id: number, head: Http2Head, conn: Http2Connection) => void;
  } = {},
): Promise<{ port: number; log: ServerLog; conns: Http2Connection[]; close: () => Promise<void> }> {
  const log: ServerLog = { errors: [], streamErrors: [], resets: [], received: [] };
  const conns: Http2Connection[] = [];
  const sockets = new Set<net.Socket>();
  const start = (socket: Socket): void => {
    const h = new ServerHandler(socket, log, onRequest, opts.onHead);
    const conn = new Http2Connection('server', h, opts.options);
    h.conn = conn;
    conns.push(conn);
    wire(conn, socket);
    conn.start();
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (!opts.secureContext) return start(socket);
    const t = new tls.TLSSocket(socket, { isServer: true, secureContext: opts.secureContext, ALPNProtocols: ['h2'] });
    t.on('error', () => socket.destroy());
    t.once('secure', () => (t.alpnProtocol === 'h2' ? start(t) : t.destroy()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    log,
    conns,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** What a codec client got for one request. */
export interface Response {
  id: number;
  head: Http2Head | null;
  informational: Http2Head[];
  body: Buffer;
  trailers: Pairs;
  reset: { code: number; cause: ResetCause } | null;
  error: Http2Error | null;
}

interface Pending {
  res: Response;
  resolve: (r: Response) => void;
  chunks: Buffer[];
}

class ClientHandler implements Http2Handler {
  conn!: Http2Connection;
  readonly streams = new Map<number, Pending>();
  readonly waiting: Array<() => void> = [];
  goaway: { last: number; code: number } | null = null;
  error: Http2Error | null = null;
  /** When false, DATA is not consumed until `consumeAll()` (a slow reader). */
  autoConsume = true;
  unconsumed = new Map<number, number>();
  constructor(private readonly socket: Socket) {}
  write(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }
  onHeaders(id: number, head: Http2Head, end: boolean): void {
    const p = this.streams.get(id);
    if (!p) return;
    p.res.head = head;
    if (end) this.finish(id);
  }
  onInformational(id: number, head: Http2Head): void {
    this.streams.get(id)?.res.informational.push(head);
  }
  onData(id: number, chunk: Buffer, end: boolean): void {
    const p = this.streams.get(id);
    if (!p) return;
    p.chunks.push(Buffer.from(chunk));
    if (this.autoConsume) this.conn.consume(id, chunk.length);
    else this.unconsumed.set(id, (this.unconsumed.get(id) ?? 0) + chunk.length);
    if (end) this.finish(id);
  }
  onTrailers(id: number, t: RawHeaders): void {
    const p = this.streams.get(id);
    if (!p) return;
    p.res.trailers = str(t);
    this.finish(id);
  }
  onReset(id: number, code: number, cause: ResetCause): void {
    const p = this.streams.get(id);
    if (!p) return;
    p.res.reset = { code, cause };
    this.finish(id);
  }
  onStreamError(e: Http2Error): void {
    const p = this.streams.get(e.streamId);
    if (!p) return;
    p.res.error = e;
    this.finish(e.streamId);
  }
  onStreamClose(): void {
    this.wake();
  }
  settingsSeen = false;
  readonly settingsWaiters: Array<() => void> = [];
  onSettings(): void {
    this.settingsSeen = true;
    for (const f of this.settingsWaiters.splice(0)) f();
    this.wake();
  }
  readonly pingWaiters: Array<() => void> = [];
  onPingAck(): void {
    this.pingWaiters.shift()?.();
  }
  onGoaway(last: number, code: number): void {
    this.goaway = { last, code };
  }
  onError(e: Http2Error): void {
    this.error = e;
    this.socket.end();
  }
  private finish(id: number): void {
    const p = this.streams.get(id);
    if (!p) return;
    this.streams.delete(id);
    p.res.body = Buffer.concat(p.chunks);
    p.resolve(p.res);
  }
  wake(): void {
    while (this.waiting.length > 0 && this.conn.canOpenStream()) this.waiting.shift()!();
  }
}

/** A codec client connection (TLS with ALPN h2 when `tls` is set, else h2c prior knowledge). */
export async function codecClient(port: number, opts: { tls?: boolean; options?: Http2Options } = {}) {
  const socket: Socket = opts.tls
    ? tls.connect({
        host: '127.0.0.1',
        port,
        ALPNProtocols: ['h2'],
        rejectUnauthorized: false,
        servername: 'localhost',
      })
    : net.connect(port, '127.0.0.1');
  await once(socket, opts.tls ? 'secureConnect' : 'connect');
  if (opts.tls) {
    const alpn = (socket as tls.TLSSocket).alpnProtocol;
    if (alpn !== 'h2') throw new Error(`the server did not negotiate h2 (ALPN ${String(alpn)})`);
  }
  const h = new ClientHandler(socket);
  const conn = new Http2Connection('client', h, opts.options);
  h.conn = conn;
  wire(conn, socket);
  conn.start();
  // the server's SETTINGS first: its stream limit applies from the first request on
  if (!h.settingsSeen) await new Promise<void>((resolve) => h.settingsWaiters.push(resolve));
  /**
   * Sends a request (queued while the server's stream limit is reached) and resolves with the
   * whole response. `body` goes out in one sendData; `trailers` after it.
   */
  const request = (
    init: Http2RequestInit,
    body?: Buffer,
    trailers?: RawHeaders,
    onOpen?: (id: number) => void,
  ): Promise<Response> =>
    new Promise((resolve) => {
      const go = (): void => {
        const end = body === undefined && trailers === undefined;
        const id = conn.openStream(init, end);
        const res: Response = {
          id,
          head: null,
          informational: [],
          body: Buffer.alloc(0),
          trailers: [],
          reset: null,
          error: null,
        };
        h.streams.set(id, { res, resolve, chunks: [] });
        if (body !== undefined) conn.sendData(id, body, trailers === undefined);
        if (trailers !== undefined) conn.sendTrailers(id, trailers);
        onOpen?.(id);
      };
      if (conn.canOpenStream()) go();
      else h.waiting.push(go);
    });
  return {
    conn,
    handler: h,
    request,
    /** A PING round trip: everything the peer sent before its answer has arrived. */
    ping: (): Promise<void> =>
      new Promise((resolve) => {
        h.pingWaiters.push(resolve);
        conn.ping();
      }),
    /** Consumes everything received so far (slow-reader tests). */
    consumeAll: (): void => {
      for (const [id, n] of h.unconsumed) conn.consume(id, n);
      h.unconsumed.clear();
    },
    close: (): void => {
      socket.destroy();
    },
  };
}

/** A request init from a URL path, for the codec client. */
export function request(method: string, path: string, headers: Pairs = [], authority = 'localhost'): Http2RequestInit {
  return {
    method,
    scheme: 'https',
    authority,
    path,
    headers: headers.map(([n, v]) => [Buffer.from(n), Buffer.from(v)]),
  };
}
