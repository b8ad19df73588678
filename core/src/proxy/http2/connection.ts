/**
 * One HTTP/2 connection, either role, socket-free: bytes in through `receive()`, typed events out
 * to an {@link Http2Handler}, bytes out through `handler.write`. Streams, flow control, settings,
 * GOAWAY, header validation and flood guards live here; HPACK, framing and the head checks in
 * their own files.
 */
import { Buffer } from 'node:buffer';
import type { OutboundHeaders } from '../http1/serialize.js';
import { DEFAULT_WINDOW, ErrorCode, Flag, FrameType, MAX_STREAM_ID, MAX_WINDOW, PREFACE } from './constants.js';
import { Http2Error, Http2ErrorCodes, type Http2ErrorCodeName } from './errors.js';
import { RateBucket } from './flood.js';
import { FrameReader, type FrameSink } from './frame-reader.js';
import { FrameWriter } from './frame-writer.js';
import { readGoaway, readSettings } from './frames.js';
import { BlockKind, HeadBuilder, type BlockKindValue } from './head-builder.js';
import { HpackDecoder, type HeaderSink } from './hpack/decoder.js';
import { HpackEncoder } from './hpack/encoder.js';
import { checkOutboundFields, checkPseudo } from './outbound.js';
import { Sender } from './sender.js';
import { applyPeerSettings, defaultSettings, ourSettingsEntries, resolveOptions } from './settings.js';
import { Stream } from './stream.js';
import type {
  FloodLimits,
  Http2Handler,
  Http2Head,
  Http2Options,
  Http2RequestInit,
  Http2ResponseInit,
  Http2Role,
  Http2Settings,
  ResetCause,
} from './types.js';

/** Receive states. */
const PREFACE_IN = 0;
const FIRST_SETTINGS = 1;
const OPEN = 2;
const DEAD = 3;

const DISCARD: HeaderSink = { field() {} };
/** Errors of the sending API: thrown to the caller, never a reason to end the connection. */
const API_ERRORS = new Set<string>([
  Http2ErrorCodes.BAD_OUTBOUND,
  Http2ErrorCodes.STREAM_STATE,
  Http2ErrorCodes.CANNOT_OPEN,
]);

/**
 * An HTTP/2 connection endpoint (RFC 9113 with HPACK, RFC 7541), socket-free.
 *
 * - `server` role faces a client: expects the client preface, receives requests on odd streams.
 * - `client` role faces a server: sends the preface, opens streams with {@link openStream}.
 *
 * Call {@link start} once, feed every received chunk to {@link receive}, write what
 * `handler.write` gets to the socket, call {@link close} when the socket closes. Stream ids are
 * this connection's own; mapping them between two legs is the user's job.
 */
export class Http2Connection {
  readonly role: Http2Role;
  /** What we announce (applied once the peer acknowledges). */
  readonly localSettings: Readonly<Http2Settings>;
  /** What the peer announced (RFC defaults until its SETTINGS arrive). */
  readonly remoteSettings: Http2Settings = defaultSettings();

  private readonly handler: Http2Handler;
  private readonly writeOut: (data: Buffer) => void;
  private readonly out = new FrameWriter();
  private readonly reader: FrameReader;
  private readonly decoder: HpackDecoder;
  private readonly encoder: HpackEncoder;
  private readonly sender: Sender;
  private readonly builder: HeadBuilder;
  private readonly streams = new Map<number, Stream>();
  private readonly validate: boolean;
  private readonly now: () => number;
  private readonly floods: FloodLimits;
  private readonly resetBucket: RateBucket;
  private readonly pingBucket: RateBucket;
  private readonly settingsBucket: RateBucket;
  private readonly emptyBucket: RateBucket;
  private readonly maxHeaderBlockSize: number;
  private readonly connWindowSize: number;

  private state: number;
  private prefaceSeen = 0;
  private started = false;
  private corked = 0;
  private inReceive = false;

  // header block assembly (HEADERS + CONTINUATION)
  private blockStream = 0;
  private blockParts: Buffer[] = [];
  private blockBytes = 0;
  private blockEndStream = false;
  private blockContinuations = 0;
  private blockSelfDependent = false;

  // DATA frame in progress
  private dataStream: Stream | null = null;
  private dataEnd = false;
  private dataStreamId = 0;
  /** The current frame's stream was closed between its pieces: the rest is credited, not delivered. */
  private dataOrphaned = false;

  // flow control: connection level
  private recvWindow = DEFAULT_WINDOW;
  private connUnacked = 0;
  /** Stream receive window for new streams: max(default, ours) until our SETTINGS are acknowledged. */
  private streamRecvInitial: number;
  private settingsAckPending = 0;
  private remoteSettingsSeen = false;

  // streams
  private lastPeerStreamId = 0;
  private nextLocalId: number;
  private peerActive = 0;
  private localActive = 0;
  private goawaySentId = -1;
  private goawayReceivedId = -1;
  private goawayCode = -1;
  private readonly provisionalLimit: number;

