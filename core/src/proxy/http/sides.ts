/**
 * The seams between the protocol-neutral HTTP exchange (`exchange.ts`) and the wires: the client
 * half of one request ({@link ClientSide}), the server half ({@link ServerSide}), and the
 * {@link Connector} that picks the server connection. HTTP/1 implements them in `../http1/`;
 * HTTP/2 streams, client replay and later modes implement the same interfaces, so the exchange
 * (hooks, kill, streaming, limits, the 502 page) exists once.
 */
import type { Duplex } from 'node:stream';
import type { HTTPFlow, Request, Response, Server } from '../../flow/index.js';

/** Header fields as raw byte pairs in wire order (an HTTP/1 head, a decoded HTTP/2 header block). */
export type HeaderPairs = Array<[Buffer, Buffer]>;

/** Where requests on a tunnel go: fixed by the CONNECT target (or the mode). */
export interface Target {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /**
   * Reverse mode: every request goes to this target (absolute-form ones too), and its Host header
   * becomes `hostHeader`, unless that is null (`keep_host_header`).
   */
  readonly reverse?: { readonly hostHeader: string | null };
}

/**
 * A request as it came off the wire, before any addon saw it. The server side compares the flow's
 * request with it: bytes no addon touched were checked by the parser and need no second check.
 */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: HeaderPairs;
}

/**
 * A response head as the server side read it (an HTTP/1 `ResponseHead` fits as it is). Also the
 * shape of interim (1xx) heads.
 */
export interface ResponseHeadInfo {
  readonly httpVersion: string;
  readonly statusCode: number;
  readonly reason: string;
  readonly headers: HeaderPairs;
  /** Declared body length; -1 when unknown (chunked, read until close, no content-length). */
  readonly contentLength: number;
  /** The server's connection stays usable after this response (HTTP/1 keep-alive; HTTP/2: true). */
  readonly keepAlive: boolean;
}

/**
 * Where a streamed body goes, chunk by chunk, with backpressure: the producer (a client side
 * reading a request body, a server side reading a response body) calls {@link write} for each
 * chunk and stops when it returns false, until the {@link onDrain} callback runs. {@link end}
 * comes once, after the last chunk, with the trailers.
 */
export interface BodyWriter {
  /**
   * Pass one chunk on. It may be a view into a read buffer that the producer reuses after the
   * call, unless {@link retained} says the writer still holds it. Returns false when the
   * receiver is full: pause until {@link onDrain}.
   */
  write(chunk: Buffer): boolean;
  /** After a write: the receiver still references the last chunk (queued, not yet sent). */
  readonly retained: boolean;
  /** Call `resume` once the receiver takes more (after a write returned false). */
  onDrain(resume: () => void): void;
  /** The body is complete: the trailers (or null) close it. */
  end(trailers: HeaderPairs | null): void;
}

/** A server connection's raw stream after a protocol switch (101), and the bytes read past the head. */
export interface UpgradedStream {
  readonly stream: Duplex;
  readonly rest: Buffer;
}

/**
 * The client half of one request, whatever the wire (an HTTP/1 request, an HTTP/2 stream, a
 * replayed flow). The exchange reads the request body through it and answers through it; the
 * side frames what it sends itself (Content-Length, chunked, DATA frames).
 */
