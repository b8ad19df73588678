/**
 * The incremental HTTP/1 message parser shared by {@link RequestParser} and
 * {@link ResponseParser}: buffering, pause/resume, body framing and chunked decoding.
 */
import { Buffer } from 'node:buffer';
import { CR, CRLFCRLF, HEX, HTAB, LF, SP, VALUE, describeByte, view } from './chars.js';
import { HeadError, Http1Error, type Http1ErrorCode, Http1ErrorCodes, type Http1Side } from './errors.js';
import { FieldScan } from './fields.js';
import { parseTrailerBlock } from './head.js';
import type { BodyKind, Http1Handler, Http1ParserOptions, RawHeaders } from './types.js';

// Parser states.
/** Between messages: waiting for `next()`. Bytes stay queued. */
const S_IDLE = 0;
/** Before a head: skipping empty lines (CRLF) that may precede a message. */
const S_HEAD_START = 1;
/** After a CR among leading empty lines. */
const S_HEAD_START_LF = 2;
/** Collecting a head block. */
const S_HEAD = 3;
/** Content-Length body. */
const S_LENGTH = 4;
/** Chunk size digits. */
const S_CHUNK_SIZE = 5;
/** Chunk extension (or whitespace before it). */
const S_CHUNK_EXT = 6;
/** LF after the chunk size line's CR. */
const S_CHUNK_SIZE_LF = 7;
const S_CHUNK_DATA = 8;
/** CR after chunk data. */
const S_CHUNK_DATA_CR = 9;
/** LF after chunk data. */
const S_CHUNK_DATA_LF = 10;
/** Collecting the trailer block after the last chunk. */
const S_TRAILERS = 11;
/** Body read until the connection closes. */
const S_CLOSE = 12;
/** HTTP is over on this stream (upgrade, CONNECT, `takeRemaining()`): bytes are only queued. */
const S_TUNNEL = 13;
/** After an error. Everything is ignored. */
const S_DEAD = 14;
/** A head was reported; the body starts when the handler has not paused. */
const S_AFTER_HEAD = 15;

/** KMP automaton for `\r\n\r\n`: state = bytes of the pattern matched so far. */
function kmp(m: number, c: number): number {
  if (c === CR) return m === 2 ? 3 : 1;
  if (c === LF) return m === 1 ? 2 : m === 3 ? 4 : 0;
  return 0;
}

const EMPTY = Buffer.alloc(0);
/** A chunk size above this gets no more digits: sizes stay below 2^44 bytes (16 TiB). */
const MAX_CHUNK_BEFORE_DIGIT = 0xffffffffff;
const DEFAULT_MAX_HEAD = 65536;

/**
 * Common base of the two parsers. Feed it socket chunks with {@link push}; it calls the handler
 * synchronously. It stops by itself after each message (`onEnd`) until {@link next} (on the
 * subclass) is called, so pipelined bytes wait in the buffer; {@link pause} stops it anywhere.
 */
export abstract class Http1Parser<H> {
  /**
   * Body size limit in bytes for the current and later messages (`body_size_limit`). May be
   * changed at any time, e.g. in `onHead` once hooks decided; a Content-Length body over the
   * limit fails as soon as its head is through (or on `resume()`), before any body byte.
   */
  bodySizeLimit: number;
  /** Largest head or trailer block, in bytes. */
  readonly maxHeadSize: number;
  /** Whether the smuggling checks of `validate_inbound_headers` apply. */
  readonly strict: boolean;

  protected readonly handler: Http1Handler<H>;
  protected readonly scan = new FieldScan();
  protected state = S_IDLE;
  protected abstract readonly side: Http1Side;

  private queue: Buffer[] = [];
  private qi = 0;
  private qpos = 0;
  private queued = 0;
  private running = false;
  private paused = false;
  private ended = false;
  /** Bytes consumed from the stream so far, and the stream offset of the chunk being processed. */
  private consumed = 0;
  private chunkBase = 0;
  /** Stream offset where the current message (or trailer block) started. */
  protected msgStart = 0;

