/**
 * The compact record of WebSocket messages nobody has looked at yet (see
 * {@link WebSocketData.messages}): a long session keeps millions of messages, and one object (plus
 * a Buffer view, plus the socket read buffer it pins) per message costs the proxy more in garbage
 * collection than relaying the message does. Here a message is five numbers in typed arrays and
 * its bytes are copied into 64 KiB slabs shared by many messages (a large message gets a slab of
 * its own, or keeps the Buffer it came in, without a copy); {@link WebSocketMessage} objects are
 * made from it only when `messages` is read.
 */
import { Buffer } from 'node:buffer';

/** Size of a slab of message bytes. */
const SLAB = 64 * 1024;
/** Messages up to this size are copied into a slab; larger ones keep (a view of) their own memory. */
const SMALL = 2048;
/** Numbers per message in {@link MessageLog.meta}: type | fromClient << 8, slab id, offset, length. */
const STRIDE = 4;

/** One message as {@link MessageLog.at} returns it (the caller copies what it needs). */
export interface LoggedMessage {
  type: number;
  fromClient: boolean;
  /** The slab holding its bytes, at `[offset, offset + length)`. */
  bytes: Buffer;
  offset: number;
  length: number;
  /** `Date.now()` when it was received. */
  ms: number;
}

/**
 * Messages in arrival order, oldest first. Appending copies (or adopts) the bytes; {@link bytes},
 * {@link offset} and {@link length} then say where the newest message's content is.
 * @internal The storage behind {@link WebSocketData}; not part of the SDK.
 */
export class MessageLog {
  /** Messages held. */
  count = 0;
  private meta = new Int32Array(64 * STRIDE);
  private times = new Float64Array(64);
  /** Slabs by id (`slabs[id - firstSlab]`; null once no message uses it), and how many messages use each. */
  private slabs: Array<Buffer | null> = [];
  private uses: number[] = [];
  private firstSlab = 0;
  /** The slab small messages are copied into, its id and how much of it is used. */
  private slab: Buffer | null = null;
  private slabId = -1;
  private used = 0;
  /** Where the newest message's bytes are (after an append). */
  bytes: Buffer = EMPTY;
  offset = 0;
  length = 0;
  /** After {@link append}: the content is known to be ASCII (copied byte by byte; false: not known). */
  ascii = false;

  /**
   * Append a message whose content is `src[from, to)`. `adopt`: `src` is never written to again,
   * so a large message may keep a view of it instead of a copy (a socket read, an inflated
   * message; not a reused buffer). {@link bytes}/{@link offset} then say where the content is.
   * {@link ascii} says whether the content was seen to be ASCII on the way.
   */
  append(type: number, fromClient: boolean, src: Buffer, from: number, to: number, adopt: boolean, ms: number): void {
    const n = to - from;
    if (n > SMALL && adopt) {
      this.record(type, fromClient, this.addSlab(src), from, n, ms);
      this.bytes = src;
      this.ascii = false;
      return;
    }
    this.appendSpace(type, fromClient, n, ms);
    const dst = this.bytes;
    let at = this.offset;
    if (n > 64) {
      src.copy(dst, at, from, to);
      this.ascii = false;
      return;
    }
    let bits = 0;
    for (let i = from; i < to; i++) bits |= dst[at++] = src[i]!;
    this.ascii = bits < 0x80;
  }

  /**
   * Append a message of `n` bytes whose content the caller writes at `bytes[offset, offset + n)`
   * right away (a client's frame, unmasked straight into the slab).
   */
  appendSpace(type: number, fromClient: boolean, n: number, ms: number): void {
    if (n > SMALL) {
      const own = Buffer.allocUnsafeSlow(n);
      this.record(type, fromClient, this.addSlab(own), 0, n, ms);
      this.bytes = own;
      return;
    }
    if (this.slab === null || this.used + n > this.slab.length) {
      const old = this.slabId;
      this.slab = Buffer.allocUnsafeSlow(SLAB);
      this.slabId = this.addSlab(this.slab);
      this.used = 0;
      if (old >= 0) this.drop(old);
    }
    const at = this.used;
    this.used += n;
    this.record(type, fromClient, this.slabId, at, n, ms);
    this.bytes = this.slab;
  }

  private record(type: number, fromClient: boolean, slabId: number, at: number, n: number, ms: number): void {
    const i = this.count;
    if (i === this.times.length) this.grow();
    const o = i * STRIDE;
    const meta = this.meta;
    meta[o] = type | (fromClient ? 256 : 0);
    meta[o + 1] = slabId;
    meta[o + 2] = at;
    meta[o + 3] = n;
    this.times[i] = ms;
    this.count = i + 1;
    this.uses[slabId - this.firstSlab]!++;
    this.offset = at;
    this.length = n;
  }

  /** Forget the newest message (it failed a check after it was appended). */
  pop(): void {
    if (this.count === 0) return;
    this.count--;
    const o = this.count * STRIDE;
    const id = this.meta[o + 1]!;
    if (id === this.slabId && this.meta[o + 2]! + this.meta[o + 3]! === this.used) this.used = this.meta[o + 2]!;
    this.drop(id);
  }

  /** Content length of message `i`. */
  size(i: number): number {
    return this.meta[i * STRIDE + 3]!;
  }

  /** Message `i` (0: the oldest held), written into `out`. */
  at(i: number, out: LoggedMessage): LoggedMessage {
    const o = i * STRIDE;
    const m = this.meta;
    out.type = m[o]! & 255;
    out.fromClient = (m[o]! & 256) !== 0;
    out.bytes = this.slabs[m[o + 1]! - this.firstSlab]!;
    out.offset = m[o + 2]!;
    out.length = m[o + 3]!;
    out.ms = this.times[i]!;
    return out;
  }

  /** Drop the oldest `n` messages (and the slabs only they used). */
  shift(n: number): void {
    if (n <= 0) return;
    if (n >= this.count) return this.clear();
    for (let i = 0; i < n; i++) this.drop(this.meta[i * STRIDE + 1]!);
    this.meta.copyWithin(0, n * STRIDE, this.count * STRIDE);
    this.times.copyWithin(0, n, this.count);
    this.count -= n;
  }

  /** Drop every message. The slab being filled is kept for the next ones. */
  clear(): void {
    this.count = 0;
    this.slabs = this.slab === null ? [] : [this.slab];
    this.uses = this.slab === null ? [] : [1]; // the slab being filled holds a use of its own
    if (this.slab !== null) this.firstSlab = this.slabId;
  }

  /** A new slab; the slab being filled holds a use of its own until another one takes over, a message's slab gets its use in `record`. */
  private addSlab(b: Buffer): number {
    this.slabs.push(b);
    this.uses.push(b === this.slab ? 1 : 0);
    return this.firstSlab + this.slabs.length - 1;
  }

  /** One use of slab `id` less; a slab without uses is freed (slabs before the first one in use are forgotten). */
  private drop(id: number): void {
    const k = id - this.firstSlab;
    if (--this.uses[k]! > 0) return;
    this.slabs[k] = null;
    let z = 0;
    while (z < this.slabs.length && this.slabs[z] === null) z++;
    if (z > 0) {
      this.slabs.splice(0, z);
      this.uses.splice(0, z);
      this.firstSlab += z;
    }
  }

  private grow(): void {
    const meta = new Int32Array(this.meta.length * 2);
    meta.set(this.meta);
    this.meta = meta;
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
  }
}

const EMPTY = Buffer.alloc(0);