export interface ClientSide {
  /** Declared request body length: -1 unknown (chunked, HTTP/2 without content-length), 0 none. */
  readonly contentLength: number;
  /** The request has a body (or may have one: unknown length). */
  readonly hasBody: boolean;
  /** The client waits for `100 Continue` before it sends the body. */
  readonly expectContinue: boolean;
  /** The request as received, or null when it did not come off a wire (client replay). */
  readonly received: ReceivedRequest | null;
  /** The request's trailers, once the body was read or streamed (null: none). */
  readonly trailers: HeaderPairs | null;
  /**
   * Buffer the request body (the body_size_limit check belongs to the codec, which can refuse a
   * declared length before the first byte). Synchronous when it is already here. Resolves with
   * null once a body of unknown length outgrows `limit`: the side stops reading, and
   * {@link streamBody} sends what was read so far first.
   */
  readBody(limit: number | null): Buffer | null | Promise<Buffer | null>;
  /** Stream the request body into `into` (backpressure honoured), then `into.end(trailers)`. */
  streamBody(into: BodyWriter): void | Promise<void>;
  /** An interim response: 100 Continue, 103 Early Hints. */
  sendInterim(head: ResponseHeadInfo): void;
  /**
   * The final response with its whole body (`response.rawContent`); `from` is the head as the
   * server sent it (null for a response an addon made), for the framing and pristine checks.
   */
  sendResponse(response: Response, from: ResponseHeadInfo | null): void;
  /**
   * Send the response head now; the body follows through the returned writer. With
   * `lengthMayChange` (a stream function transforms the body) a declared length is dropped.
   */
  startResponse(response: Response, from: ResponseHeadInfo, lengthMayChange: boolean): BodyWriter;
  /**
   * The exchange failed: answer `status` with an error page naming `message`, or, once the
   * response head went out, cut this exchange (HTTP/1: close the connection; HTTP/2: RST_STREAM).
   */
  fail(status: number, message: string): void;
  /** Drop the exchange without an answer (a killed flow, a throwing stream function). */
  abort(): void;
  /** Resolves when the client can no longer receive this response (it disconnected, reset). */
  readonly closed: Promise<void>;
  /**
   * After a 101: send the (maybe modified) response head, then hand both raw streams to the next
   * layer (today a byte relay, later the WebSocket layer). The side's exchange ends here.
   */
  upgrade(flow: HTTPFlow, server: UpgradedStream): void;
}

/**
 * One request/response on a server connection. An HTTP/1 connection carries one at a time; an
 * HTTP/2 connection many at once (each its own ServerSide).
 */
export interface ServerSide {
  /** The connection's state object (the flow's `serverConn`). */
  readonly server: Server;
  /** Send the request with its whole body. */
  send(request: Request, body: Buffer, from: ReceivedRequest | null): void;
  /**
   * Send the request head now; the body follows through the returned writer. With
   * `lengthMayChange` (a stream function transforms the body) a declared length is dropped.
   */
  startRequest(request: Request, from: ReceivedRequest | null, lengthMayChange: boolean): BodyWriter;
  /**
   * The final response head (call right after sending; await it later). Interim heads go to
   * `onInterim`; a body over `bodySizeLimit` bytes fails the exchange (`body_size_limit`; the
   * codec refuses a declared length before the first byte). Rejects with an UpstreamError when
   * the server fails.
   */
  response(
    onInterim: ((head: ResponseHeadInfo) => void) | null,
    bodySizeLimit: number | null,
  ): ResponseHeadInfo | Promise<ResponseHeadInfo>;
  /**
   * Buffer the response body. Resolves with it, or with null once it outgrows `limit` (then the
   * rest is to be streamed: call {@link streamBody}, which sends what was read so far first).
   */
  readBody(limit: number | null): Buffer | null | Promise<Buffer | null>;
  /** The response's trailers, once the body was read (null: none). */
  readonly trailers: HeaderPairs | null;
  /** Stream the response body into `into` (backpressure honoured), then `into.end(trailers)`. */
  streamBody(into: BodyWriter): void | Promise<void>;
  /** After a 101: the raw server stream; this side and its connection leave HTTP. */
  takeOver(): UpgradedStream;
  /** The response was read to its end: the connection goes back to the connector (or closes). */
  release(): void;
  /**
   * Give up on this exchange (error, kill, the client left): HTTP/1 closes the connection,
   * HTTP/2 resets the stream. A pending wait for the response fails with `reason`.
   */
  abort(reason?: string): void;
}

/**
 * Picks the server connection for a flow: reuses one when it can (the hot path: synchronous),
 * pools, and later goes through upstream proxies (`flow.serverConn.via`) or multiplexes HTTP/2.
 */
export interface Connector {
  /**
   * The `Server` a new flow to `host:port` starts with (the open connection's when it goes
   * there), so that filters and hooks see its address before any connect.
   */
  serverConnFor(host: string, port: number): Server;
  /**
   * A server side for this flow's request; sets `flow.serverConn`. Throws or rejects with an
   * UpstreamError when no connection can be made (the exchange answers 502).
   */
  serverFor(flow: HTTPFlow): ServerSide | Promise<ServerSide>;
}
