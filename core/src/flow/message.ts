import type { MessageState } from './state.js';
import { Headers, type HeadersInit } from './headers.js';
import { decode as decodeContent, encode as encodeContent } from './encoding.js';
import { assembleContentType, inferContentEncoding, parseContentType } from './content-type.js';
import { decodeText, encodeText } from './charset.js';
import { latin1Of } from './bytes.js';

/**
 * How a message body is handled by the proxy: `false` buffers it (the default, so hooks see the
 * whole body), `true` streams it through unmodified, a function transforms each chunk. Set it in
 * the `requestheaders`/`responseheaders` hook.
 */
export type StreamSetting = boolean | ((chunk: Buffer) => Buffer | Iterable<Buffer>);

/** Constructor fields shared by requests and responses. */
export interface MessageInit {
  /** e.g. `HTTP/1.1`, `HTTP/2.0`, `HTTP/3`. Default `HTTP/1.1`. */
  httpVersion?: string | Buffer;
  /** A Headers instance is adopted as-is (no copy). */
  headers?: HeadersInit | null;
  /** Raw (still content-encoded) body; null if not available (e.g. streamed). */
  content?: Buffer | null;
  trailers?: HeadersInit | null;
  /** Seconds since the epoch; default: now. */
  timestampStart?: number;
  timestampEnd?: number | null;
}

/** Decoded bodies up to this size are cached per message (repeated `.content` reads, filters). */
const DECODE_CACHE_LIMIT = 1 << 20;

function str(v: string | Buffer): string {
  return typeof v === 'string' ? v : latin1Of(v);
}

/** Base of {@link Request} and {@link Response}: version, headers, body, trailers, timestamps. */
export abstract class Message {
  /** The HTTP headers. */
  headers: Headers;
  /** HTTP trailers, or null. */
  trailers: Headers | null;
  /** When the first byte (headers) was received, seconds since the epoch. */
  timestampStart: number;
  /** When the last byte was received, or null. */
  timestampEnd: number | null;
  /** See {@link StreamSetting}. */
  stream: StreamSetting = false;

  protected _httpVersion: string;
  protected _content: Buffer | null;
  private _decoded: { raw: Buffer; ce: string; value: Buffer } | null = null;

  constructor(init: MessageInit) {
    this._httpVersion = init.httpVersion === undefined ? 'HTTP/1.1' : str(init.httpVersion);
    this.headers = init.headers instanceof Headers ? init.headers : Headers.from(init.headers);
    this._content = init.content ?? null;
    this.trailers = init.trailers ? Headers.from(init.trailers) : null;
    this.timestampStart = init.timestampStart ?? Date.now() / 1000;
    this.timestampEnd = init.timestampEnd === undefined ? null : init.timestampEnd;
  }

  /** HTTP version string, e.g. `HTTP/1.1`. */
  get httpVersion(): string {
    return this._httpVersion;
  }

  set httpVersion(v: string | Buffer) {
    this._httpVersion = str(v);
  }

  get isHttp10(): boolean {
    return this._httpVersion === 'HTTP/1.0';
  }

  get isHttp11(): boolean {
    return this._httpVersion === 'HTTP/1.1';
  }

  get isHttp2(): boolean {
    return this._httpVersion === 'HTTP/2.0';
  }

  get isHttp3(): boolean {
    return this._httpVersion === 'HTTP/3';
  }

  /** The body as on the wire (still content-encoded). Reading it never throws. */
  get rawContent(): Buffer | null {
    return this._content;
  }

  set rawContent(v: Buffer | null) {
    this._content = v;
  }

  /**
   * The decoded body (Content-Encoding removed). Throws ContentEncodingError if the encoding is
   * unknown or the bytes are corrupt (see {@link getContent}). Setting it encodes per the
   * Content-Encoding header and updates Content-Length.
   */
  get content(): Buffer | null {
    return this.getContent(true);
  }

  set content(v: Buffer | null) {
    this.setContent(v);
  }

  /** Like {@link content}; with `strict = false` a body that does not decode is returned raw. */
  getContent(strict = true): Buffer | null {
    const raw = this._content;
    if (raw === null) return null;
    const ce = this.headers.get('content-encoding');
    if (!ce) return raw;
    const cached = this._decoded;
    if (cached && cached.raw === raw && cached.ce === ce) return cached.value;
    try {
      const value = decodeContent(raw, ce);
      if (value.length <= DECODE_CACHE_LIMIT) this._decoded = { raw, ce, value };
      return value;
    } catch (err) {
      if (strict) throw err;
      return raw;
    }
  }