  constructor(role: Http2Role, handler: Http2Handler, options: Http2Options = {}) {
    this.role = role;
    this.handler = handler;
    this.writeOut = (data) => handler.write(data);
    const o = resolveOptions(role, options);
    this.localSettings = o.local;
    this.validate = o.validate;
    this.now = o.now;
    this.floods = o.floods;
    this.resetBucket = new RateBucket(o.floods.resets);
    this.pingBucket = new RateBucket(o.floods.pings);
    this.settingsBucket = new RateBucket(o.floods.settings);
    this.emptyBucket = new RateBucket(o.floods.emptyFrames);
    this.maxHeaderBlockSize = o.maxHeaderBlockSize;
    this.connWindowSize = o.connectionWindowSize;
    this.provisionalLimit = o.provisionalMaxConcurrentStreams;
    this.streamRecvInitial = Math.max(DEFAULT_WINDOW, o.local.initialWindowSize);
    this.decoder = new HpackDecoder(o.local.headerTableSize, o.local.maxHeaderListSize);
    this.encoder = new HpackEncoder({ huffman: o.huffman });
    this.sender = new Sender(this.out, this.encoder, this.remoteSettings, {
      endSent: (s) => this.markEndSent(s),
      drained: (id) => this.handler.onWindowAvailable?.(id),
    });
    this.builder = new HeadBuilder(this.validate, o.local.enableConnectProtocol);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const sink: FrameSink = {
      get stopped() {
        return self.state === DEAD;
      },
      frame: (type, flags, id, payload) => this.onFrame(type, flags, id, payload),
      dataStart: (flags, id, length, padding) => this.onDataStart(flags, id, length, padding),
      data: (chunk, last) => this.onDataChunk(chunk, last),
    };
    this.reader = new FrameReader(sink, this.localSettings.maxFrameSize);
    this.state = role === 'server' ? PREFACE_IN : FIRST_SETTINGS;
    this.nextLocalId = role === 'client' ? 1 : 2;
  }

  // ------------------------------------------------------------------ public API: lifecycle

  /**
   * Sends our connection preface: the client magic (client role), our SETTINGS, and a
   * WINDOW_UPDATE that raises the connection window to `connectionWindowSize`.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    const out = this.out;
    if (this.role === 'client') out.raw(PREFACE);
    out.settings(ourSettingsEntries(this.role, this.localSettings));
    this.settingsAckPending++;
    if (this.connWindowSize > DEFAULT_WINDOW) {
      out.windowUpdate(0, this.connWindowSize - DEFAULT_WINDOW);
      this.recvWindow = this.connWindowSize;
    }
    this.flush();
  }

  /**
   * Feeds bytes received from the peer. Events fire synchronously; what they send, and the
   * codec's own answers (SETTINGS ACK, PING ACK, WINDOW_UPDATE, RST_STREAM, GOAWAY), leave in
   * one `write` at the end. Input after a connection error is ignored.
   */
  receive(chunk: Buffer): void {
    if (this.state === DEAD) return;
    if (this.inReceive) throw new Error('Http2Connection.receive() called from inside one of its own events');
    if (!this.started) this.start();
    this.inReceive = true;
    this.corked++;
    try {
      let pos = 0;
      if (this.state === PREFACE_IN) pos = this.readPreface(chunk);
      if (pos < chunk.length && this.state !== DEAD) this.reader.push(chunk, pos);
    } catch (err) {
      // our own protocol errors end this connection; anything else (a handler's exception, a
      // misuse of another connection's API inside a handler) is the caller's
      if (!(err instanceof Http2Error) || err.streamId !== 0 || API_ERRORS.has(err.code)) throw err;
      this.fail(err);
    } finally {
      this.inReceive = false;
      this.uncork();
    }
  }

  /**
   * The socket closed (or is being destroyed): every open stream is reset with cause
   * `'connection'` and `errorCode` (default CANCEL, or the code of a GOAWAY received), and the
   * connection is dead. Nothing is written.
   */
  close(errorCode?: number): void {
    if (this.state === DEAD) return;
    this.state = DEAD;
    this.resetAll(errorCode ?? ErrorCode.CANCEL);
  }

  /** Whether the connection is dead (a connection error, or `close()`). */
  get isClosed(): boolean {
    return this.state === DEAD;
  }

  /** Holds back `handler.write` until the matching {@link uncork}, to send several things in one write. */
  cork(): void {
    this.corked++;
  }

  /** Ends a {@link cork}; the outermost one writes what is pending. */
  uncork(): void {
    if (this.corked > 0 && --this.corked === 0) this.flush();
  }

  // ------------------------------------------------------------------ public API: streams

  /** Streams open (or half-closed) on this connection, both directions. */
  get activeStreams(): number {
    return this.peerActive + this.localActive;
  }

  /** Highest stream id the peer opened (what a GOAWAY of ours names as last). */
  get lastPeerStream(): number {
    return this.lastPeerStreamId;
  }

  /**
   * Client role: whether {@link openStream} may be called now: the peer's
   * SETTINGS_MAX_CONCURRENT_STREAMS (a provisional limit until its SETTINGS arrive) is not
   * reached, no GOAWAY came, ids are left. Otherwise queue the request; `onStreamClose` and
   * `onSettings` are the moments to look again.
   */
  canOpenStream(): boolean {
    if (this.role !== 'client' || this.state === DEAD || this.goawayReceivedId >= 0 || this.nextLocalId > MAX_STREAM_ID)
      return false;
    const limit = this.remoteSettingsSeen
      ? this.remoteSettings.maxConcurrentStreams
      : Math.min(this.provisionalLimit, this.remoteSettings.maxConcurrentStreams);
    return this.localActive < limit;
  }

