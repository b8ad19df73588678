/**
 * The WebSocket relay: everything between two WebSocket peers after the handshake, without
 * sockets. The runtime feeds it each side's bytes and writes what it hands back; in between it
 * reads frames, reassembles messages into `flow.websocket.messages`, runs the message hook (an
 * addon may change `content`/`type` or `drop()` a message), passes ping/pong on, records the close,
 * and decides per message whether the original frames can go out as they came (the common case,
 * zero copies) or the message must be encoded again.
 *
 * Each direction is a lane with its own frame reader, assembler and permessage-deflate state. A
 * hook that returns a promise holds its lane (later bytes wait, in order) but not the other lane.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { type WebSocketData, WebSocketMessage } from '../../flow/websocket.js';
import type { MessageLog } from '../../flow/websocket-log.js';
import { type AssembledMessage, type AssemblerLimits, MessageAssembler } from './assembler.js';
import { parseClosePayload, serializeClose } from './close.js';
import { DeflateDirection } from './deflate.js';
import { CloseCode, WebSocketError, WebSocketErrorCodes as C } from './errors.js';
import type { DeflateParams } from './extensions.js';
import { Opcode, RSV1, serializeFrame, xorMask } from './frame.js';
import { type FrameAt, FrameReader, emptyFrameAt, payloadOf, rawOf } from './reader.js';

const EMPTY = Buffer.alloc(0);

/** Size of the fragments of a changed message whose original was fragmented (as mitmproxy: servers differ in what they accept). */
export const FRAGMENT_SIZE = 4000;

/** Why a relay ended. */
export type RelayEnd =
  /** Both peers sent a close frame and each was passed on. */
  | 'closed'
  /** A peer broke the protocol (or a limit): the relay sent close frames with the error's code to both. */
  | 'error'
  /** A peer's connection ended without finishing the close handshake ({@link WebSocketRelay.connectionLost}). */
  | 'lost'
  /** The proxy closed both sides ({@link WebSocketRelay.close}). */
  | 'killed';

/** What a relay needs from the runtime. */
export interface WebSocketRelayOptions extends AssemblerLimits {
  /** The flow's WebSocket data: messages are added with `addMessage` (its retention applies), the close is recorded. */
  data: WebSocketData;
  /** permessage-deflate parameters agreed in the handshake, or null. */
  deflate?: DeflateParams | null;
  /** zlib level for messages the proxy compresses again (default zlib's default). */
  deflateLevel?: number;
  /**
   * The `websocket_message` hook: called for each message after it was added to `data`, where it
   * is `data.messages.at(-1)` during the call. It may change that message's `content` or `type`,
   * or call `drop()`. A returned promise holds this direction until it settles. Null or absent: no
   * hook (messages are still recorded). A message nobody read from `data.messages` is never made
   * into an object: it is forwarded as it came.
   */
  onMessage?: (() => void | Promise<void>) | null;
  /** Write bytes to a peer (`toClient`: to the client, else to the server). Called synchronously, in order. */
  send(toClient: boolean, bytes: Buffer): void;
  /**
   * The relay is done (called once, after the last `send`). The runtime ends both connections
   * (after a 'closed' end: once the writes are flushed) and runs `websocket_end`.
   */
  onEnd(how: RelayEnd): void;
  /** A protocol error or limit broke one direction (for the log); {@link onEnd} follows. */
  onError?(error: WebSocketError): void;
  /** A ping or pong passed (for the log). */
  onControl?(fromClient: boolean, opcode: number, payload: Buffer): void;
  /**
   * A lane was held by an async hook (`true`) or released (`false`): the runtime may pause reading
   * that peer meanwhile; bytes pushed while held are kept, not lost.
   */
  onHold?(fromClient: boolean, held: boolean): void;
  /** @internal For tests: force the public-API zlib route. */
  zlibViaHandle?: boolean;
}