  /** `make()`'s body: a Buffer is the decoded content, a string goes through {@link text}. */
  protected setBody(content: string | Buffer): void {
    if (Buffer.isBuffer(content)) this.content = content;
    else if (typeof content === 'string') this.text = content;
    else throw new TypeError(`Expected content to be a string or Buffer, not ${typeof content}.`);
  }

  /**
   * Set the decoded body: it is encoded with the message's Content-Encoding (an unknown encoding
   * is dropped from the headers) and Content-Length is updated unless Transfer-Encoding is set.
   */
  setContent(value: Buffer | null): void {
    if (value === null) {
      this._content = null;
      return;
    }
    if (!Buffer.isBuffer(value)) {
      throw new TypeError(`Message content must be a Buffer, not ${typeof value}. Use .text to assign a string.`);
    }
    const ce = this.headers.get('content-encoding');
    let raw: Buffer;
    if (!ce) {
      raw = value;
    } else {
      try {
        raw = encodeContent(value, ce);
        if (value.length <= DECODE_CACHE_LIMIT) this._decoded = { raw, ce, value };
      } catch {
        this.headers.delete('content-encoding');
        raw = value;
      }
    }
    this._content = raw;
    if (!this.headers.has('transfer-encoding')) this.headers.set('content-length', String(raw.length));
  }

  /**
   * The decoded body as text, in the charset from Content-Type (or inferred: UTF-8 for JSON,
   * HTML, XML, JavaScript and CSS; latin-1 otherwise). Setting it encodes with that charset,
   * switching the Content-Type to UTF-8 if the charset cannot represent the text.
   */
  get text(): string | null {
    return this.getText(true);
  }

  set text(v: string | null) {
    this.setText(v);
  }

  /** Like {@link text}; with `strict = false` undecodable bytes become U+FFFD instead of throwing. */
  getText(strict = true): string | null {
    const content = this.getContent(strict);
    if (content === null) return null;
    const enc = inferContentEncoding(this.headers.get('content-type') ?? '', content);
    try {
      return decodeText(content, enc, true);
    } catch (err) {
      if (strict) throw err;
      return content.toString('utf8');
    }
  }

  setText(text: string | null): void {
    if (text === null) {
      this.setContent(null);
      return;
    }
    const enc = inferContentEncoding(this.headers.get('content-type') ?? '');
    let bytes: Buffer;
    try {
      bytes = encodeText(text, enc);
    } catch {
      const ct = parseContentType(this.headers.get('content-type') ?? '') ?? [
        'text',
        'plain',
        new Map<string, string>(),
      ];
      ct[2].set('charset', 'utf-8');
      this.headers.set('content-type', assembleContentType(...ct));
      bytes = Buffer.from(text, 'utf8');
    }
    this.setContent(bytes);
  }

  /**
   * Parse the body as JSON (decoded, not strict: an undecodable body is parsed raw).
   * @throws TypeError if there is no body, SyntaxError if it is not JSON.
   */
  json(): unknown {
    const content = this.getContent(false);
    if (content === null) throw new TypeError('Message content is not available.');
    let text: string;
    if (content[0] === 0xff && content[1] === 0xfe) text = decodeText(content, 'utf-16', false);
    else if (content[0] === 0xfe && content[1] === 0xff) text = decodeText(content, 'utf-16', false);
    else text = decodeText(content, 'utf-8-sig', false);
    return JSON.parse(text);
  }

  /** Decode the body per Content-Encoding and remove that header. */
  decode(strict = true): void {
    const decoded = this.getContent(strict);
    this.headers.delete('content-encoding');
    this.setContent(decoded);
  }

  /**
   * Encode the body with `encoding` (gzip, deflate, br, zstd, identity), replacing any existing
   * Content-Encoding; the body is not decoded first.
   * @throws Error for an unsupported encoding.
   */
  encode(encoding: string): void {
    this.headers.set('content-encoding', encoding);
    this.setContent(this._content);
    if (!this.headers.has('content-encoding')) {
      throw new Error(`Invalid content encoding '${encoding}': expected gzip, deflate, br, zstd or identity.`);
    }
  }

  protected messageState(): MessageState {
    return {
      http_version: Buffer.from(this._httpVersion, 'latin1'),
      headers: this.headers.getState(),
      content: this._content,
      trailers: this.trailers ? this.trailers.getState() : null,
      timestamp_start: this.timestampStart,
      timestamp_end: this.timestampEnd,
    };
  }

  protected setMessageState(state: MessageState): void {
    this._httpVersion = latin1Of(state.http_version);
    this.headers = Headers.fromState(state.headers);
    this._content = state.content;
    this._decoded = null;
    this.trailers = state.trailers ? Headers.fromState(state.trailers) : null;
    this.timestampStart = state.timestamp_start;
    this.timestampEnd = state.timestamp_end;
  }
}
