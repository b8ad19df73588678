// Raw-socket WebSocket peers through the running proxy: every byte on the wire is the test's.
// Frames nobody changed arrive exactly as sent (fragment boundaries, masking keys, RSV bits,
// compressed payloads, control frames between fragments), while the flow records the decoded
// messages. A connection with an extension the codec does not know is relayed as bytes.
import { createHash } from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy } from '@mitmts/sdk';
import { tcpServer, type Upstream } from '../helpers/servers.js';
import { HookLog } from '../helpers/websocket.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** One frame, by hand (RFC 6455 section 5.2). */
function frame(
  opcode: number,
  payload: Buffer | string,
  o: { fin?: boolean; rsv?: number; mask?: number[] } = {},
): Buffer {
  const p = Buffer.from(payload);
  const len = p.length < 126 ? [p.length] : p.length < 65536 ? [126, p.length >> 8, p.length & 255] : null;
  if (!len) throw new Error('test frames stay under 64 KiB');
  const head = Buffer.from([
    ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode,
    (o.mask ? 0x80 : 0) | len[0]!,
    ...len.slice(1),
  ]);
  if (!o.mask) return Buffer.concat([head, p]);
  const masked = Buffer.from(p.map((b, i) => b ^ o.mask![i % 4]!));
  return Buffer.concat([head, Buffer.from(o.mask), masked]);
}

/** permessage-deflate payload of one message (the 00 00 ff ff tail removed). */
const deflated = (text: string): Buffer => {
  const d = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return d.subarray(0, d.length - 4);
};

/** Reads a stream until `n` bytes came (or the head ended, with `n` = 0: the bytes up to CRLFCRLF). */
class Reader {
  buf = Buffer.alloc(0);
  private want: { n: number; head: boolean; resolve: (b: Buffer) => void } | null = null;
  constructor(s: net.Socket) {
    s.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.check();
    });
  }
  head(): Promise<string> {
    return new Promise((resolve) => {
      this.want = { n: 0, head: true, resolve: (b) => resolve(b.toString('latin1')) };
      this.check();
    });
  }
  bytes(n: number): Promise<Buffer> {
    return new Promise((resolve) => {
      this.want = { n, head: false, resolve };
      this.check();
    });
  }
  private check(): void {
    const w = this.want;
    if (!w) return;
    const end = w.head ? this.buf.indexOf('\r\n\r\n') : w.n <= this.buf.length ? w.n : -1;
    if (end < 0) return;
    const cut = w.head ? end + 4 : end;
    this.want = null;
    const out = this.buf.subarray(0, cut);
    this.buf = this.buf.subarray(cut);
    w.resolve(out);
  }
}

/** A WebSocket server by hand: answers the upgrade with `extensions`, then hands the socket to the test. */
interface RawPeer {
  socket: net.Socket;
  reader: Reader;
  request: string;
}

let proxy: EmbeddedProxy;
let log: HookLog;
let up: Upstream;
let extensions = '';
let nextPeer: (p: RawPeer) => void = () => undefined;