/** One direction: what one peer sends to the other. */
class Lane {
  readonly reader: FrameReader;
  readonly assembler: MessageAssembler;
  readonly deflate: DeflateDirection | null;
  /** Bytes for the receiving peer, waiting for the next flush; then {@link run}. */
  out: Buffer[] = [];
  /** A Buffer over the memory of the current run of contiguous bytes (merged into one write), or null. */
  run: Buffer | null = null;
  /** Where the current run starts and ends in that memory (byte offsets of `run.buffer`). */
  runStart = 0;
  runEnd = 0;
  /** The frame being read (one object per lane, filled by {@link FrameReader.readInto}). */
  readonly frame: FrameAt = emptyFrameAt();
  /**
   * The message of one whole frame being handled (from the read to its forwarding, an async
   * hook's wait included: the lane reads nothing meanwhile): its frame is `wire[wireStart,
   * wireEnd)`, its content as logged in the flow's data `body[bodyFrom, bodyTo)` (unmasked).
   */
  wire: Buffer = EMPTY;
  wireStart = 0;
  wireEnd = 0;
  body: Buffer = EMPTY;
  bodyFrom = 0;
  bodyTo = 0;
  /** Where the message being handled came from (set until it was forwarded, an async hook's wait included). */
  source: Source = WHOLE;
  /** Its frames when it had several ({@link FRAMES}). */
  asm: AssembledMessage | null = null;
  /** Whether it came compressed. */
  compressed = false;
  /** Its content as received; null: the bytes at `body[bodyFrom, bodyTo)`, made into a Buffer only if a hook touched the content. */
  original: Buffer | null = null;
  /** `Date.now()` when the bytes being read arrived: the time of the messages they hold. */
  arrivedMs = 0;
  /** Messages injected into this lane, sent at the next message boundary. */
  readonly injected: WebSocketMessage[] = [];
  /** An async hook is running: frames wait. */
  held = false;
  /** Re-entrancy guard: a hook may inject while this lane is being pumped. */
  pumping = false;
  /** The sender's close frame passed: nothing more is read from it. */
  closed = false;
  /** A close frame went to the receiver (from the sender or from the proxy). */
  closeSent = false;

  constructor(
    readonly fromClient: boolean,
    o: WebSocketRelayOptions,
  ) {
    this.assembler = new MessageAssembler(o);
    this.deflate = o.deflate
      ? new DeflateDirection(o.deflate, fromClient, { level: o.deflateLevel, viaHandle: o.zlibViaHandle })
      : null;
    this.reader = new FrameReader({
      masked: fromClient,
      allowedRsv: o.deflate ? RSV1 : 0,
      maxPayload: this.assembler.wireLimit(o.deflate != null),
    });
  }
}

/**
 * Relays one WebSocket connection between a client and a server. See the file comment; the
 * README in this folder shows the runtime's side.
 */
export class WebSocketRelay {
  private readonly o: WebSocketRelayOptions;
  private readonly data: WebSocketData;
  private readonly c2s: Lane;
  private readonly s2c: Lane;
  private done = false;

  constructor(options: WebSocketRelayOptions) {
    this.o = options;
    this.data = options.data;
    this.c2s = new Lane(true, options);
    this.s2c = new Lane(false, options);
  }

  /** Whether the relay has ended (see {@link WebSocketRelayOptions.onEnd}). */
  get ended(): boolean {
    return this.done;
  }

  /**
   * Whether a close frame has passed in one direction and the relay waits for the other peer's
   * (the runtime may bound that wait with a timer, then call {@link close} or {@link connectionLost}).
   */
  get closing(): boolean {
    return !this.done && (this.c2s.closeSent || this.s2c.closeSent);
  }

  /** Bytes received from a peer and not yet processed (a held lane keeps them). */
  bufferedBytes(fromClient: boolean): number {
    return (fromClient ? this.c2s : this.s2c).reader.bufferedBytes;
  }

  /** Bytes received from the client. */
  fromClient(chunk: Buffer): void {
    this.receive(this.c2s, chunk);
  }

  /** Bytes received from the server. */
  fromServer(chunk: Buffer): void {
    this.receive(this.s2c, chunk);
  }

  /**
   * Send a message the proxy made (`inject.websocket`): recorded as `injected`, run through the
   * message hook like any other, then sent as one uncompressed frame (so no compression context
   * is disturbed) at the next message boundary of that direction.
   * @throws Error when the relay has ended or a close frame already went to that peer.
   */
  inject(toClient: boolean, content: Buffer | string, isText = true): WebSocketMessage {
    const lane = toClient ? this.s2c : this.c2s;
    if (this.done || lane.closeSent || lane.closed) {
      throw new Error(
        `Cannot inject a WebSocket message to the ${toClient ? 'client' : 'server'}: the connection is ${this.done ? 'closed' : 'closing'}.`,
      );
    }
    const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const m = new WebSocketMessage(isText ? Opcode.TEXT : Opcode.BINARY, !toClient, body, undefined, false, true);
    lane.injected.push(m);
    this.pump(lane);
    return m;
  }

