/**
 * Public types of the HTTP/2 codec: heads, the event handler, settings and options.
 */
import type { Buffer } from 'node:buffer';
import type { OutboundHeaders } from '../http1/serialize.js';
import type { RawHeaders } from '../http1/types.js';
import type { Http2Error } from './errors.js';

/**
 * A decoded request or response head. Requests (what a server-role connection receives) fill
 * `method`, `scheme`, `authority`, `path` and `protocol`; responses (client role) fill `status`.
 * A pseudo-header that was absent is `''` (and `status` 0). Fits {@link Http2RequestInit} and
 * {@link Http2ResponseInit} as it is, so a relay can send a received head on unchanged.
 */
export class Http2Head {
  /** `:method` as received. */
  method = '';
  /** `:scheme` (absent on CONNECT). */
  scheme = '';
  /** `:authority` (may be absent; then a `host` field may name the host). */
  authority = '';
  /** `:path` with the query (absent on CONNECT). */
  path = '';
  /** `:protocol` of an extended CONNECT (RFC 8441), e.g. `websocket`. */
  protocol = '';
  /** `:status` of a response. */
  status = 0;
  /**
   * The regular fields in received order, as byte pairs (`RawHeaders`, the flow model's
   * `Headers.fields` shape). Names are lower case on HTTP/2; values are as received. Buffers may
   * be shared with the decoder's tables: never mutate them, replace them.
   */
  headers: RawHeaders = [];
  /** The `content-length` value, or -1 when absent (or not checked, validation off). */
  contentLength = -1;
}

/** What {@link Http2Connection.openStream} sends. `''` leaves a pseudo-header out. */
export interface Http2RequestInit {
  method: string;
  /** `http` or `https`; `''` for CONNECT. */
  scheme: string;
  authority: string;
  /** `''` for CONNECT. */
  path: string;
  /** Extended CONNECT (RFC 8441) only; needs the peer's SETTINGS_ENABLE_CONNECT_PROTOCOL. */
  protocol?: string;
  /** Regular fields (no pseudo-headers, no connection-specific fields); names go out lower-cased. */
  headers: OutboundHeaders;
}

/** What {@link Http2Connection.sendHeaders} sends. */
export interface Http2ResponseInit {
  /** 1xx for an interim response (not 101), else the final status. */
  status: number;
  /** Regular fields (no pseudo-headers, no connection-specific fields); names go out lower-cased. */
  headers: OutboundHeaders;
}

/** Why {@link Http2Handler.onReset} ended a stream. */
export type ResetCause =
  /** The peer sent RST_STREAM with this code. */
  | 'peer'
  /** The peer's GOAWAY excluded the stream (id above last_stream_id): it was never processed, safe to retry. */
  | 'goaway'
  /** The connection ended (a connection error, a GOAWAY with an error, `close()`) with the stream open. */
  | 'connection';

/** The settings one side announced (RFC 9113 section 6.5.2, RFC 8441). */
export interface Http2Settings {
  headerTableSize: number;
  enablePush: boolean;
  /** `Infinity` when not announced. */
  maxConcurrentStreams: number;
  initialWindowSize: number;
  maxFrameSize: number;
  /** `Infinity` when not announced. */
  maxHeaderListSize: number;
  enableConnectProtocol: boolean;
}

/**
 * Receives what a connection finds, synchronously, in stream order, and the bytes to send. Any
 * sending method of the connection may be called from inside these callbacks.
 */
