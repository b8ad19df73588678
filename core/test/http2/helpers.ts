/**
 * Socket-free test scaffolding for the HTTP/2 codec: a recording handler, a client and a server
 * connection wired together in memory, and a raw peer that writes hand-made frames.
 */
import { Buffer } from 'node:buffer';
import {
  type Frame,
  FrameWriter,
  type Http2Error,
  Http2Connection,
  type Http2Handler,
  type Http2Head,
  type Http2Options,
  type Http2Settings,
  PREFACE,
  type RawHeaders,
  type ResetCause,
  splitFrames,
} from '../../src/proxy/http2/index.js';
import { HpackDecoder, type HeaderSink } from '../../src/proxy/http2/hpack/decoder.js';
import { HpackEncoder } from '../../src/proxy/http2/hpack/encoder.js';

export type Pairs = Array<[string, string]>;
export const str = (h: RawHeaders): Pairs => h.map(([n, v]) => [n.toString('latin1'), v.toString('latin1')]);
export const raw = (p: Pairs): RawHeaders => p.map(([n, v]) => [Buffer.from(n, 'latin1'), Buffer.from(v, 'latin1')]);

export type Event =
  | { type: 'headers'; id: number; head: Http2Head; end: boolean }
  | { type: 'info'; id: number; head: Http2Head }
  | { type: 'data'; id: number; data: string; end: boolean }
  | { type: 'trailers'; id: number; trailers: Pairs }
  | { type: 'reset'; id: number; code: number; cause: ResetCause }
  | { type: 'streamError'; id: number; error: Http2Error }
  | { type: 'close'; id: number }
  | { type: 'window'; id: number }
  | { type: 'settings'; settings: Http2Settings }
  | { type: 'goaway'; last: number; code: number; debug: string }
  | { type: 'ping'; payload: string }
  | { type: 'pingAck'; payload: string }
  | { type: 'error'; error: Http2Error };

/** Records every event; `out` collects what the connection writes. */
export class Rec implements Http2Handler {
  events: Event[] = [];
  out: Buffer[] = [];
  /** Called after each event is recorded. */
  after: ((e: Event) => void) | null = null;
  /** Consume DATA as soon as it arrives (set `conn` for that). */
  autoConsume = false;
  conn: Http2Connection | null = null;

  private add(e: Event): void {
    this.events.push(e);
    this.after?.(e);
  }
  write = (b: Buffer): void => {
    this.out.push(Buffer.from(b));
  };
  onHeaders(id: number, head: Http2Head, end: boolean): void {
    this.add({ type: 'headers', id, head, end });
  }
  onInformational(id: number, head: Http2Head): void {
    this.add({ type: 'info', id, head });
  }
  onData(id: number, chunk: Buffer, end: boolean): void {
    const last = this.events[this.events.length - 1];
    if (last?.type === 'data' && last.id === id && !last.end && chunk.length > 0 && last.data.length > 0) {
      last.data += chunk.toString('latin1');
      last.end = end;
    } else {
      this.events.push({ type: 'data', id, data: chunk.toString('latin1'), end });
    }
    if (this.autoConsume) this.conn!.consume(id, chunk.length);
    this.after?.(this.events[this.events.length - 1]!);
  }
  onTrailers(id: number, trailers: RawHeaders): void {
    this.add({ type: 'trailers', id, trailers: str(trailers) });
  }
  onReset(id: number, code: number, cause: ResetCause): void {
    this.add({ type: 'reset', id, code, cause });
  }
  onStreamError(error: Http2Error): void {
    this.add({ type: 'streamError', id: error.streamId, error });
  }
  onStreamClose(id: number): void {
    this.add({ type: 'close', id });
  }
  onWindowAvailable(id: number): void {
    this.add({ type: 'window', id });
  }
  onSettings(settings: Http2Settings): void {
    this.add({ type: 'settings', settings: { ...settings } });
  }
  onGoaway(last: number, code: number, debug: Buffer): void {
    this.add({ type: 'goaway', last, code, debug: debug.toString() });
  }
  onPing(payload: Buffer): void {
    this.add({ type: 'ping', payload: payload.toString('hex') });
  }
  onPingAck(payload: Buffer): void {
    this.add({ type: 'pingAck', payload: payload.toString('hex') });
  }
  onError(error: Http2Error): void {
    this.add({ type: 'error', error });
  }

  /** Takes what was written so far. */
  takeOut(): Buffer {
    return Buffer.concat(this.out.splice(0));
  }
  take(): Event[] {
    return this.events.splice(0);
  }
  of<T extends Event['type']>(type: T): Array<Extract<Event, { type: T }>> {
    return this.events.filter((e): e is Extract<Event, { type: T }> => e.type === type);
  }
  get error(): Http2Error | undefined {
    return this.of('error')[0]?.error;
  }
}