  /**
   * A peer's connection ended (TCP close or error) before the close handshake finished. Records
   * close code 1006 unless a close frame was already recorded, and ends the relay.
   */
  connectionLost(client: boolean): void {
    if (this.done) return;
    this.record(client, CloseCode.ABNORMAL, '');
    this.finish('lost');
  }

  /**
   * The proxy closes the connection itself (flow killed, shutdown): a close frame with `code`
   * to each peer that has not had one, then the end.
   */
  close(code: number = CloseCode.GOING_AWAY, reason = ''): void {
    if (this.done) return;
    if (this.data.closeCode === null) {
      this.data.closeCode = code;
      this.data.closeReason = reason;
      this.data.timestampEnd = Date.now() / 1000;
    }
    this.closeBoth(code, reason);
    this.finish('killed');
  }

  private receive(lane: Lane, chunk: Buffer): void {
    if (this.done || lane.closed) return;
    lane.arrivedMs = Date.now();
    lane.reader.push(chunk);
    this.pump(lane);
  }

  /** Process what a lane has, until it runs dry, is held, or the relay ends; then flush. */
  private pump(lane: Lane): void {
    if (lane.pumping || lane.held) return;
    lane.pumping = true;
    try {
      while (!lane.held && !this.done) {
        const injected = lane.injected.shift();
        if (injected) {
          this.message(lane, null, injected);
          continue;
        }
        if (lane.closed) break;
        const f = lane.frame;
        if (!lane.reader.readInto(f)) break;
        if (f.opcode >= Opcode.CLOSE) this.control(lane, f);
        else if (f.fin && f.opcode !== Opcode.CONTINUATION && !lane.assembler.inProgress) this.whole(lane, f);
        else {
          const m = lane.assembler.add({ ...f, payload: payloadOf(f), raw: rawOf(f) });
          if (m !== null) this.message(lane, m, null);
        }
      }
    } catch (e) {
      if (!(e instanceof WebSocketError)) throw e;
      e.side = lane.fromClient ? 'client' : 'server';
      if (e.offset < 0) e.offset = lane.reader.offset;
      this.fail(lane, e);
    } finally {
      lane.pumping = false;
    }
    this.flush();
  }

  private control(lane: Lane, f: FrameAt): void {
    if (f.opcode !== Opcode.CLOSE) {
      this.o.onControl?.(lane.fromClient, f.opcode, payloadOf(f));
      this.emit(lane, f.chunk, f.start, f.end);
      return;
    }
    const { code, reason } = parseClosePayload(payloadOf(f));
    this.record(lane.fromClient, code, reason);
    this.emit(lane, f.chunk, f.start, f.end);
    lane.closed = true;
    lane.closeSent = true;
    if (this.c2s.closed && this.s2c.closed) this.finish('closed');
  }

  /**
   * A message in one frame (the common case): checked, logged in `data` (a masked payload is
   * unmasked straight into the log) and forwarded with no Buffer or object made for it; the lane's
   * `wire` and `body` say where its frame and content are.
   */
  private whole(lane: Lane, f: FrameAt): void {
    const compressed = (f.rsv & RSV1) !== 0;
    const data = this.data;
    const opcode = f.opcode;
    lane.wire = f.chunk;
    lane.wireStart = f.start;
    lane.wireEnd = f.end;
    let content: Buffer | null = null;
    let log: MessageLog;
    if (compressed) {
      const payload = payloadOf(f);
      lane.assembler.checkWhole(opcode, true, payload, 0, payload.length);
      content = this.inflate(lane, opcode, [payload]);
      log = data.logMessage(opcode, lane.fromClient, content, 0, content.length, true, lane.arrivedMs);
    } else if (f.masked) {
      const c = f.chunk;
      const k = f.dataStart - 4;
      log = data.logSpace(opcode, true, f.end - f.dataStart, lane.arrivedMs);
      const bits = xorMask(c, f.dataStart, f.end, c[k]!, c[k + 1]!, c[k + 2]!, c[k + 3]!, log.bytes, log.offset);
      this.checkLogged(lane, log, opcode, bits < 0x80);
    } else {
      log = data.logMessage(opcode, false, f.chunk, f.dataStart, f.end, true, lane.arrivedMs);
      this.checkLogged(lane, log, opcode, log.ascii);
    }
    data.logged(lane.fromClient);
    lane.body = log.bytes;
    lane.bodyFrom = log.offset;
    lane.bodyTo = log.offset + log.length;
    this.deliver(lane, WHOLE, null, compressed, content, opcode, null);
  }