  /**
   * Client role: opens the next stream with a request head and returns its id. `endStream`:
   * the request has no body. Throws CANNOT_OPEN when {@link canOpenStream} is false, BAD_OUTBOUND
   * for fields that cannot be sent.
   */
  openStream(req: Http2RequestInit, endStream: boolean): number {
    if (!this.canOpenStream()) {
      const why =
        this.role !== 'client'
          ? 'a server-role connection opens no streams'
          : this.state === DEAD
            ? 'the connection is closed'
            : this.goawayReceivedId >= 0
              ? 'the server sent GOAWAY'
              : this.nextLocalId > MAX_STREAM_ID
                ? 'stream ids are used up'
                : `the server allows ${this.remoteSettings.maxConcurrentStreams} concurrent streams`;
      throw new Http2Error(Http2ErrorCodes.CANNOT_OPEN, `cannot open a stream: ${why}`, 0);
    }
    const protocol = req.protocol ?? '';
    if (protocol !== '' && !this.remoteSettings.enableConnectProtocol) {
      throw new Http2Error(
        Http2ErrorCodes.BAD_OUTBOUND,
        `:protocol ${protocol} needs the server's SETTINGS_ENABLE_CONNECT_PROTOCOL`,
        0,
      );
    }
    checkPseudo(':method', req.method, true);
    if (req.method === '') throw new Http2Error(Http2ErrorCodes.BAD_OUTBOUND, 'a request needs a :method', 0);
    checkPseudo(':scheme', req.scheme, true);
    checkPseudo(':authority', req.authority, true);
    checkPseudo(':path', req.path, true);
    checkPseudo(':protocol', protocol, true);
    checkOutboundFields(req.headers, 'request');
    const id = this.nextLocalId;
    this.nextLocalId += 2;
    const s = new Stream(id, false, this.streamRecvInitial, this.remoteSettings.initialWindowSize);
    s.headRequest = req.method === 'HEAD';
    s.headOut = true;
    this.streams.set(id, s);
    this.localActive++;
    this.sender.request(id, req, endStream);
    if (endStream) {
      s.localEnded = true;
      s.endSent = true;
    }
    this.flush();
    return id;
  }

  /**
   * Server role: sends a response head on a request stream: an interim one (1xx, not 101; any
   * number of them) or the final one (`endStream`: no body). Does nothing if the stream is gone
   * (reset, connection closed). Throws STREAM_STATE after the final head or the end,
   * BAD_OUTBOUND for fields that cannot be sent.
   */
  sendHeaders(streamId: number, res: Http2ResponseInit, endStream: boolean): void {
    const s = this.live(streamId);
    if (s === null) return;
    if (this.role !== 'server')
      throw this.misuse(streamId, 'a client-role connection sends requests with openStream()');
    if (s.localEnded || s.headOut)
      throw this.misuse(streamId, `the ${s.localEnded ? 'stream was ended' : 'final response head was sent'} already`);
    const status = res.status;
    if (!Number.isInteger(status) || status < 100 || status > 999 || status === 101) {
      throw new Http2Error(Http2ErrorCodes.BAD_OUTBOUND, `status ${status} cannot be sent on HTTP/2`, 0, streamId);
    }
    const interim = status < 200;
    if (interim && endStream) throw this.misuse(streamId, `an interim ${status} response cannot end the stream`);
    checkOutboundFields(res.headers, 'response');
    this.sender.response(streamId, status, res.headers, endStream);
    if (!interim) s.headOut = true;
    if (endStream) this.markEndSent(s);
    this.flush();
  }

  /**
   * Sends body bytes (`chunk` may be empty: an empty DATA frame goes out as asked). Returns true
   * if everything went out now (or the stream is gone), false if some of it waits for the peer's
   * window: then `onWindowAvailable(streamId)` fires once the queue is written. Keep reading
   * from the source only after that (that is how backpressure reaches the other leg).
   */
  sendData(streamId: number, chunk: Buffer, endStream: boolean): boolean {
    const s = this.live(streamId);
    if (s === null) return true;
    if (s.localEnded) throw this.misuse(streamId, 'DATA after the stream was ended');
    if (!s.headOut) throw this.misuse(streamId, 'DATA before the response head');
    if (endStream) s.localEnded = true;
    const all = this.sender.data(s, chunk, endStream);
    this.flush();
    return all;
  }

  /**
   * Sends trailers and ends the stream; they wait behind queued DATA. Does nothing if the
   * stream is gone.
   */
  sendTrailers(streamId: number, trailers: OutboundHeaders): void {
    const s = this.live(streamId);
    if (s === null) return;
    if (s.localEnded) throw this.misuse(streamId, 'trailers after the stream was ended');
    if (!s.headOut) throw this.misuse(streamId, 'trailers before the response head');
    checkOutboundFields(trailers, 'trailers');
    s.localEnded = true;
    this.sender.trailers(s, trailers);
    this.flush();
  }

  /**
   * Resets a stream (RST_STREAM with `errorCode`, default CANCEL): `flow.kill()`, a client that
   * went away, an upstream error. Bytes received on it and not consumed are given back to the
   * connection window. Does nothing if the stream is already closed.
   */
  reset(streamId: number, errorCode: number = ErrorCode.CANCEL): void {
    const s = this.live(streamId);
    if (s === null) return;
    this.out.rstStream(streamId, errorCode);
    this.closeStream(s, true);
    this.handler.onStreamClose?.(streamId);
    this.flush();
  }

  /**
   * Acknowledges `n` bytes of DATA handed out by `onData` for this stream as consumed: once
   * enough are, WINDOW_UPDATE gives the peer room again (stream and connection). Not consuming
   * is how a slow reader stops the peer. A no-op for streams reset since.
   */
  consume(streamId: number, n: number): void {
    const s = this.streams.get(streamId);
    if (s === undefined || n <= 0 || this.state === DEAD) return;
    if (n > s.unconsumed) n = s.unconsumed;
    s.unconsumed -= n;
    if (!s.closed && !s.remoteEnded) {
      s.unacked += n;
      if (s.unacked >= this.localSettings.initialWindowSize >>> 1 || s.unacked >= 65536) {
        this.out.windowUpdate(streamId, s.unacked);
        s.recvWindow += s.unacked;
        s.unacked = 0;
      }
    } else if (s.closed && s.unconsumed === 0) {
      this.streams.delete(streamId);
    }
    this.credit(n);
    this.flush();
  }

  /** Sends GOAWAY (default NO_ERROR) naming the last peer stream we will process; new peer streams are ignored after it. */
  goaway(errorCode: number = ErrorCode.NO_ERROR, debug?: Buffer): void {
    if (this.state === DEAD) return;
    this.goawaySentId = this.lastPeerStreamId;
    this.out.goaway(this.lastPeerStreamId, errorCode, debug);
    this.flush();
  }