/** A client and a server connection joined in memory; `pump()` moves bytes until both are quiet. */
export function pair(clientOptions: Http2Options = {}, serverOptions: Http2Options = {}) {
  const c = new Rec();
  const s = new Rec();
  const client = new Http2Connection('client', c, clientOptions);
  const server = new Http2Connection('server', s, serverOptions);
  c.conn = client;
  s.conn = server;
  const pump = (): void => {
    for (let i = 0; i < 1000; i++) {
      const a = c.takeOut();
      const b = s.takeOut();
      if (a.length === 0 && b.length === 0) return;
      if (a.length) server.receive(a);
      if (b.length) client.receive(b);
    }
    throw new Error('pump: no quiet after 1000 rounds');
  };
  client.start();
  server.start();
  pump();
  c.take();
  s.take();
  return { client, server, c, s, pump };
}

/** A GET request init. */
export function get(path = '/', headers: Pairs = [], authority = 'example.com') {
  return { method: 'GET', scheme: 'https', authority, path, headers: raw(headers) };
}

class Collect implements HeaderSink {
  fields: Pairs = [];
  field(name: Buffer, value: Buffer): void {
    this.fields.push([name.toString('latin1'), value.toString('latin1')]);
  }
}

/**
 * A hand-driven peer: builds frames with its own HPACK encoder and reads the codec's frames back
 * with its own decoder.
 */
export class RawPeer {
  readonly w = new FrameWriter();
  readonly enc = new HpackEncoder({ huffman: false });
  readonly dec = new HpackDecoder(4096, 1 << 20);
  private rest = Buffer.alloc(0);

  /** A header block for `fields` (pseudo-headers included, in the given order). */
  block(fields: Pairs): Buffer {
    const out = { buf: Buffer.alloc(1 << 20), pos: 0 };
    this.enc.beginBlock(out);
    for (const [n, v] of fields) {
      const vb = Buffer.from(v, 'latin1');
      this.enc.field(out, Buffer.from(n, 'latin1'), vb, 0, vb.length, false);
    }
    return Buffer.from(out.buf.subarray(0, out.pos));
  }
  /**
   * A header block of plain literals (no table, no Huffman, names as given): what a broken or
   * hostile peer could send.
   */
  literal(fields: Pairs): Buffer {
    const parts: Buffer[] = [];
    for (const [n, v] of fields) {
      const nb = Buffer.from(n, 'latin1');
      const vb = Buffer.from(v, 'latin1');
      parts.push(Buffer.from([0x00]), length7(nb.length), nb, length7(vb.length), vb);
    }
    return Buffer.concat(parts);
  }
  preface(settings: Array<[number, number]> = []): this {
    this.w.raw(PREFACE);
    this.w.settings(settings);
    return this;
  }
  /** Frames from `bytes` (what the codec wrote), remembering an incomplete tail. */
  frames(bytes: Buffer): Frame[] {
    const { frames, rest } = splitFrames(Buffer.concat([this.rest, bytes]));
    this.rest = Buffer.from(rest);
    return frames;
  }
  /** Decodes a HEADERS payload (no padding or priority) with the peer's decoder. */
  decode(payload: Buffer): Pairs {
    const c = new Collect();
    this.dec.decode(payload, 0, payload.length, c);
    return c.fields;
  }
  take(): Buffer {
    return this.w.take();
  }
}

/** An HPACK string length with a 7-bit prefix, Huffman bit off. */
function length7(n: number): Buffer {
  if (n < 127) return Buffer.from([n]);
  const out = [127];
  n -= 127;
  while (n >= 128) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

export const REQ: Pairs = [
  [':method', 'GET'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/'],
];

/** A server connection that got a raw peer's preface; returns both and the recorder. */
export function rawServer(options: Http2Options = {}, settings: Array<[number, number]> = []) {
  const rec = new Rec();
  const conn = new Http2Connection('server', rec, options);
  rec.conn = conn;
  const peer = new RawPeer();
  conn.start();
  conn.receive(peer.preface(settings).take());
  peer.frames(rec.takeOut());
  rec.take();
  const send = (): Frame[] => {
    conn.receive(peer.take());
    return peer.frames(rec.takeOut());
  };
  return { conn, rec, peer, send };
}

/** A client connection facing a raw server that sent its SETTINGS. */
export function rawClient(options: Http2Options = {}, settings: Array<[number, number]> = []) {
  const rec = new Rec();
  const conn = new Http2Connection('client', rec, options);
  rec.conn = conn;
  const peer = new RawPeer();
  conn.start();
  peer.w.settings(settings);
  conn.receive(peer.take());
  const first = rec.takeOut();
  peer.frames(first.subarray(PREFACE.length));
  rec.take();
  const send = (): Frame[] => {
    conn.receive(peer.take());
    return peer.frames(rec.takeOut());
  };
  return { conn, rec, peer, send };
}
