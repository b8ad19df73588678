import type { Buffer } from 'node:buffer';
import type { Http1Error } from './errors.js';

/**
 * Header fields exactly as on the wire: `[name, value]` byte pairs in received order and case,
 * value without surrounding whitespace. Parsed heads hold views into the socket chunks (no copy;
 * Node hands out a fresh Buffer per read, so the views stay valid). This is the shape of
 * `Headers.fields` in the flow model.
 */
export type RawHeaders = Array<[Buffer, Buffer]>;

/** HTTP versions HTTP/1 heads carry. */
export type Http1Version = 'HTTP/1.0' | 'HTTP/1.1';

/**
 * How a message's body is delimited (RFC 9112 section 6.3).
 * - `none`: no body (request without Content-Length/Transfer-Encoding, Content-Length: 0,
 *   responses to HEAD, 1xx, 204, 304).
 * - `length`: exactly `contentLength` bytes.
 * - `chunked`: chunked transfer coding; the parser hands out de-chunked bytes and trailers.
 * - `close`: a response read until the server closes (call `finish()` on socket end).
 * - `tunnel`: 101 Switching Protocols or a 2xx answer to CONNECT: HTTP ends after the head and
 *   the parser hands the rest of the stream over (`takeRemaining()`).
 */
export type BodyKind = 'none' | 'length' | 'chunked' | 'close' | 'tunnel';

/** Framing facts computed once while the head is parsed, so nobody rescans headers for them. */
export interface Framing {
  /** How the body is delimited. */
  bodyKind: BodyKind;
  /** Declared Content-Length, or -1 if there is none (or it does not apply). */
  contentLength: number;
  /**
   * Whether the connection may carry another message after this one, from the version and the
   * `Connection` header (`close` / `keep-alive`); always false for `close`-delimited bodies.
   */
  keepAlive: boolean;
  /**
   * Request: `Connection: upgrade` plus an `Upgrade` header (e.g. WebSocket) on HTTP/1.1.
   * Response: status 101.
   */
  upgrade: boolean;
  /** Request: `Expect: 100-continue` on HTTP/1.1. Always false on responses. */
  expectContinue: boolean;
  /** Size of the head on the wire, start line to the empty line inclusive. */
  headSize: number;
}

/**
 * Shape of the request-target (RFC 9112 section 3.2): `origin` (`/path?q`), `absolute`
 * (`http://host:port/path`, sent to proxies), `authority` (`host:port`, CONNECT only),
 * `asterisk` (`*`, OPTIONS only).
 */
export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk';

/** The fields of a request head that come from its request-target. */
export interface TargetParts {
  form: TargetForm;
  /** `http` / `https` (lower case) for absolute form, else `''`. */
  scheme: string;
  /** `host[:port]` as received for absolute and authority form, else `''`. */
  authority: string;
  /** Host for absolute and authority form (IPv6 without brackets), else `''`. */
  host: string;
  /** Port for absolute form (default by scheme) and authority form, else 0. */
  port: number;
  /** Path with query for origin and absolute form (`/` if absolute form had none), `*` for asterisk form, `''` for authority form. */
  path: string;
}

/** A parsed request head. Strings are latin1-decoded bytes, so `Buffer.from(s, 'latin1')` gives the wire bytes back. */
export interface RequestHead extends Framing, TargetParts {
  /** Method as received (case kept; methods are case-sensitive). */
  method: string;
  /** Request-target exactly as received. */
  target: string;
  httpVersion: Http1Version;
  headers: RawHeaders;
}

/** A parsed response head. */
export interface ResponseHead extends Framing {
  httpVersion: Http1Version;
  statusCode: number;
  /** Reason phrase, latin1-decoded (may be empty). */
  reason: string;
  headers: RawHeaders;
}

/**
 * Receives what a parser finds, synchronously, in stream order. A handler may call the parser's
 * `pause()` (e.g. in `onHead` while hooks run, or in `onData` for backpressure); the parser then
 * stops at once and keeps all unprocessed bytes until `resume()`.
 */
export interface Http1Handler<H> {
  /** A message head is complete. Framing facts are on the head. */
  onHead(head: H): void;
  /** Body bytes, already de-chunked; views into the received chunks (no copy). */
  onData(chunk: Buffer): void;
  /** Trailer fields of a chunked body (only called when there is at least one). */
  onTrailers(trailers: RawHeaders): void;
  /**
   * The message is complete. The parser then waits: bytes after the message (a pipelined
   * request, tunnel data) stay buffered until `next()` or `takeRemaining()`.
   */
  onEnd(): void;
  /** Malformed input (or a limit hit); the parser is dead afterwards. */
  onError(error: Http1Error): void;
}

/** Handler of a {@link ResponseParser}: adds interim (1xx other than 101) responses. */
export interface ResponseHandler extends Http1Handler<ResponseHead> {
  /**
   * An interim response (100 Continue, 102, 103 Early Hints): forward it; the parser goes on
   * with the same exchange's final response without needing `next()`.
   */
  onInformational(head: ResponseHead): void;
}

/** Parser limits and validation switches. */
export interface Http1ParserOptions {
  /** Largest head (and trailer block) accepted, in bytes. Default 65536. */
  maxHeadSize?: number;
  /**
   * Largest body accepted, in bytes (`body_size_limit`); larger bodies fail with a 413 error
   * before any byte over the limit is handed out. Default: no limit. Mutable per message
   * through the parser's `bodySizeLimit` property (e.g. set it in `onHead`).
   */
  bodySizeLimit?: number;
  /**
   * Request smuggling protection (`validate_inbound_headers`), default true: header names must
   * be tokens; Content-Length together with Transfer-Encoding, repeated Content-Length or
   * Transfer-Encoding headers, Transfer-Encoding on HTTP/1.0 or on 1xx/204 responses, and
   * unknown transfer codings are errors; several Host headers are an error. Off, the parser
   * accepts any visible bytes in names, lets Transfer-Encoding win over Content-Length and
   * accepts repeated identical Content-Lengths. Framing that cannot be determined (bad
   * Content-Length, request coding not ending in chunked, obs-fold, bare LF) is always an error.
   */
  strict?: boolean;
}