  // Block (head / trailer) collection.
  private parts: Buffer[] = [];
  private partsLen = 0;
  private match = 0;
  /** Last byte of the stored parts (-1 at the start of a block), to spot a bare LF at a border. */
  private lastByte = -1;

  // Body.
  private kind: BodyKind = 'none';
  private declaredLength = -1;
  private remaining = 0;
  private body = 0;
  private extBytes = 0;
  private extSemicolon = false;
  private chunkDigits = 0;

  protected constructor(handler: Http1Handler<H>, options: Http1ParserOptions, readyForHead: boolean) {
    this.handler = handler;
    this.state = readyForHead ? S_HEAD_START : S_IDLE;
    this.maxHeadSize = options.maxHeadSize ?? DEFAULT_MAX_HEAD;
    this.bodySizeLimit = options.bodySizeLimit ?? Infinity;
    this.strict = options.strict ?? true;
  }

  /** Hands the parser the next chunk read from the socket. Empty chunks are ignored. */
  push(chunk: Buffer): void {
    if (this.state === S_DEAD || chunk.length === 0) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (!this.running && !this.paused) this.run();
  }

  /**
   * The peer finished sending (socket `end`). Ends a read-until-close body; an unfinished
   * message becomes an `INCOMPLETE` error (or `NO_RESPONSE` while a response is awaited).
   * Takes effect once the buffered bytes before it are processed.
   */
  finish(): void {
    this.ended = true;
    if (!this.running && !this.paused) this.run();
  }

  /** Stops processing (also from inside a handler call) until {@link resume}. Incoming bytes are kept. */
  pause(): void {
    this.paused = true;
  }

  /** Continues after {@link pause}, first with the bytes buffered meanwhile. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.running) this.run();
  }

  /** Whether {@link pause} is in effect. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** True between messages: the last one ended and `next()` was not called yet (or none was started). */
  get isIdle(): boolean {
    return this.state === S_IDLE;
  }

  /** Bytes received and not yet handed out (queued chunks plus a partial head). */
  get bufferedBytes(): number {
    return this.queued + this.partsLen;
  }

  /** Body bytes handed out for the current message so far. */
  get bodyBytes(): number {
    return this.body;
  }