  /** Check the message just logged (`ascii`: its bytes were seen to be ASCII); one that fails leaves the log. */
  private checkLogged(lane: Lane, log: MessageLog, opcode: number, ascii: boolean): void {
    try {
      lane.assembler.checkWhole(opcode, false, log.bytes, log.offset, log.offset + log.length, ascii);
    } catch (e) {
      log.pop();
      throw e;
    }
  }

  /** A message of several frames, or one injected (`asm` null). */
  private message(lane: Lane, asm: AssembledMessage | null, injected: WebSocketMessage | null): void {
    if (asm === null) {
      this.data.addMessage(injected!);
      this.deliver(lane, INJECTED, null, false, injected!.content, injected!.type, injected);
      return;
    }
    const content = asm.compressed
      ? this.inflate(lane, asm.opcode, asm.payloads)
      : asm.payloads.length === 1
        ? asm.payloads[0]!
        : Buffer.concat(asm.payloads, asm.size);
    this.data.logMessage(asm.opcode, lane.fromClient, content, 0, content.length, true, lane.arrivedMs);
    this.data.logged(lane.fromClient);
    this.deliver(lane, FRAMES, asm, asm.compressed, content, asm.opcode, null);
  }

  private inflate(lane: Lane, opcode: number, payloads: Buffer[]): Buffer {
    const content = lane.deflate!.inflate(payloads, lane.assembler.maxMessageSize);
    if (opcode === Opcode.TEXT && !isUtf8(content)) {
      throw new WebSocketError(
        C.INVALID_UTF8,
        'invalid UTF-8 in text message',
        'a compressed text message is not valid UTF-8 once inflated',
      );
    }
    return content;
  }

  /**
   * Run the hook on a message already in `data` (`msg`: an injected one; null: the one logged
   * last for this lane) and forward it; what it came as is kept in the lane meanwhile.
   */
  private deliver(
    lane: Lane,
    source: Source,
    asm: AssembledMessage | null,
    compressed: boolean,
    original: Buffer | null,
    type: number,
    msg: WebSocketMessage | null,
  ): void {
    lane.source = source;
    lane.asm = asm;
    lane.compressed = compressed;
    lane.original = original;
    const hook = this.o.onMessage;
    if (hook) {
      let r: void | Promise<void>;
      try {
        r = hook();
      } catch {
        r = undefined; // the hook dispatcher reports addon errors; the message goes on as it is now
      }
      if (r && typeof r.then === 'function') {
        this.hold(lane, true);
        const resume = (): void => {
          this.hold(lane, false);
          if (this.done) return;
          this.forward(lane, msg, type);
          this.flush();
          this.pump(lane);
        };
        r.then(resume, resume);
        return;
      }
    }
    this.forward(lane, msg, type);
  }

  private hold(lane: Lane, held: boolean): void {
    lane.held = held;
    this.o.onHold?.(lane.fromClient, held);
  }

  /**
   * Send the lane's message on after the hook (`type`: before it; `msg` null: the message logged
   * for this lane, whose object exists only if someone read `data.messages` meanwhile): original
   * frames when possible, else encoded again.
   */
  private forward(lane: Lane, injected: WebSocketMessage | null, type: number): void {
    const { source, asm, compressed, original } = lane;
    const msg = injected ?? this.data.made(lane.fromClient);
    lane.asm = null;
    lane.original = null;
    if (lane.closeSent) return; // a proxy-sent close went out while a hook ran
    // null: nobody read it from `data.messages`, so it is as it came.
    if (msg !== null && msg.dropped) {
      if (compressed) lane.deflate!.diverge();
      return;
    }
    // Content never read or set by a hook is the content received (no Buffer made to find out).
    let changed = msg !== null && msg.type !== type;
    if (!changed && msg !== null && msg.contentTouched) {
      const was = original ?? lane.body.subarray(lane.bodyFrom, lane.bodyTo);
      changed = msg.content !== was && !msg.content.equals(was);
    }
    if (source !== INJECTED && !changed && !(compressed && lane.deflate!.mustReencode)) {
      if (source === WHOLE) this.emit(lane, lane.wire, lane.wireStart, lane.wireEnd);
      else for (const raw of asm!.frames) this.emit(lane, raw, 0, raw.length);
      return;
    }
    // A compressed message re-deflated as it came has its inflated content in `original`.
    const content = msg === null ? original! : msg.content;
    const compress = source !== INJECTED && compressed;
    const payload = compress ? lane.deflate!.deflate(content) : content;
    this.encode(lane, asm, compress, payload, msg === null ? type : msg.type);
  }

