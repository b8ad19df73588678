/**
 * The sending half of a connection: HEADERS (split into CONTINUATION when the block is larger
 * than the peer's frame size), and DATA within the peer's stream and connection windows, with
 * what does not fit queued per stream and written round-robin when a window opens.
 * @internal
 */
import { Buffer } from 'node:buffer';
import type { OutboundHeaders } from '../http1/serialize.js';
import { DEFAULT_WINDOW, FRAME_HEADER_SIZE, Flag, FrameType } from './constants.js';
import type { FrameWriter } from './frame-writer.js';
import { type HpackEncoder, fieldBound } from './hpack/encoder.js';
import { staticName } from './hpack/static-table.js';
import type { Stream } from './stream.js';
import type { Http2RequestInit, Http2Settings } from './types.js';

const N_METHOD = staticName(':method')!;
const N_SCHEME = staticName(':scheme')!;
const N_AUTHORITY = staticName(':authority')!;
const N_PATH = staticName(':path')!;
const N_STATUS = staticName(':status')!;
const N_PROTOCOL = Buffer.from(':protocol', 'latin1');
const EMPTY = Buffer.alloc(0);

const STATUS_STRINGS: string[] = [];
function statusString(status: number): string {
  return (STATUS_STRINGS[status] ??= String(status));
}

/** What the sender tells its connection. */
export interface SenderEvents {
  /** END_STREAM went out on `s`. */
  endSent(s: Stream): void;
  /** Everything queued on stream `id` is written. */
  drained(id: number): void;
}

export class Sender {
  /** The peer's connection window: what we may still send on the whole connection. */
  window = DEFAULT_WINDOW;
  /** Streams with queued DATA, in the order they started waiting. */
  private readonly pending = new Set<Stream>();

  constructor(
    private readonly out: FrameWriter,
    private readonly encoder: HpackEncoder,
    private readonly remote: Readonly<Http2Settings>,
    private readonly events: SenderEvents,
  ) {}

  /** A request head (pseudo-headers in RFC order, then the fields). */
  request(id: number, req: Http2RequestInit, endStream: boolean): void {
    const protocol = req.protocol ?? '';
    const bound =
      fieldBound(7, req.method.length) +
      fieldBound(7, req.scheme.length) +
      fieldBound(10, req.authority.length) +
      fieldBound(5, req.path.length) +
      fieldBound(9, protocol.length);
    const at = this.begin(id, bound + fieldsBound(req.headers), endStream);
    const enc = this.encoder;
    const out = this.out;
    enc.fieldString(out, N_METHOD, req.method, false);
    if (req.scheme !== '') enc.fieldString(out, N_SCHEME, req.scheme, false);
    if (req.authority !== '') enc.fieldString(out, N_AUTHORITY, req.authority, false);
    if (req.path !== '') enc.fieldString(out, N_PATH, req.path, false);
    if (protocol !== '') enc.fieldString(out, N_PROTOCOL, protocol, false);
    this.end(at, id, req.headers);
  }

  /** A response head. */
  response(id: number, status: number, headers: OutboundHeaders, endStream: boolean): void {
    const at = this.begin(id, 16 + fieldsBound(headers), endStream);
    this.encoder.fieldString(this.out, N_STATUS, statusString(status), false);
    this.end(at, id, headers);
  }

  /** Trailers: now, or after the stream's queued DATA. */
  trailers(s: Stream, trailers: OutboundHeaders): void {
    if (s.queue !== null) {
      s.queuedTrailers = trailers;
      return;
    }
    this.writeTrailers(s, trailers);
  }

  /** DATA: what the windows allow now, the rest queued. Returns false if something was queued. */
  data(s: Stream, chunk: Buffer, end: boolean): boolean {
    if (s.queue !== null) {
      this.enqueue(s, chunk, end);
      return false;
    }
    const off = this.write(s, chunk, 0, end);
    if (off === chunk.length) return true;
    this.enqueue(s, off === 0 ? chunk : chunk.subarray(off), end);
    return false;
  }

  /** Forgets a stream's queue (it was reset or closed). */
  drop(s: Stream): void {
    if (s.queue === null) return;
    s.queue = null;
    s.queuedBytes = 0;
    s.queuedTrailers = null;
    this.pending.delete(s);
  }

  /** Whether any stream has queued DATA. */
  get waiting(): boolean {
    return this.pending.size > 0;
  }