  /**
   * Ends HTTP parsing on this stream and returns every byte received and not yet handed out
   * (e.g. the first bytes of a tunnel after CONNECT or of WebSocket frames after a 101). Later
   * pushes are only buffered, and this may be called again for them.
   */
  takeRemaining(): Buffer {
    const pieces: Buffer[] = this.parts;
    for (let i = this.qi; i < this.queue.length; i++) {
      const c = this.queue[i]!;
      pieces.push(i === this.qi && this.qpos > 0 ? view(c, this.qpos, c.length) : c);
    }
    const total = this.queued + this.partsLen;
    this.queue = [];
    this.qi = this.qpos = this.queued = 0;
    this.parts = [];
    this.partsLen = 0;
    this.state = this.state === S_DEAD ? S_DEAD : S_TUNNEL;
    return pieces.length === 0 ? EMPTY : pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, total);
  }

  /**
   * Parses one complete head block `buf[start..end)` and reports it; `next` is the read position
   * after the block in the current chunk, for {@link headDone} / {@link commit}.
   */
  protected abstract onHeadBlock(buf: Buffer, start: number, end: number, next: number): void;

  /** What to do when the stream ends while waiting for a head with nothing buffered. */
  protected abstract eofBeforeHead(): void;

  /** After an interim head (1xx): the block ends at `next` and another head follows. */
  protected expectAnotherHead(next: number): void {
    this.commit(next);
    this.state = S_HEAD_START;
  }

  /** Starts reading a new message. */
  protected begin(): void {
    this.state = S_HEAD_START;
    this.body = 0;
    if (!this.running && !this.paused) this.run();
  }

  /**
   * Called by subclasses right before reporting a head: the body (framed as `kind`) starts once
   * the handler returns without pausing.
   */
  protected headDone(end: number, kind: BodyKind, contentLength: number): void {
    this.commit(end);
    this.kind = kind;
    this.declaredLength = contentLength;
    this.state = S_AFTER_HEAD;
  }

  /** Moves the read position in the current chunk to `next` (before any handler call). */
  protected commit(next: number): void {
    const d = next - this.qpos;
    if (d > 0) {
      this.consumed += d;
      this.queued -= d;
      this.qpos = next;
    }
  }

  private startBody(): void {
    switch (this.kind) {
      case 'length':
        this.remaining = this.declaredLength;
        this.state = S_LENGTH;
        this.checkDeclaredSize();
        return;
      case 'chunked':
        this.state = S_CHUNK_SIZE;
        this.remaining = 0;
        this.chunkDigits = 0;
        this.extBytes = 0;
        return;
      case 'close':
        this.state = S_CLOSE;
        return;
      case 'tunnel':
        this.state = S_TUNNEL;
        this.handler.onEnd();
        return;
      case 'none':
        this.endMessage();
        return;
    }
  }

  /** Reports a head error found at `offset` (relative to the head, or -1). */
  protected headError(e: unknown): void {
    if (!(e instanceof HeadError)) throw e;
    this.fail(e.code, e.message, e.offset < 0 ? -1 : this.msgStart + e.offset, e.header);
  }

  protected fail(code: Http1ErrorCode, message: string, offset: number, header?: string): void {
    if (this.state === S_DEAD) return;
    this.state = S_DEAD;
    this.queue = [];
    this.parts = [];
    this.qi = this.qpos = this.queued = this.partsLen = 0;
    this.handler.onError(new Http1Error(code, message, this.side, offset, header));
  }

  private endMessage(): void {
    this.state = S_IDLE;
    this.handler.onEnd();
  }

  private checkDeclaredSize(): void {
    if (this.state === S_LENGTH && !this.paused && this.body + this.remaining > this.bodySizeLimit) {
      this.fail(
        Http1ErrorCodes.BODY_TOO_LARGE,
        `${this.side === 'request' ? 'Request' : 'Response'} body of ${this.body + this.remaining} bytes (Content-Length) exceeds body_size_limit of ${this.bodySizeLimit} bytes.`,
        this.msgStart,
      );
    }
  }

  private run(): void {
    this.running = true;
    try {
      let q = this.queue;
      while (!this.paused) {
        const st = this.state;
        if (st === S_AFTER_HEAD) {
          this.startBody();
          q = this.queue;
          continue;
        }
        if (st === S_IDLE || st === S_TUNNEL || st === S_DEAD || this.qi >= q.length) break;
        const chunk = q[this.qi]!;
        const pos = this.qpos;
        this.chunkBase = this.consumed - pos;
        const next = this.step(st, chunk, pos);
        if (this.queue !== q) break; // failed or handed over: the queue was replaced
        this.commit(next);
        if (next >= chunk.length) {
          if (this.qi === q.length - 1) {
            // pop() when possible: setting length to 0 is a slow runtime call
            if (q.length === 1) q.pop();
            else q.length = 0;
            this.qi = this.qpos = 0;
          } else {
            q[this.qi++] = EMPTY;
            this.qpos = 0;
          }
        }
      }
    } finally {
      this.running = false;
    }
    if (this.ended && !this.paused && this.qi >= this.queue.length) this.onEof();
  }

  private step(st: number, chunk: Buffer, pos: number): number {
    switch (st) {
      case S_HEAD_START:
      case S_HEAD_START_LF:
        return this.stepHeadStart(chunk, pos);
      case S_HEAD:
      case S_TRAILERS:
        return this.stepBlock(chunk, pos);
      case S_LENGTH:
        return this.stepLength(chunk, pos);
      case S_CHUNK_DATA:
        return this.stepChunkData(chunk, pos);
      case S_CLOSE:
        return this.stepClose(chunk, pos);
      default:
        return this.stepChunkLine(chunk, pos);
    }
  }

  /** Skips CRLFs before a message (RFC 9112 section 2.2), then starts the head block. */
  private stepHeadStart(chunk: Buffer, pos: number): number {
    const len = chunk.length;
    while (pos < len) {
      const c = chunk[pos]!;
      if (this.state === S_HEAD_START_LF) {
        if (c !== LF) return this.badEnding(c, pos, 'an empty line before the message');
        this.state = S_HEAD_START;
        pos++;
      } else if (c === CR) {
        this.state = S_HEAD_START_LF;
        pos++;
      } else if (c === LF) {
        return this.badEnding(c, pos, 'an empty line before the message');
      } else {
        this.state = S_HEAD;
        this.match = 0;
        this.lastByte = -1;
        this.msgStart = this.chunkBase + pos;
        return pos;
      }
    }
    return pos;
  }

  private badEnding(c: number, pos: number, where: string): number {
    this.fail(
      Http1ErrorCodes.BAD_LINE_ENDING,
      `Line ending without CRLF (${describeByte(c)}) in ${where} at stream byte ${this.chunkBase + pos}.`,
      this.chunkBase + pos,
    );
    return pos;
  }

  /**
   * Collects a head or trailer block up to its empty line without rescanning: the search for
   * `\r\n\r\n` runs once over each byte (native `indexOf`), a 4-state automaton bridges chunk
   * borders, and the pieces are joined once when the block is complete.
   */
  private stepBlock(chunk: Buffer, pos: number): number {
    const len = chunk.length;
    let end = -1;
    let m = this.match;
    if (m !== 0) {
      const lim = Math.min(len, pos + 4 - m);
      for (let i = pos; i < lim; i++) {
        m = kmp(m, chunk[i]!);
        if (m === 4) {
          end = i + 1;
          break;
        }
      }
    }
    const allowance = this.maxHeadSize - this.partsLen;
    if (end < 0) {
      const idx =
        len - pos > allowance
          ? view(chunk, pos, pos + allowance).indexOf(CRLFCRLF)
          : chunk.indexOf(CRLFCRLF, pos) - pos;
      if (idx >= 0) end = pos + idx + 4;
    }
    if (end < 0 || end - pos > allowance) {
      if (len - pos >= allowance) return this.tooLarge(chunk, pos);
      // A bare LF can never become valid: report it now rather than when the limit is hit.
      for (let i = chunk.indexOf(LF, pos); i >= 0; i = chunk.indexOf(LF, i + 1)) {
        if ((i > pos ? chunk[i - 1] : this.lastByte) !== CR) {
          return this.badEnding(LF, i, this.state === S_HEAD ? 'a message head' : 'the trailers');
        }
      }
      this.lastByte = chunk[len - 1]!;
      const rest = len - pos;
      if (rest >= 3) {
        m = kmp(kmp(kmp(0, chunk[len - 3]!), chunk[len - 2]!), chunk[len - 1]!);
      } else {
        m = this.match;
        for (let i = pos; i < len; i++) m = kmp(m, chunk[i]!);
      }
      this.match = m;
      this.parts.push(pos === 0 ? chunk : view(chunk, pos, len));
      this.partsLen += rest;
      return len;
    }
    let buf = chunk;
    let start = pos;
    let stop = end;
    if (this.partsLen !== 0) {
      this.parts.push(view(chunk, pos, end));
      buf = Buffer.concat(this.parts, this.partsLen + end - pos);
      start = 0;
      stop = buf.length;
      this.parts = [];
      this.partsLen = 0;
    }
    if (this.state === S_HEAD) {
      this.onHeadBlock(buf, start, stop, end);
    } else {
      this.commit(end);
      this.onTrailerBlock(buf, start, stop);
    }
    return end;
  }

  private tooLarge(chunk: Buffer, pos: number): number {
    const isHead = this.state === S_HEAD;
    const what = isHead ? 'head' : 'trailer block';
    let firstLineDone = this.parts.some((p) => p.includes(LF));
    if (!firstLineDone)
      firstLineDone = view(chunk, pos, Math.min(chunk.length, pos + this.maxHeadSize - this.partsLen)).includes(LF);
    if (isHead && this.side === 'request' && !firstLineDone) {
      this.fail(
        Http1ErrorCodes.URI_TOO_LONG,
        `Request line longer than the ${this.maxHeadSize} byte head limit (request-target too long).`,
        this.msgStart,
      );
    } else {
      this.fail(
        Http1ErrorCodes.HEAD_TOO_LARGE,
        `Message ${what} larger than ${this.maxHeadSize} bytes (maxHeadSize).`,
        this.msgStart,
      );
    }
    return pos;
  }

  private onTrailerBlock(buf: Buffer, start: number, end: number): void {
    let trailers: RawHeaders;
    try {
      trailers = parseTrailerBlock(buf, start, end, this.strict);
    } catch (e) {
      this.headError(e);
      return;
    }
    if (trailers.length !== 0) {
      this.handler.onTrailers(trailers);
      if (this.state !== S_TRAILERS) return; // the handler killed the parser
    }
    this.endMessage();
  }

  private emit(chunk: Buffer, pos: number, n: number): boolean {
    if (this.body + n > this.bodySizeLimit) {
      this.fail(
        Http1ErrorCodes.BODY_TOO_LARGE,
        `${this.side === 'request' ? 'Request' : 'Response'} body exceeds body_size_limit of ${this.bodySizeLimit} bytes (${this.kind} body, ${this.body + n} bytes so far).`,
        this.chunkBase + pos,
      );
      return false;
    }
    this.body += n;
    this.commit(pos + n);
    this.handler.onData(pos === 0 && n === chunk.length ? chunk : view(chunk, pos, pos + n));
    return true;
  }

  private stepLength(chunk: Buffer, pos: number): number {
    const n = Math.min(this.remaining, chunk.length - pos);
    this.remaining -= n;
    if (!this.emit(chunk, pos, n)) return pos;
    if (this.remaining === 0 && this.state === S_LENGTH) this.endMessage();
    return pos + n;
  }

  private stepClose(chunk: Buffer, pos: number): number {
    const n = chunk.length - pos;
    this.emit(chunk, pos, n);
    return pos + n;
  }

  private stepChunkData(chunk: Buffer, pos: number): number {
    const n = Math.min(this.remaining, chunk.length - pos);
    this.remaining -= n;
    if (this.remaining === 0) this.state = S_CHUNK_DATA_CR;
    if (!this.emit(chunk, pos, n)) return pos;
    return pos + n;
  }

  /** Chunk size lines and the CRLF after chunk data, byte by byte (they are a few bytes each). */
  private stepChunkLine(chunk: Buffer, pos: number): number {
    const len = chunk.length;
    while (pos < len) {
      const c = chunk[pos]!;
      switch (this.state) {
        case S_CHUNK_SIZE: {
          const d = HEX[c]!;
          if (d >= 0) {
            if (this.remaining > MAX_CHUNK_BEFORE_DIGIT) return this.badChunk(pos, 'chunk size is too large');
            this.remaining = this.remaining * 16 + d;
            this.chunkDigits++;
            pos++;
            continue;
          }
          if (this.chunkDigits === 0)
            return this.badChunk(pos, `expected a hexadecimal chunk size, got ${describeByte(c)}`);
          if (c === CR) {
            this.state = S_CHUNK_SIZE_LF;
          } else if (c === 0x3b || c === SP || c === HTAB) {
            this.state = S_CHUNK_EXT;
            this.extSemicolon = c === 0x3b;
          } else {
            return this.badChunk(pos, `unexpected ${describeByte(c)} after the chunk size`);
          }
          pos++;
          continue;
        }
        case S_CHUNK_EXT: {
          if (++this.extBytes > this.maxHeadSize)
            return this.badChunk(pos, `chunk extensions longer than ${this.maxHeadSize} bytes in total`);
          if (c === CR) {
            if (!this.extSemicolon) return this.badChunk(pos, 'whitespace after the chunk size');
            this.state = S_CHUNK_SIZE_LF;
          } else if (!this.extSemicolon) {
            if (c === 0x3b) this.extSemicolon = true;
            else if (c !== SP && c !== HTAB)
              return this.badChunk(pos, `unexpected ${describeByte(c)} after the chunk size`);
          } else if (VALUE[c] !== 1) {
            return this.badChunk(pos, `invalid character ${describeByte(c)} in a chunk extension`);
          }
          pos++;
          continue;
        }
        case S_CHUNK_SIZE_LF: {
          if (c !== LF)
            return this.badChunk(pos, `expected LF after CR of the chunk size line, got ${describeByte(c)}`);
          pos++;
          if (this.remaining === 0) {
            this.state = S_TRAILERS;
            this.match = 2; // as if after a CRLF: an immediate CRLF ends the (empty) trailer block
            this.lastByte = -1;
            this.msgStart = this.chunkBase + pos;
            return pos;
          }
          if (this.body + this.remaining > this.bodySizeLimit) {
            this.fail(
              Http1ErrorCodes.BODY_TOO_LARGE,
              `${this.side === 'request' ? 'Request' : 'Response'} body exceeds body_size_limit of ${this.bodySizeLimit} bytes (chunked body, next chunk of ${this.remaining} bytes after ${this.body}).`,
              this.chunkBase + pos,
            );
            return pos;
          }
          this.state = S_CHUNK_DATA;
          return pos;
        }
        case S_CHUNK_DATA_CR: {
          if (c !== CR) return this.badChunk(pos, `expected CRLF after chunk data, got ${describeByte(c)}`);
          this.state = S_CHUNK_DATA_LF;
          pos++;
          continue;
        }
        case S_CHUNK_DATA_LF: {
          if (c !== LF) return this.badChunk(pos, `expected LF after chunk data, got ${describeByte(c)}`);
          this.state = S_CHUNK_SIZE;
          this.remaining = 0;
          this.chunkDigits = 0;
          pos++;
          continue;
        }
        default:
          return pos;
      }
    }
    return pos;
  }

  private badChunk(pos: number, what: string): number {
    this.fail(
      Http1ErrorCodes.BAD_CHUNK,
      `Malformed chunked body: ${what} at stream byte ${this.chunkBase + pos}.`,
      this.chunkBase + pos,
    );
    return pos;
  }

  private onEof(): void {
    switch (this.state) {
      case S_CLOSE:
        this.endMessage();
        return;
      case S_HEAD_START:
        this.eofBeforeHead();
        return;
      case S_IDLE:
      case S_TUNNEL:
      case S_DEAD:
        return;
      case S_HEAD_START_LF:
      case S_HEAD:
        this.fail(
          Http1ErrorCodes.INCOMPLETE,
          `Connection closed in the middle of a message head (${this.partsLen} bytes received, no empty line yet).`,
          this.consumed,
        );
        return;
      default:
        this.fail(
          Http1ErrorCodes.INCOMPLETE,
          this.kind === 'length'
            ? `Connection closed after ${this.body} of ${this.body + this.remaining} body bytes (Content-Length).`
            : `Connection closed in the middle of a chunked body (${this.body} body bytes received, no last chunk).`,
          this.consumed,
        );
    }
  }
}
