/**
 * A test-only socket adapter around the codec: the handshake over real sockets, then a
 * WebSocket endpoint (server or client role) or a relay between two real peers. The runtime's
 * own adapter comes with the connection seams; this one exists to show the codec interoperates.
 */
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import net from 'node:net';
import { WebSocketData, type WebSocketMessage } from '../../src/flow/index.js';
import { RequestParser, ResponseParser, type RequestHead, type ResponseHead } from '../../src/proxy/http1/index.js';
import {
  type DeflateParams,
  DeflateDirection,
  FrameReader,
  MessageAssembler,
  Opcode,
  RSV1,
  type RelayEnd,
  WebSocketRelay,
  acceptDeflateAnswer,
  acceptKey,
  checkUpgradeRequest,
  checkUpgradeResponse,
  closePayload,
  generateKey,
  parseClosePayload,
  rawHeaderSource,
  serializeFrame,
} from '../../src/proxy/websocket/index.js';

/** Read one HTTP/1 head with the codec's parser; resolves with the head and the bytes after it. */
function readHead<H>(
  socket: net.Socket,
  parser: (h: {
    onHead(head: H): void;
    onData(): void;
    onTrailers(): void;
    onEnd(): void;
    onError(e: Error): void;
  }) => { push(b: Buffer): void; takeRemaining(): Buffer; next?: unknown },
): Promise<{ head: H; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let head: H | null = null;
    const p = parser({
      onHead: (h) => void (head = h),
      onData: () => undefined,
      onTrailers: () => undefined,
      onEnd: () => {
        socket.off('data', onData);
        resolve({ head: head!, rest: p.takeRemaining() });
      },
      onError: reject,
    });
    const onData = (b: Buffer): void => p.push(b);
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

const requestHead = (s: net.Socket) => readHead<RequestHead>(s, (h) => new RequestParser(h));
function responseHead(s: net.Socket): Promise<{ head: ResponseHead; rest: Buffer }> {
  return readHead<ResponseHead>(s, (h) => {
    const p = new ResponseParser({ ...h, onInformational: () => undefined });
    p.next('GET');
    return p;
  });
}

/** A WebSocket endpoint on a connected socket, built from the codec. Answers pings and closes. */
export class Endpoint {
  private readonly reader: FrameReader;
  private readonly assembler = new MessageAssembler({ maxMessageSize: 1 << 30 });
  private readonly inflate: DeflateDirection | null;
  private readonly deflate: DeflateDirection | null;
  private readonly waiting: Array<(m: { opcode: number; content: Buffer }) => void> = [];
  private readonly queue: Array<{ opcode: number; content: Buffer }> = [];
  /** The close the peer sent, once it did. */
  peerClose: { code: number; reason: string } | null = null;
  onMessage: ((m: { opcode: number; content: Buffer }) => void) | null = null;
  readonly closed: Promise<void>;

  constructor(
    readonly socket: net.Socket,
    readonly isServer: boolean,
    readonly params: DeflateParams | null,
    leftover: Buffer,
  ) {
    this.reader = new FrameReader({ masked: isServer, allowedRsv: params ? RSV1 : 0, maxPayload: 1 << 30 });
    this.inflate = params ? new DeflateDirection(params, isServer) : null;
    this.deflate = params ? new DeflateDirection(params, !isServer) : null;
    socket.setNoDelay(true);
    socket.on('data', (b: Buffer) => this.receive(b));
    this.closed = once(socket, 'close').then(() => undefined);
    if (leftover.length) this.receive(leftover);
  }

  private receive(b: Buffer): void {
    this.reader.push(b);
    for (let f = this.reader.read(); f; f = this.reader.read()) {
      if (f.opcode === Opcode.PING) this.write(Opcode.PONG, f.payload, false);
      else if (f.opcode === Opcode.CLOSE) {
        this.peerClose = parseClosePayload(f.payload);
        // Echo the code (RFC 6455 section 5.5.1); a server then closes the TCP connection.
        this.write(Opcode.CLOSE, f.payload.length ? closePayload(this.peerClose.code) : Buffer.alloc(0), false);
        if (this.isServer) this.socket.end();
      } else if (f.opcode !== Opcode.PONG) {
        const m = this.assembler.add(f);
        if (!m) continue;
        const content = m.compressed ? this.inflate!.inflate(m.payloads, 1 << 30) : Buffer.concat(m.payloads);
        const msg = { opcode: m.opcode, content };
        if (this.onMessage) this.onMessage(msg);
        else if (this.waiting.length) this.waiting.shift()!(msg);
        else this.queue.push(msg);
      }
    }
  }

  private write(opcode: number, payload: Buffer, compress: boolean): void {
    const data = compress ? this.deflate!.deflate(payload) : payload;
    this.socket.write(serializeFrame({ opcode, payload: data, rsv: compress ? RSV1 : 0, mask: !this.isServer }));
  }

  /** Send one message (compressed when permessage-deflate was agreed). */
  send(content: Buffer | string, binary = typeof content !== 'string'): void {
    this.write(
      binary ? Opcode.BINARY : Opcode.TEXT,
      typeof content === 'string' ? Buffer.from(content) : content,
      this.deflate !== null,
    );
  }

  /** The next message received. */
  next(): Promise<{ opcode: number; content: Buffer }> {
    const m = this.queue.shift();
    return m ? Promise.resolve(m) : new Promise((r) => this.waiting.push(r));
  }

  close(code: number, reason = ''): void {
    this.write(Opcode.CLOSE, closePayload(code, reason), false);
  }
}

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** Agree to the client's first valid permessage-deflate offer (context takeover, 15 bits). */
function answerDeflate(offers: ReturnType<typeof checkUpgradeRequest>['deflateOffers']): string | null {
  const o = offers[0];
  if (!o) return null;
  const params = ['permessage-deflate'];
  if (o.serverNoContextTakeover) params.push('server_no_context_takeover');
  if (o.serverMaxWindowBits !== null) params.push(`server_max_window_bits=${o.serverMaxWindowBits}`);
  if (typeof o.clientMaxWindowBits === 'number') params.push(`client_max_window_bits=${o.clientMaxWindowBits}`);
  return params.join('; ');
}

/** A codec-built WebSocket echo server: each message goes back with the same type and content. */
export async function startEchoServer(options: {
  deflate: boolean;
}): Promise<{ port: number; server: net.Server; endpoints: Endpoint[] }> {
  const endpoints: Endpoint[] = [];
  const server = net.createServer(async (socket) => {
    const { head, rest } = await requestHead(socket);
    const req = checkUpgradeRequest(head.method, rawHeaderSource(head.headers));
    const ext = options.deflate ? answerDeflate(req.deflateOffers) : null;
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey(req.key)}\r\n` +
        (ext ? `Sec-WebSocket-Extensions: ${ext}\r\n` : '') +
        '\r\n',
    );
    const ep = new Endpoint(socket, true, ext ? acceptDeflateAnswer(ext) : null, rest);
    ep.onMessage = (m) => ep.send(m.content, m.opcode === Opcode.BINARY);
    endpoints.push(ep);
  });
  return { port: await listen(server), server, endpoints };
}

/** Connect a codec-built client to `ws://127.0.0.1:port/`, offering permessage-deflate if asked. */
export async function connectClient(port: number, options: { deflate: boolean }): Promise<Endpoint> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const key = generateKey();
  const request: Array<[string, string]> = [
    ['Host', `127.0.0.1:${port}`],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', '13'],
  ];
  if (options.deflate) request.push(['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits']);
  socket.write(`GET / HTTP/1.1\r\n${request.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  const { head, rest } = await responseHead(socket);
  const agreement = checkUpgradeResponse(rawHeaderSource(request), head.statusCode, rawHeaderSource(head.headers));
  return new Endpoint(socket, false, agreement.deflate, rest);
}

/** What a {@link startRelayProxy} connection recorded. */
export interface RelayedConnection {
  data: WebSocketData;
  ended: Promise<RelayEnd>;
  relay: WebSocketRelay;
}

/**
 * A reverse proxy for one WebSocket origin built from the codec: forwards the upgrade request
 * and the 101 answer as they are, then puts a {@link WebSocketRelay} between the two sockets.
 */
export async function startRelayProxy(
  targetPort: number,
  onMessage: ((m: WebSocketMessage) => void | Promise<void>) | null = null,
): Promise<{ port: number; server: net.Server; connections: RelayedConnection[] }> {
  const connections: RelayedConnection[] = [];
  const server = net.createServer(async (client) => {
    client.setNoDelay(true);
    const req = await requestHead(client);
    const upstream = net.connect(targetPort, '127.0.0.1');
    upstream.setNoDelay(true);
    const raw = Buffer.concat([
      Buffer.from(`${req.head.method} ${req.head.target} ${req.head.httpVersion}\r\n`),
      ...req.head.headers.flatMap(([k, v]) => [k, Buffer.from(': '), v, Buffer.from('\r\n')]),
      Buffer.from('\r\n'),
    ]);
    upstream.write(raw);
    const res = await responseHead(upstream);
    client.write(
      Buffer.concat([
        Buffer.from(`${res.head.httpVersion} ${res.head.statusCode} ${res.head.reason}\r\n`),
        ...res.head.headers.flatMap(([k, v]) => [k, Buffer.from(': '), v, Buffer.from('\r\n')]),
        Buffer.from('\r\n'),
      ]),
    );
    const agreement = checkUpgradeResponse(
      rawHeaderSource(req.head.headers),
      res.head.statusCode,
      rawHeaderSource(res.head.headers),
    );
    const data = new WebSocketData();
    let endRelay: (how: RelayEnd) => void = () => undefined;
    const ended = new Promise<RelayEnd>((r) => (endRelay = r));
    const relay = new WebSocketRelay({
      data,
      deflate: agreement.deflate,
      onMessage: onMessage ? () => onMessage(data.messages.at(-1)!) : null,
      send: (toClient, b) => (toClient ? client : upstream).write(b),
      onEnd: (how) => {
        endRelay(how);
        client.end();
        upstream.end();
      },
      onHold: (fromClient, held) => ((fromClient ? client : upstream)[held ? 'pause' : 'resume'] as () => void)(),
    });
    connections.push({ data, ended, relay });
    client.on('data', (b: Buffer) => relay.fromClient(b));
    upstream.on('data', (b: Buffer) => relay.fromServer(b));
    client.on('close', () => relay.connectionLost(true));
    upstream.on('close', () => relay.connectionLost(false));
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    if (req.rest.length) relay.fromClient(req.rest);
    if (res.rest.length) relay.fromServer(res.rest);
  });
  return { port: await listen(server), server, connections };
}