beforeAll(async () => {
  log = new HookLog();
  proxy = await createProxy({ addons: [log] });
  up = await tcpServer((socket) => {
    const reader = new Reader(socket);
    void reader.head().then((request) => {
      const key = /sec-websocket-key: *(\S+)/i.exec(request)![1]!;
      const accept = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      const ext = extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '';
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${ext}\r\n`,
      );
      nextPeer({ socket, reader, request });
    });
  });
});
afterAll(async () => {
  await proxy?.close();
  await up?.close();
});

/** A client by hand through the proxy (absolute form), and the server's side of the same connection. */
async function connect(
  path: string,
  offer: string,
  agree: string,
): Promise<{ client: net.Socket; cr: Reader; server: RawPeer; head: string }> {
  extensions = agree;
  const server = new Promise<RawPeer>((resolve) => (nextPeer = resolve));
  const client = net.connect(proxy.port, '127.0.0.1');
  const cr = new Reader(client);
  const ext = offer ? `Sec-WebSocket-Extensions: ${offer}\r\n` : '';
  client.write(
    `GET http://127.0.0.1:${up.port}${path} HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${ext}\r\n`,
  );
  const head = await cr.head();
  return { client, cr, server: await server, head };
}

/** Write `bytes` in small pieces, so that frames straddle reads. */
function writeInPieces(s: net.Socket, bytes: Buffer, size = 5): void {
  for (let i = 0; i < bytes.length; i += size) s.write(bytes.subarray(i, i + size));
}

describe('raw-socket peers through the proxy', () => {
  it('unchanged frames arrive as sent: fragments, masking keys, empty frames; a ping inside a fragmented message goes first', async () => {
    const ended = log.nextEnd('/frames');
    const { client, cr, server, head } = await connect('/frames', '', '');
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    const ping = frame(9, 'ping inside', { mask: [5, 6, 7, 8] });
    const data = [
      frame(1, 'Hello, ', { fin: false, mask: [1, 2, 3, 4] }),
      frame(0, 'fragmented ', { fin: false, mask: [9, 10, 11, 12] }),
      frame(0, 'world', { mask: [13, 14, 15, 16] }),
      frame(2, Buffer.alloc(300, 0xab), { mask: [17, 18, 19, 20] }),
      frame(1, '', { mask: [21, 22, 23, 24] }),
    ];
    writeInPieces(client, Buffer.concat([data[0]!, ping, ...data.slice(1)]));
    // A message is forwarded once complete (its hook may change it); control frames never wait.
    const expected = Buffer.concat([ping, ...data]);
    expect((await server.reader.bytes(expected.length)).equals(expected)).toBe(true);
    const pong = frame(10, 'pong');
    const fromServer = [
      frame(2, Buffer.from([1, 2, 3]), { fin: false }),
      frame(0, Buffer.from([4, 5]), { fin: false }),
      frame(0, Buffer.alloc(0)),
      frame(1, 'last'),
    ];
    server.socket.write(Buffer.concat([fromServer[0]!, pong, ...fromServer.slice(1)]));
    const sb = Buffer.concat([pong, ...fromServer]);
    expect((await cr.bytes(sb.length)).equals(sb)).toBe(true);
    const close = frame(8, Buffer.from([0x03, 0xe8, ...Buffer.from('bye')]), { mask: [0, 0, 0, 0] });
    client.write(close);
    expect((await server.reader.bytes(close.length)).equals(close)).toBe(true);
    const closeBack = frame(8, Buffer.from([0x03, 0xe8]));
    server.socket.end(closeBack);
    expect((await cr.bytes(closeBack.length)).equals(closeBack)).toBe(true);
    const f = await ended;
    expect(f.websocket!.messages.map((m) => [m.fromClient, m.type, m.content.toString('latin1')])).toEqual([
      [true, 1, 'Hello, fragmented world'],
      [true, 2, '\xab'.repeat(300)],
      [true, 1, ''],
      [false, 2, '\x01\x02\x03\x04\x05'],
      [false, 1, 'last'],
    ]);
    expect(f.websocket).toMatchObject({ closedByClient: true, closeCode: 1000, closeReason: 'bye' });
    client.destroy();
  });

  it('compressed frames (RSV1, fragmented) arrive as sent and are recorded decoded', async () => {
    const ended = log.nextEnd('/deflate');
    const { client, cr, server } = await connect(
      '/deflate',
      'permessage-deflate; client_max_window_bits',
      'permessage-deflate',
    );
    const text = 'compressed words, compressed words, compressed words';
    const z = deflated(text);
    const cut = z.length >> 1;
    const fromClient = Buffer.concat([
      frame(1, z.subarray(0, cut), { fin: false, rsv: 4, mask: [7, 7, 7, 7] }),
      frame(0, z.subarray(cut), { mask: [8, 8, 8, 8] }),
    ]);
    writeInPieces(client, fromClient, 3);
    expect((await server.reader.bytes(fromClient.length)).equals(fromClient)).toBe(true);
    const fromServer = frame(2, deflated('\x00\x01binary\x02'), { rsv: 4 });
    server.socket.write(fromServer);
    expect((await cr.bytes(fromServer.length)).equals(fromServer)).toBe(true);
    client.destroy();
    const f = await ended;
    expect(f.websocket!.messages.map((m) => m.content.toString('latin1'))).toEqual([text, '\x00\x01binary\x02']);
    expect(f.websocket).toMatchObject({ closedByClient: true, closeCode: 1006 });
  });

  it('an extension the codec does not know: relayed as bytes (RSV2 frames pass), the flow has no messages, the log says why', async () => {
    const ended = log.nextEnd('/unknown-ext');
    const { client, cr, server } = await connect('/unknown-ext', 'x-test-ext', 'x-test-ext');
    const fromClient = frame(1, 'extension data', { rsv: 2, mask: [1, 1, 1, 1] });
    client.write(fromClient);
    expect((await server.reader.bytes(fromClient.length)).equals(fromClient)).toBe(true);
    const fromServer = frame(1, 'answer', { rsv: 2 });
    server.socket.write(fromServer);
    expect((await cr.bytes(fromServer.length)).equals(fromServer)).toBe(true);
    server.socket.destroy();
    const f = await ended;
    expect(f.websocket!.messages).toEqual([]);
    expect(f.websocket!.timestampEnd).not.toBeNull();
    expect(
      proxy.logs.some((e) =>
        /WebSocket messages of http:\/\/127\.0\.0\.1:\d+\/unknown-ext are relayed as bytes: extension x-test-ext is not supported/.test(
          e.message,
        ),
      ),
    ).toBe(true);
    client.destroy();
  });

  it('a protocol error (an unmasked client frame) fails the connection with 1002 to both peers', async () => {
    const ended = log.nextEnd('/bad');
    const { client, cr, server } = await connect('/bad', '', '');
    client.write(frame(1, 'not masked'));
    const toServer = await server.reader.bytes(4);
    const toClient = await cr.bytes(2);
    expect(toServer[0]).toBe(0x88);
    expect(toServer[1]! & 0x80).toBe(0x80); // masked, as a client's frames must be
    expect(toClient[0]).toBe(0x88);
    const f = await ended;
    expect(f.websocket).toMatchObject({ closedByClient: true, closeCode: 1002 });
    client.destroy();
  });
});