export interface Http2Handler {
  /**
   * Bytes for the peer, in order. Called once at the end of each `receive()` and `uncork()`,
   * or right away by a sending method called outside both; a batch with large DATA payloads
   * (sent without a copy) comes as several calls in a row.
   */
  write(data: Buffer): void;
  /**
   * A request head (server role) or a final response head (client role). `endStream`: the
   * message has no body (END_STREAM on HEADERS).
   */
  onHeaders(streamId: number, head: Http2Head, endStream: boolean): void;
  /** Client role: an interim response (1xx other than 101, e.g. 100 or 103 Early Hints). */
  onInformational?(streamId: number, head: Http2Head): void;
  /**
   * Body bytes of a DATA frame, padding removed: a view into the received bytes (no copy), in
   * pieces as they arrive (one frame may come as several calls; an empty frame as one empty
   * call). Hand them on, then acknowledge with `consume(streamId, chunk.length)`: the peer gets
   * window back only for consumed bytes.
   */
  onData(streamId: number, chunk: Buffer, endStream: boolean): void;
  /** Trailer fields; they end the stream. */
  onTrailers(streamId: number, trailers: RawHeaders): void;
  /** The stream ended abnormally; see {@link ResetCause}. `errorCode` is RFC 9113's (`ErrorCode`). */
  onReset(streamId: number, errorCode: number, cause: ResetCause): void;
  /**
   * The peer broke a rule on one stream (malformed headers, content-length mismatch, flow
   * control, too many streams): the codec has reset that stream (`error.errorCode`) and the
   * connection goes on.
   */
  onStreamError?(error: Http2Error): void;
  /**
   * The stream is closed in both directions (ended, reset or refused); the codec forgets it. Sent
   * once for every stream that `onHeaders`, `openStream` or `onStreamError` made known.
   */
  onStreamClose?(streamId: number): void;
  /** All DATA (and trailers) that `sendData` had to queue for this stream is now written. */
  onWindowAvailable?(streamId: number): void;
  /** The peer's SETTINGS were applied (and acknowledged). */
  onSettings?(settings: Readonly<Http2Settings>): void;
  /**
   * The peer sent GOAWAY. Streams we opened above `lastStreamId` are then reset with cause
   * `'goaway'`; the others may complete.
   */
  onGoaway?(lastStreamId: number, errorCode: number, debug: Buffer): void;
  /** The peer pinged us (the codec has answered). */
  onPing?(payload: Buffer): void;
  /** The answer to our `ping()`. */
  onPingAck?(payload: Buffer): void;
  /**
   * A connection error: the codec has queued GOAWAY with `error.errorCode`, reset every open
   * stream (cause `'connection'`) and ignores further input. Write what is queued, then close
   * the socket.
   */
  onError(error: Http2Error): void;
}

/** A token bucket: `burst` events at once, refilled at `perSecond`. */
export interface RateLimit {
  burst: number;
  perSecond: number;
}

/**
 * Flood guards: events that cost us more than the peer, allowed at a bounded rate; over it the
 * connection ends with GOAWAY ENHANCE_YOUR_CALM.
 */
export interface FloodLimits {
  /** RST_STREAM from the peer, and streams we refused or reset for the peer's errors (rapid reset, CVE-2023-44487). */
  resets: RateLimit;
  /** PING frames to answer. */
  pings: RateLimit;
  /** SETTINGS frames to apply and acknowledge. */
  settings: RateLimit;
  /**
   * Frames that carry nothing: empty DATA without END_STREAM, PRIORITY, unknown types, empty
   * CONTINUATION, frames on closed streams.
   */
  emptyFrames: RateLimit;
  /** CONTINUATION frames per header block. */
  maxContinuations: number;
}

/** Limits and switches of a connection; every field has a default. */
export interface Http2Options {
  /**
   * mitmproxy's `validate_inbound_headers` (default true): lower-case token names, no
   * connection-specific fields (`connection`, `keep-alive`, `proxy-connection`,
   * `transfer-encoding`, `upgrade`; `te` only `trailers`), no whitespace around values,
   * pseudo-headers before regular fields and known ones only, `content-length` equal to the sum
   * of DATA. Always checked: required pseudo-headers, no duplicates or pseudo-headers in
   * trailers, no CR, LF or NUL anywhere in fields.
   */
  validateHeaders?: boolean;
  /** Our SETTINGS_MAX_CONCURRENT_STREAMS: peer streams over it are refused (default 100). */
  maxConcurrentStreams?: number;
  /** Our SETTINGS_INITIAL_WINDOW_SIZE: unconsumed bytes the peer may send per stream (default 256 KiB). */
  initialWindowSize?: number;
  /** Unconsumed bytes the peer may send on the whole connection (default 1 MiB). */
  connectionWindowSize?: number;
  /** Our SETTINGS_MAX_FRAME_SIZE (default 16384). */
  maxFrameSize?: number;
  /** Our SETTINGS_HEADER_TABLE_SIZE: the peer's encoder table (default 4096). */
  headerTableSize?: number;
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE: decoded size of one header list, HPACK bomb guard (default 65536). */
  maxHeaderListSize?: number;
  /** Largest encoded header block, HEADERS plus CONTINUATIONs (default 2 x maxHeaderListSize). */
  maxHeaderBlockSize?: number;
  /** Server role: announce SETTINGS_ENABLE_CONNECT_PROTOCOL and accept `:protocol` (RFC 8441). Default false. */
  enableConnectProtocol?: boolean;
  /** Huffman-code literals where shorter (default true). */
  huffman?: boolean;
  /** Client role: the peer's stream limit assumed until its SETTINGS arrive (default 100). */
  provisionalMaxConcurrentStreams?: number;
  /** Flood guards; see {@link FloodLimits} for the defaults. */
  floods?: Partial<FloodLimits>;
  /** Clock for the flood guards' rates, in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** The connection's role: `server` faces a client, `client` faces a server. */
export type Http2Role = 'client' | 'server';