  /** Sends a PING (8 bytes of `payload`, zeros by default); the answer comes to `onPingAck`. */
  ping(payload?: Buffer): void {
    if (this.state === DEAD) return;
    const p = Buffer.alloc(8);
    payload?.copy(p, 0, 0, 8);
    this.out.ping(p);
    this.flush();
  }

  /** Bytes `sendData` queued on this stream and not written yet (0 for unknown streams). */
  queuedBytes(streamId: number): number {
    return this.streams.get(streamId)?.queuedBytes ?? 0;
  }

  /** Whether the stream is open in some direction (not closed, reset or unknown). */
  isOpen(streamId: number): boolean {
    const s = this.streams.get(streamId);
    return s !== undefined && !s.closed;
  }

  // ------------------------------------------------------------------ receiving

  private readPreface(chunk: Buffer): number {
    const n = Math.min(PREFACE.length - this.prefaceSeen, chunk.length);
    for (let i = 0; i < n; i++) {
      if (chunk[i] !== PREFACE[this.prefaceSeen + i]) {
        const text = chunk.subarray(0, Math.min(chunk.length, 16)).toString('latin1');
        const hint = /^[A-Z]+ \S/.test(text) ? ' (this looks like HTTP/1)' : '';
        throw new Http2Error(
          Http2ErrorCodes.BAD_PREFACE,
          `the client did not send the HTTP/2 connection preface: byte ${this.prefaceSeen + i} differs${hint}`,
        );
      }
    }
    this.prefaceSeen += n;
    if (this.prefaceSeen === PREFACE.length) this.state = FIRST_SETTINGS;
    return n;
  }