  /** Writes queued DATA round-robin, one frame per stream per turn, while windows allow. */
  flush(): void {
    if (this.pending.size === 0) return;
    const max = this.remote.maxFrameSize;
    const drained: number[] = [];
    let progress = true;
    while (progress && this.pending.size > 0) {
      progress = false;
      for (const s of this.pending) {
        const q = s.queue!;
        const chunk = q[s.queueHead]!;
        const left = chunk.length - s.queueOffset;
        const lastChunk = s.queueHead === q.length - 1;
        if (left === 0) {
          // an empty chunk: an empty DATA frame, as the user sent it
          this.out.data(s.id, EMPTY, lastChunk && s.queueEnd);
        } else {
          const avail = Math.min(s.sendWindow, this.window, max);
          if (avail <= 0) continue;
          const n = Math.min(left, avail);
          const whole = n === left;
          this.out.data(s.id, chunk.subarray(s.queueOffset, s.queueOffset + n), whole && lastChunk && s.queueEnd);
          s.sendWindow -= n;
          this.window -= n;
          s.queuedBytes -= n;
          s.queueOffset += n;
          if (!whole) {
            progress = true;
            continue;
          }
        }
        progress = true;
        s.queueHead++;
        s.queueOffset = 0;
        if (s.queueHead < q.length) continue;
        // the queue is written
        s.queue = null;
        this.pending.delete(s);
        const trailers = s.queuedTrailers;
        s.queuedTrailers = null;
        if (trailers !== null) this.writeTrailers(s, trailers);
        else if (s.queueEnd) this.events.endSent(s);
        drained.push(s.id);
      }
    }
    for (const id of drained) this.events.drained(id);
  }

  private writeTrailers(s: Stream, trailers: OutboundHeaders): void {
    const at = this.begin(s.id, fieldsBound(trailers), true);
    this.end(at, s.id, trailers);
    this.events.endSent(s);
  }

  /**
   * Writes DATA frames for `buf[off..]` as far as both windows allow; returns the offset reached.
   * An empty `buf` writes one empty frame (END_STREAM if `end`).
   */
  private write(s: Stream, buf: Buffer, off: number, end: boolean): number {
    const out = this.out;
    const total = buf.length;
    if (total === 0) {
      out.data(s.id, EMPTY, end);
      if (end) this.events.endSent(s);
      return 0;
    }
    const max = this.remote.maxFrameSize;
    let avail = Math.min(s.sendWindow, this.window);
    while (off < total && avail > 0) {
      let n = total - off;
      if (n > avail) n = avail;
      if (n > max) n = max;
      const last = off + n === total;
      out.data(s.id, off === 0 && last ? buf : buf.subarray(off, off + n), end && last);
      off += n;
      avail -= n;
      s.sendWindow -= n;
      this.window -= n;
    }
    if (off === total && end) this.events.endSent(s);
    return off;
  }

  private enqueue(s: Stream, chunk: Buffer, end: boolean): void {
    if (s.queue === null) {
      s.queue = [];
      s.queueHead = 0;
      s.queueOffset = 0;
      this.pending.add(s);
    }
    s.queue.push(chunk);
    s.queuedBytes += chunk.length;
    if (end) s.queueEnd = true;
  }

  /** Writes a HEADERS frame header with a placeholder length and starts the block; returns its position. */
  private begin(id: number, bound: number, endStream: boolean): number {
    const out = this.out;
    out.ensure(FRAME_HEADER_SIZE + 24 + bound);
    const at = out.pos;
    out.header(0, FrameType.HEADERS, Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0), id);
    this.encoder.beginBlock(out);
    return at;
  }

  /** Encodes the regular fields, then fixes the frame length (splitting into CONTINUATION if needed). */
  private end(at: number, id: number, fields: OutboundHeaders): void {
    const out = this.out;
    const enc = this.encoder;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const v = f[1];
      enc.field(out, f[0], v, 0, v.length, false);
    }
    const start = at + FRAME_HEADER_SIZE;
    const len = out.pos - start;
    const max = this.remote.maxFrameSize;
    if (len <= max) {
      out.patchLength(at, len);
      return;
    }
    // HEADERS without END_HEADERS, then CONTINUATIONs
    const block = Buffer.from(out.buf.subarray(start, out.pos));
    const flags = out.buf[at + 4]!;
    out.pos = at;
    out.header(max, FrameType.HEADERS, flags & ~Flag.END_HEADERS, id);
    out.raw(block.subarray(0, max));
    for (let off = max; off < block.length; off += max) {
      out.continuation(id, block.subarray(off, Math.min(off + max, block.length)), off + max >= block.length);
    }
  }
}

/** Upper bound of the encoded size of `fields`. */
function fieldsBound(fields: OutboundHeaders): number {
  let n = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    n += fieldBound(f[0].length, f[1].length);
  }
  return n;
}
