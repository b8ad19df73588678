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
/** Numbers per message in a chunk of {@link MessageLog.metas}: type | fromClient << 8, slab id, offset, length. */
const STRIDE = 4;
/** Messages per chunk once there is more than one (a power of two: CHUNK_BITS). */
const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;

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
  // Message k of the log is entry `head + k` of the chunks: chunk `(head + k) >> CHUNK_BITS`. A
  // first chunk grows by doubling up to CHUNK messages; then chunks are added, never copied, and
  // dropped from the front as the oldest messages go (a long session never moves its records).
  private metas: Int32Array[] = [new Int32Array(64 * STRIDE)];
  private times: Float64Array[] = [new Float64Array(64)];
  private head = 0;
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
    let j = this.head + this.count;
    if (j >> CHUNK_BITS >= this.metas.length || (this.metas.length === 1 && j >= this.times[0]!.length)) {
      this.grow();
      j = this.head + this.count;
    }
    const c = j >> CHUNK_BITS;
    const e = j & (CHUNK - 1);
    const o = e * STRIDE;
    const meta = this.metas[c]!;
    meta[o] = type | (fromClient ? 256 : 0);
    meta[o + 1] = slabId;
    meta[o + 2] = at;
    meta[o + 3] = n;
    this.times[c]![e] = ms;
    this.count++;
    this.uses[slabId - this.firstSlab]!++;
    this.offset = at;
    this.length = n;
  }

  /** Forget the newest message (it failed a check after it was appended). */
  pop(): void {
    if (this.count === 0) return;
    this.count--;
    const [m, o] = this.where(this.count);
    const id = m[o + 1]!;
    if (id === this.slabId && m[o + 2]! + m[o + 3]! === this.used) this.used = m[o + 2]!;
    this.drop(id);
  }

  /** Content length of message `i`. */
  size(i: number): number {
    const j = this.head + i;
    return this.metas[j >> CHUNK_BITS]![(j & (CHUNK - 1)) * STRIDE + 3]!;
  }

  /** The chunk holding message `i`'s numbers and where they start in it. */
  private where(i: number): [Int32Array, number] {
    const j = this.head + i;
    return [this.metas[j >> CHUNK_BITS]!, (j & (CHUNK - 1)) * STRIDE];
  }

  /** Message `i` (0: the oldest held), written into `out`. */
  at(i: number, out: LoggedMessage): LoggedMessage {
    const j = this.head + i;
    const o = (j & (CHUNK - 1)) * STRIDE;
    const m = this.metas[j >> CHUNK_BITS]!;
    out.type = m[o]! & 255;
    out.fromClient = (m[o]! & 256) !== 0;
    out.bytes = this.slabs[m[o + 1]! - this.firstSlab]!;
    out.offset = m[o + 2]!;
    out.length = m[o + 3]!;
    out.ms = this.times[j >> CHUNK_BITS]![j & (CHUNK - 1)]!;
    return out;
  }

  /** Drop the oldest `n` messages (and the slabs only they used). */
  shift(n: number): void {
    if (n <= 0) return;
    if (n >= this.count) return this.clear();
    for (let i = 0; i < n; i++) {
      const [m, o] = this.where(i);
      this.drop(m[o + 1]!);
    }
    this.head += n;
    this.count -= n;
    const gone = this.head >> CHUNK_BITS;
    if (gone > 0) {
      this.metas.splice(0, gone);
      this.times.splice(0, gone);
      this.head -= gone << CHUNK_BITS;
    }
  }

  /** Drop every message. The slab being filled is kept for the next ones. */
  clear(): void {
    this.count = 0;
    this.head = 0;
    // the last chunk is kept for the next messages (a log read after every message never allocates)
    if (this.metas.length > 1) {
      this.metas = [this.metas[this.metas.length - 1]!];
      this.times = [this.times[this.times.length - 1]!];
    }
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

  /** Room for one more message: a first chunk below CHUNK doubles (moving its messages to its start), else a chunk is added. */
  private grow(): void {
    const cap = this.times[0]!.length;
    if (this.metas.length === 1 && cap < CHUNK) {
      const size = Math.min(CHUNK, cap * 2);
      const meta = new Int32Array(size * STRIDE);
      meta.set(this.metas[0]!.subarray(this.head * STRIDE, (this.head + this.count) * STRIDE));
      const times = new Float64Array(size);
      times.set(this.times[0]!.subarray(this.head, this.head + this.count));
      this.metas[0] = meta;
      this.times[0] = times;
      this.head = 0;
      return;
    }
    this.metas.push(new Int32Array(CHUNK * STRIDE));
    this.times.push(new Float64Array(CHUNK));
  }
}

const EMPTY = Buffer.alloc(0);