  /** One whole non-DATA frame. */
  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.blockStream !== 0 && type !== FrameType.CONTINUATION) {
      throw new Http2Error(
        Http2ErrorCodes.PROTOCOL,
        `frame type ${type} on stream ${id} while the header block of stream ${this.blockStream} waits for CONTINUATION`,
      );
    }
    if (this.state === FIRST_SETTINGS) {
      if (type !== FrameType.SETTINGS || flags & Flag.ACK) {
        throw new Http2Error(
          Http2ErrorCodes.BAD_PREFACE,
          `the ${this.role === 'server' ? 'client' : 'server'}'s first frame is type ${type}, not SETTINGS`,
        );
      }
      this.state = OPEN;
    }
    switch (type) {
      case FrameType.HEADERS:
        return this.onHeadersFrame(flags, id, payload);
      case FrameType.CONTINUATION:
        return this.onContinuation(flags, id, payload);
      case FrameType.SETTINGS:
        return this.onSettingsFrame(flags, id, payload);
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(id, payload);
      case FrameType.RST_STREAM:
        return this.onRstStream(id, payload);
      case FrameType.PING:
        return this.onPingFrame(flags, id, payload);
      case FrameType.GOAWAY:
        return this.onGoawayFrame(id, payload);
      case FrameType.PRIORITY:
        if (id === 0) throw new Http2Error(Http2ErrorCodes.PROTOCOL, 'PRIORITY frame on stream 0');
        this.empty('PRIORITY frames');
        if (payload.length !== 5)
          this.streamError(
            id,
            Http2ErrorCodes.FRAME_SIZE,
            `PRIORITY frame of ${payload.length} bytes (must be 5)`,
            ErrorCode.FRAME_SIZE_ERROR,
          );
        return;
      case FrameType.PUSH_PROMISE:
        throw new Http2Error(
          Http2ErrorCodes.PROTOCOL,
          this.role === 'server'
            ? 'a client sent PUSH_PROMISE'
            : `PUSH_PROMISE on stream ${id}: server push is disabled (SETTINGS_ENABLE_PUSH = 0)`,
        );
      default:
        // extension frames (ALTSVC, ORIGIN, ...) are ignored (RFC 9113 section 5.5)
        this.empty('unknown frames');
    }
  }

  /** A DATA frame header (and pad length) was read. */
  private onDataStart(flags: number, id: number, length: number, padding: number): void {
    if (this.blockStream !== 0) {
      throw new Http2Error(
        Http2ErrorCodes.PROTOCOL,
        `DATA on stream ${id} while the header block of stream ${this.blockStream} waits for CONTINUATION`,
      );
    }
    if (this.state === FIRST_SETTINGS)
      throw new Http2Error(Http2ErrorCodes.BAD_PREFACE, 'the first frame is DATA, not SETTINGS');
    if (id === 0) throw new Http2Error(Http2ErrorCodes.PROTOCOL, 'DATA frame on stream 0');
    if (length > this.recvWindow) {
      throw new Http2Error(
        Http2ErrorCodes.FLOW_CONTROL,
        `${length} bytes of DATA on stream ${id} with ${this.recvWindow} left in the connection window`,
        ErrorCode.FLOW_CONTROL_ERROR,
      );
    }
    this.recvWindow -= length;
    const end = (flags & Flag.END_STREAM) !== 0;
    this.dataStreamId = id;
    this.dataEnd = end;
    this.dataStream = null;
    this.dataOrphaned = false;
    const content = length - padding - (flags & Flag.PADDED ? 1 : 0);
    const s = this.streams.get(id);
    if (s === undefined || s.closed) {
      if (this.isIdle(id)) throw new Http2Error(Http2ErrorCodes.PROTOCOL, `DATA frame on idle stream ${id}`);
      // closed or reset: nobody reads it, give the window back at once
      this.empty('frames on closed streams');
      this.credit(length);
      return;
    }
    if (s.remoteEnded) {
      this.credit(length);
      this.streamError(
        id,
        Http2ErrorCodes.STREAM_CLOSED,
        `DATA on stream ${id} after the peer ended it`,
        ErrorCode.STREAM_CLOSED,
      );
      return;
    }
    if (!s.headIn) {
      this.credit(length);
      this.streamError(
        id,
        Http2ErrorCodes.PROTOCOL,
        `DATA on stream ${id} before its ${this.role === 'server' ? 'request' : 'response'} head`,
      );
      return;
    }
    if (length > s.recvWindow) {
      this.credit(length);
      this.streamError(
        id,
        Http2ErrorCodes.FLOW_CONTROL,
        `${length} bytes of DATA on stream ${id} with ${s.recvWindow} left in its window`,
        ErrorCode.FLOW_CONTROL_ERROR,
      );
      return;
    }
    s.recvWindow -= length;
    if (content === 0 && !end) this.empty('empty DATA frames');
    if (length > content) {
      // padding and the pad length byte: nobody reads them, acknowledge them now
      s.unacked += length - content;
      this.credit(length - content);
    }
    if (s.expectedLength >= 0) {
      s.receivedLength += content;
      if (s.receivedLength > s.expectedLength || (end && s.receivedLength !== s.expectedLength)) {
        this.credit(content);
        this.contentLengthError(s);
        return;
      }
    }
    this.dataStream = s;
  }

  /** Content of the current DATA frame. */
  private onDataChunk(chunk: Buffer, last: boolean): void {
    const s = this.dataStream;
    if (s === null) {
      if (this.dataOrphaned) this.credit(chunk.length);
      return;
    }
    const end = last && this.dataEnd;
    if (last) this.dataStream = null;
    if (end) s.remoteEnded = true;
    s.unconsumed += chunk.length;
    this.handler.onData(this.dataStreamId, chunk, end);
    if (end && !s.closed && s.endSent) this.finishStream(s);
  }

  private onHeadersFrame(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw new Http2Error(Http2ErrorCodes.PROTOCOL, 'HEADERS frame on stream 0');
    let start = 0;
    let end = payload.length;
    if (flags & Flag.PADDED) {
      const pad = end > 0 ? payload[0]! : 0;
      start = 1;
      end -= pad;
    }
    let selfDependent = false;
    if (flags & Flag.PRIORITY) {
      if (end - start >= 4) selfDependent = (payload.readUInt32BE(start) & 0x7fffffff) >>> 0 === id;
      start += 5;
    }
    if (end < start)
      throw new Http2Error(
        Http2ErrorCodes.PROTOCOL,
        `HEADERS frame on stream ${id}: padding and priority fields longer than the payload`,
      );
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (flags & Flag.END_HEADERS) {
      this.block(id, payload, start, end, endStream, selfDependent);
      return;
    }
    this.blockStream = id;
    this.blockParts = [payload.subarray(start, end)];
    this.blockBytes = end - start;
    this.blockEndStream = endStream;
    this.blockContinuations = 0;
    this.blockSelfDependent = selfDependent;
    if (this.blockBytes > this.maxHeaderBlockSize) this.blockTooLarge(id);
  }

  private onContinuation(flags: number, id: number, payload: Buffer): void {
    if (this.blockStream === 0 || id !== this.blockStream) {
      throw new Http2Error(
        Http2ErrorCodes.PROTOCOL,
        `CONTINUATION on stream ${id} ${this.blockStream === 0 ? 'without a header block to continue' : `while stream ${this.blockStream}'s block is open`}`,
      );
    }
    if (++this.blockContinuations > this.floods.maxContinuations) {
      throw new Http2Error(
        Http2ErrorCodes.FLOOD,
        `more than ${this.floods.maxContinuations} CONTINUATION frames in one header block (CONTINUATION flood)`,
        ErrorCode.ENHANCE_YOUR_CALM,
      );
    }
    if (payload.length === 0 && !(flags & Flag.END_HEADERS)) this.empty('empty CONTINUATION frames');
    this.blockParts.push(payload);
    this.blockBytes += payload.length;
    if (this.blockBytes > this.maxHeaderBlockSize) this.blockTooLarge(id);
    if (!(flags & Flag.END_HEADERS)) return;
    const parts = this.blockParts;
    this.blockParts = [];
    this.blockStream = 0;
    const block = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.blockBytes);
    this.block(id, block, 0, block.length, this.blockEndStream, this.blockSelfDependent);
  }

  private blockTooLarge(id: number): never {
    throw new Http2Error(
      Http2ErrorCodes.FLOOD,
      `header block on stream ${id} over ${this.maxHeaderBlockSize} bytes (CONTINUATION flood or oversized headers)`,
      ErrorCode.ENHANCE_YOUR_CALM,
    );
  }

  /** A complete header block: decode it (always, for HPACK's sake), then apply it to its stream. */
  private block(id: number, buf: Buffer, start: number, end: number, endStream: boolean, selfDependent: boolean): void {
    const s = this.streams.get(id);
    if (s === undefined || s.closed) {
      if (this.role === 'server' && s === undefined && id > this.lastPeerStreamId)
        return this.newPeerStream(id, buf, start, end, endStream, selfDependent);
      if (this.role === 'client' && id % 2 === 0)
        throw new Http2Error(Http2ErrorCodes.PROTOCOL, `HEADERS on even stream ${id} (server push is disabled)`);
      if (this.isIdle(id))
        throw new Http2Error(
          Http2ErrorCodes.PROTOCOL,
          `HEADERS on stream ${id}, which ${this.role === 'client' ? 'we never opened' : 'is not a valid new stream'}`,
        );
      this.decoder.decode(buf, start, end, DISCARD);
      this.empty('frames on closed streams');
      return;
    }
    if (s.remoteEnded) {
      this.decoder.decode(buf, start, end, DISCARD);
      return this.streamError(
        id,
        Http2ErrorCodes.STREAM_CLOSED,
        `HEADERS on stream ${id} after the peer ended it`,
        ErrorCode.STREAM_CLOSED,
      );
    }
    const trailers = s.headIn;
    const kind = trailers ? BlockKind.TRAILERS : BlockKind.RESPONSE;
    if (!this.decodeBlock(id, kind, buf, start, end)) return;
    if (selfDependent) return this.streamError(id, Http2ErrorCodes.PROTOCOL, `stream ${id} depends on itself`);
    if (trailers) return this.onTrailersBlock(s, endStream);
    const head = this.builder.finish();
    if (head === null) return this.malformed(id);
    if (head.status < 200) {
      if (head.status === 101)
        return this.streamError(id, Http2ErrorCodes.PROTOCOL, 'status 101 on HTTP/2 (RFC 9113 section 8.6)');
      if (endStream)
        return this.streamError(id, Http2ErrorCodes.PROTOCOL, `interim ${head.status} response with END_STREAM`);
      this.handler.onInformational?.(id, head);
      return;
    }
    s.headIn = true;
    if (this.validate && head.contentLength >= 0 && !s.headRequest && head.status !== 204 && head.status !== 304)
      s.expectedLength = head.contentLength;
    this.deliverHead(s, head, endStream);
  }

  private newPeerStream(
    id: number,
    buf: Buffer,
    start: number,
    end: number,
    endStream: boolean,
    selfDependent: boolean,
  ): void {
    if (id % 2 === 0) throw new Http2Error(Http2ErrorCodes.PROTOCOL, `HEADERS from the client on even stream ${id}`);
    this.lastPeerStreamId = id;
    if (this.goawaySentId >= 0 && id > this.goawaySentId) {
      // after our GOAWAY: ignored, but HPACK must still see the block
      this.decoder.decode(buf, start, end, DISCARD);
      return;
    }
    if (!this.decodeBlock(id, BlockKind.REQUEST, buf, start, end)) return;
    if (selfDependent) return this.streamError(id, Http2ErrorCodes.PROTOCOL, `stream ${id} depends on itself`);
    if (this.peerActive >= this.localSettings.maxConcurrentStreams) {
      return this.streamError(
        id,
        Http2ErrorCodes.REFUSED_STREAM,
        `stream ${id} over our SETTINGS_MAX_CONCURRENT_STREAMS of ${this.localSettings.maxConcurrentStreams}`,
        ErrorCode.REFUSED_STREAM,
      );
    }
    const head = this.builder.finish();
    if (head === null) return this.malformed(id);
    if (this.validate && head.contentLength >= 0 && head.method !== 'CONNECT') {
      if (endStream && head.contentLength !== 0) {
        return this.streamError(
          id,
          Http2ErrorCodes.CONTENT_LENGTH,
          `request on stream ${id} announces content-length ${head.contentLength} but has no body`,
          ErrorCode.PROTOCOL_ERROR,
          'content-length',
        );
      }
    }
    const s = new Stream(id, true, this.streamRecvInitial, this.remoteSettings.initialWindowSize);
    s.headIn = true;
    if (this.validate && head.contentLength >= 0 && head.method !== 'CONNECT') s.expectedLength = head.contentLength;
    this.streams.set(id, s);
    this.peerActive++;
    this.deliverHead(s, head, endStream);
  }

  private deliverHead(s: Stream, head: Http2Head, endStream: boolean): void {
    if (endStream) {
      if (s.expectedLength > 0) return this.contentLengthError(s);
      s.remoteEnded = true;
    }
    this.handler.onHeaders(s.id, head, endStream);
    if (endStream && !s.closed && s.endSent) this.finishStream(s);
  }

  private onTrailersBlock(s: Stream, endStream: boolean): void {
    if (!endStream)
      return this.streamError(s.id, Http2ErrorCodes.PROTOCOL, `trailers on stream ${s.id} without END_STREAM`);
    if (s.expectedLength >= 0 && s.receivedLength !== s.expectedLength) return this.contentLengthError(s);
    s.remoteEnded = true;
    this.handler.onTrailers(s.id, this.builder.trailers);
    if (!s.closed && s.endSent) this.finishStream(s);
  }

  /** Decodes a block into the head builder; false (after a stream error) if the list is too large or broken. */
  private decodeBlock(id: number, kind: BlockKindValue, buf: Buffer, start: number, end: number): boolean {
    const b = this.builder;
    b.begin(kind);
    if (!this.decoder.decode(buf, start, end, b)) {
      this.streamError(
        id,
        Http2ErrorCodes.HEADER_LIST_TOO_LARGE,
        `header list on stream ${id} over our SETTINGS_MAX_HEADER_LIST_SIZE of ${this.localSettings.maxHeaderListSize} bytes`,
      );
      return false;
    }
    if (b.error !== null) {
      this.malformed(id);
      return false;
    }
    return true;
  }

  private malformed(id: number): void {
    const b = this.builder;
    this.streamError(
      id,
      b.errorCode,
      `malformed header block on stream ${id}: ${b.error ?? 'invalid'}`,
      ErrorCode.PROTOCOL_ERROR,
      b.errorHeader,
    );
  }

  private contentLengthError(s: Stream): void {
    this.streamError(
      s.id,
      Http2ErrorCodes.CONTENT_LENGTH,
      `stream ${s.id}: content-length ${s.expectedLength} but ${s.receivedLength > s.expectedLength ? 'more' : 'only ' + s.receivedLength} bytes of DATA${s.receivedLength > s.expectedLength ? ` (${s.receivedLength} so far)` : ''}`,
      ErrorCode.PROTOCOL_ERROR,
      'content-length',
    );
  }

  private onSettingsFrame(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw new Http2Error(Http2ErrorCodes.PROTOCOL, `SETTINGS frame on stream ${id}`);
    if (flags & Flag.ACK) {
      if (payload.length !== 0)
        throw new Http2Error(Http2ErrorCodes.FRAME_SIZE, 'SETTINGS ACK with a payload', ErrorCode.FRAME_SIZE_ERROR);
      if (this.settingsAckPending === 0)
        throw new Http2Error(Http2ErrorCodes.PROTOCOL, 'SETTINGS ACK without SETTINGS to acknowledge');
      this.settingsAckPending--;
      this.applyOurSettings();
      return;
    }
    if (!this.settingsBucket.take(this.now())) this.flood('SETTINGS frames', this.floods.settings);
    const entries = readSettings(payload);
    if (entries === null)
      throw new Http2Error(
        Http2ErrorCodes.FRAME_SIZE,
        `SETTINGS frame of ${payload.length} bytes (not a multiple of 6)`,
        ErrorCode.FRAME_SIZE_ERROR,
      );
    const rs = this.remoteSettings;
    const { windowDelta, tableSize } = applyPeerSettings(rs, entries, this.role);
    if (tableSize) this.encoder.setPeerTableSize(rs.headerTableSize);
    if (windowDelta !== 0) {
      for (const s of this.streams.values()) {
        if (s.closed) continue;
        s.sendWindow += windowDelta;
        if (s.sendWindow > MAX_WINDOW)
          throw new Http2Error(
            Http2ErrorCodes.FLOW_CONTROL,
            `SETTINGS_INITIAL_WINDOW_SIZE change overflows stream ${s.id}'s window`,
            ErrorCode.FLOW_CONTROL_ERROR,
          );
      }
    }
    this.out.settings([], true);
    this.remoteSettingsSeen = true;
    if (windowDelta > 0) this.sender.flush();
    this.handler.onSettings?.(rs);
  }

  /** Our SETTINGS were acknowledged: a stream window below the default applies from now on. */
  private applyOurSettings(): void {
    const ours = this.localSettings.initialWindowSize;
    if (this.streamRecvInitial === ours) return;
    const delta = ours - this.streamRecvInitial;
    this.streamRecvInitial = ours;
    for (const s of this.streams.values()) if (!s.closed) s.recvWindow += delta;
  }

  private onWindowUpdate(id: number, payload: Buffer): void {
    if (payload.length !== 4)
      throw new Http2Error(
        Http2ErrorCodes.FRAME_SIZE,
        `WINDOW_UPDATE of ${payload.length} bytes (must be 4)`,
        ErrorCode.FRAME_SIZE_ERROR,
      );
    const inc = payload.readUInt32BE(0) & 0x7fffffff;
    if (id === 0) {
      if (inc === 0) throw new Http2Error(Http2ErrorCodes.PROTOCOL, 'WINDOW_UPDATE of 0 on the connection');
      const sender = this.sender;
      sender.window += inc;
      if (sender.window > MAX_WINDOW)
        throw new Http2Error(
          Http2ErrorCodes.FLOW_CONTROL,
          'WINDOW_UPDATE overflows the connection window (over 2^31-1)',
          ErrorCode.FLOW_CONTROL_ERROR,
        );
      if (sender.waiting) {
        if (inc < 1024) this.empty('tiny WINDOW_UPDATEs');
        sender.flush();
      }
      return;
    }
    const s = this.streams.get(id);
    if (s === undefined || s.closed) {
      if (this.isIdle(id)) throw new Http2Error(Http2ErrorCodes.PROTOCOL, `WINDOW_UPDATE on idle stream ${id}`);
      this.empty('frames on closed streams');
      return;
    }
    if (inc === 0) return this.streamError(id, Http2ErrorCodes.PROTOCOL, `WINDOW_UPDATE of 0 on stream ${id}`);
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW)
      return this.streamError(
        id,
        Http2ErrorCodes.FLOW_CONTROL,
        `WINDOW_UPDATE overflows stream ${id}'s window (over 2^31-1)`,
        ErrorCode.FLOW_CONTROL_ERROR,
      );
    if (s.queue !== null) {
      if (inc < 1024) this.empty('tiny WINDOW_UPDATEs');
      this.sender.flush();
    }
  }

  private onRstStream(id: number, payload: Buffer): void {
    if (id === 0) throw new Http2Error(Http2ErrorCodes.PROTOCOL, 'RST_STREAM on stream 0');
    if (payload.length !== 4)
      throw new Http2Error(
        Http2ErrorCodes.FRAME_SIZE,
        `RST_STREAM of ${payload.length} bytes (must be 4)`,
        ErrorCode.FRAME_SIZE_ERROR,
      );
    const code = payload.readUInt32BE(0);
    if (!this.resetBucket.take(this.now())) this.flood('stream resets (rapid reset)', this.floods.resets);
    const s = this.streams.get(id);
    if (s === undefined || s.closed) {
      if (this.isIdle(id)) throw new Http2Error(Http2ErrorCodes.PROTOCOL, `RST_STREAM on idle stream ${id}`);
      return;
    }
    this.closeStream(s, true);
    this.handler.onReset(id, code, 'peer');
    this.handler.onStreamClose?.(id);
  }

  private onPingFrame(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw new Http2Error(Http2ErrorCodes.PROTOCOL, `PING frame on stream ${id}`);
    if (payload.length !== 8)
      throw new Http2Error(
        Http2ErrorCodes.FRAME_SIZE,
        `PING frame of ${payload.length} bytes (must be 8)`,
        ErrorCode.FRAME_SIZE_ERROR,
      );
    if (flags & Flag.ACK) {
      this.handler.onPingAck?.(payload);
      return;
    }
    if (!this.pingBucket.take(this.now())) this.flood('PING frames', this.floods.pings);
    this.out.ping(payload, true);
    this.handler.onPing?.(payload);
  }

  private onGoawayFrame(id: number, payload: Buffer): void {
    if (id !== 0) throw new Http2Error(Http2ErrorCodes.PROTOCOL, `GOAWAY frame on stream ${id}`);
    const g = readGoaway(payload);
    if (g === null)
      throw new Http2Error(
        Http2ErrorCodes.FRAME_SIZE,
        `GOAWAY frame of ${payload.length} bytes (at least 8)`,
        ErrorCode.FRAME_SIZE_ERROR,
      );
    this.goawayReceivedId =
      this.goawayReceivedId < 0 ? g.lastStreamId : Math.min(this.goawayReceivedId, g.lastStreamId);
    this.goawayCode = g.errorCode;
    this.handler.onGoaway?.(g.lastStreamId, g.errorCode, g.debug);
    for (const s of [...this.streams.values()]) {
      if (s.closed || s.peerInitiated || s.id <= g.lastStreamId) continue;
      this.closeStream(s, true);
      this.handler.onReset(s.id, ErrorCode.REFUSED_STREAM, 'goaway');
      this.handler.onStreamClose?.(s.id);
    }
  }

  // ------------------------------------------------------------------ stream bookkeeping

  /** END_STREAM went out. */
  private markEndSent(s: Stream): void {
    s.endSent = true;
    s.localEnded = true;
    if (s.remoteEnded && !s.closed) this.finishStream(s);
  }

  /** Both directions ended normally. */
  private finishStream(s: Stream): void {
    this.closeStream(s, false);
    this.handler.onStreamClose?.(s.id);
  }

  /**
   * Marks a stream closed. `release`: it was reset, so bytes handed out and not consumed go back
   * to the connection window now; otherwise the stream lingers until they are consumed.
   */
  private closeStream(s: Stream, release: boolean): void {
    if (s.closed) return;
    s.closed = true;
    s.localEnded = true;
    s.remoteEnded = true;
    if (s.peerInitiated) this.peerActive--;
    else this.localActive--;
    this.sender.drop(s);
    if (this.dataStream === s) {
      this.dataStream = null;
      this.dataOrphaned = true;
    }
    if (release && s.unconsumed > 0) {
      this.credit(s.unconsumed);
      s.unconsumed = 0;
    }
    if (s.unconsumed === 0) this.streams.delete(s.id);
  }

  /** Gives `n` consumed bytes back to the connection window (WINDOW_UPDATE once half of it is used). */
  private credit(n: number): void {
    if (this.state === DEAD) return; // nothing more is sent, not even WINDOW_UPDATE
    this.connUnacked += n;
    if (this.connUnacked >= this.connWindowSize >>> 1) {
      this.out.windowUpdate(0, this.connUnacked);
      this.recvWindow += this.connUnacked;
      this.connUnacked = 0;
    }
  }

  /** Stream error: RST_STREAM, forget the stream, tell the handler. */
  private streamError(
    id: number,
    code: Http2ErrorCodeName,
    message: string,
    errorCode: number = ErrorCode.PROTOCOL_ERROR,
    header?: string,
  ): void {
    const err = new Http2Error(code, message, errorCode, id, header);
    this.out.rstStream(id, errorCode);
    if (!this.resetBucket.take(this.now())) this.flood('stream errors', this.floods.resets);
    const s = this.streams.get(id);
    const known = s !== undefined && !s.closed;
    if (s !== undefined) this.closeStream(s, true);
    this.handler.onStreamError?.(err);
    if (known) this.handler.onStreamClose?.(id);
  }

  private flood(what: string, limit: { burst: number; perSecond: number }): never {
    throw new Http2Error(
      Http2ErrorCodes.FLOOD,
      `too many ${what}: more than ${limit.burst} at once or ${limit.perSecond} per second`,
      ErrorCode.ENHANCE_YOUR_CALM,
    );
  }

  /** Counts a frame that carries nothing toward the empty-frame flood guard. */
  private empty(what: string): void {
    if (!this.emptyBucket.take(this.now())) this.flood(what, this.floods.emptyFrames);
  }

  /** Connection error: GOAWAY, reset every stream, dead. */
  private fail(err: Http2Error): void {
    if (this.state === DEAD) return;
    this.state = DEAD;
    const debug = Buffer.from(err.message.slice(0, 256), 'utf8');
    this.out.goaway(this.lastPeerStreamId, err.errorCode, debug);
    this.resetAll(err.errorCode);
    this.handler.onError(err);
  }

  private resetAll(errorCode: number): void {
    const code = this.goawayCode > 0 ? this.goawayCode : errorCode;
    for (const s of [...this.streams.values()]) {
      if (s.closed) continue;
      this.closeStream(s, true);
      this.handler.onReset(s.id, code, 'connection' satisfies ResetCause);
      this.handler.onStreamClose?.(s.id);
    }
    this.streams.clear();
  }

  /** Whether `id` names a stream that was never opened (RFC 9113 section 5.1 "idle"). */
  private isIdle(id: number): boolean {
    const peerParity = this.role === 'server' ? 1 : 0;
    if (id % 2 === peerParity) return id > this.lastPeerStreamId;
    return id >= this.nextLocalId;
  }

  /** The stream if the user may still send on it; null if it is gone (reset, closed connection). */
  private live(id: number): Stream | null {
    const s = this.streams.get(id);
    if (s !== undefined && !s.closed && this.state !== DEAD) return s;
    if (s === undefined && this.state !== DEAD && this.isIdle(id)) throw this.misuse(id, 'no such stream');
    return null;
  }

  private misuse(id: number, what: string): Http2Error {
    return new Http2Error(Http2ErrorCodes.STREAM_STATE, `stream ${id}: ${what}`, 0, id);
  }

  private flush(): void {
    if (this.corked > 0 || this.out.pending === 0) return;
    this.out.drain(this.writeOut);
  }
}