  /** Frames for a message encoded again: `payload` (already deflated when `compress`) as `type`, fragmented as {@link fragmentSizes} says. */
  private encode(lane: Lane, asm: AssembledMessage | null, compress: boolean, payload: Buffer, type: number): void {
    const sizes = fragmentSizes(asm, payload.length);
    const opcode = type === Opcode.TEXT ? Opcode.TEXT : Opcode.BINARY;
    let off = 0;
    for (let i = 0; i < sizes.length; i++) {
      const part = payload.subarray(off, off + sizes[i]!);
      off += sizes[i]!;
      const frame = serializeFrame({
        fin: i === sizes.length - 1,
        rsv: i === 0 && compress ? RSV1 : 0,
        opcode: i === 0 ? opcode : Opcode.CONTINUATION,
        payload: part,
        mask: lane.fromClient,
      });
      this.emit(lane, frame, 0, frame.length);
    }
  }

  /** The first close wins: who closed, the code and reason, when. */
  private record(fromClient: boolean, code: number, reason: string): void {
    const d = this.data;
    if (d.closeCode !== null) return;
    d.closedByClient = fromClient;
    d.closeCode = code;
    d.closeReason = reason;
    d.timestampEnd = Date.now() / 1000;
  }

  /** Fail the connection after a protocol error in `lane`: close frames with the error's code to both peers. */
  private fail(lane: Lane, e: WebSocketError): void {
    this.o.onError?.(e);
    this.record(lane.fromClient, e.closeCode, e.closeReason);
    this.closeBoth(e.closeCode, e.closeReason);
    this.finish('error');
  }

  private closeBoth(code: number, reason: string): void {
    for (const lane of [this.c2s, this.s2c]) {
      if (lane.closeSent) continue;
      lane.closeSent = true;
      const frame = serializeClose(code, reason, lane.fromClient);
      this.emit(lane, frame, 0, frame.length);
    }
  }

  /**
   * Queue `b[start, end)` for a lane's receiver; bytes that continue the previous ones in memory
   * extend its run (one write for many frames).
   */
  private emit(lane: Lane, b: Buffer, start: number, end: number): void {
    const run = lane.run;
    const at = b.byteOffset + start;
    if (run !== null) {
      if (run.buffer === b.buffer && lane.runEnd === at) {
        lane.runEnd = b.byteOffset + end;
        return;
      }
      lane.out.push(runView(run, lane.runStart, lane.runEnd));
    }
    lane.run = b;
    lane.runStart = at;
    lane.runEnd = b.byteOffset + end;
  }

  private flush(): void {
    this.flushLane(this.c2s);
    this.flushLane(this.s2c);
  }

  private flushLane(lane: Lane): void {
    if (lane.run === null) return;
    const toClient = !lane.fromClient;
    const pieces = lane.out;
    const last = runView(lane.run, lane.runStart, lane.runEnd);
    lane.run = null;
    if (pieces.length > 0) {
      lane.out = [];
      for (const p of pieces) this.o.send(toClient, p);
    }
    this.o.send(toClient, last);
  }

  private finish(how: RelayEnd): void {
    if (this.done) return;
    this.done = true;
    this.flush();
    this.c2s.deflate?.close();
    this.s2c.deflate?.close();
    this.o.onEnd(how);
  }
}

/** One view over a run of `b`'s memory from byte offset `start` to `end` (`b` itself when it is exactly that). */
function runView(b: Buffer, start: number, end: number): Buffer {
  return start === b.byteOffset && end === b.byteOffset + b.length ? b : Buffer.from(b.buffer, start, end - start);
}

/** Where a message came from, for {@link WebSocketRelay.forward}: one whole frame, several frames, or an injection. */
type Source = 0 | 1 | 2;
const WHOLE: Source = 0;
const FRAMES: Source = 1;
const INJECTED: Source = 2;

/**
 * Fragment sizes for a message encoded again: one frame if the original was one frame (or the
 * message was injected), the original sizes if the payload kept its length, else
 * {@link FRAGMENT_SIZE} pieces.
 */
function fragmentSizes(asm: AssembledMessage | null, length: number): number[] {
  if (asm === null || asm.frames.length === 1 || length === 0) return [length];
  if (asm.size === length) return asm.payloads.map((p) => p.length);
  const sizes: number[] = [];
  for (let left = length; left > 0; left -= FRAGMENT_SIZE) sizes.push(Math.min(FRAGMENT_SIZE, left));
  return sizes;
}
