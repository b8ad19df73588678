import type { Buffer } from 'node:buffer';
import { parseRequestHead } from './head.js';
import { Http1Parser } from './parser.js';
import type { Http1Handler, Http1ParserOptions, RequestHead } from './types.js';

/**
 * Incremental parser of the requests a client sends (one per client connection).
 *
 * It is ready for the first request at once. After each request's `onEnd` it waits: call
 * {@link RequestParser.next} when the exchange is done to read the next (pipelined) request, or
 * `takeRemaining()` to hand the stream to another protocol (after CONNECT or an upgrade the
 * server accepted). Request bodies are framed by Transfer-Encoding: chunked or Content-Length
 * (none otherwise); CONNECT has no body.
 *
 * @example
 * ```ts
 * const parser = new RequestParser({
 *   onHead(head) { parser.pause(); runHooks(head).then(() => parser.resume()); },
 *   onData(chunk) { ... }, onTrailers(t) { ... }, onEnd() { ... },
 *   onError(e) { socket.end(errorResponse(e.status)); },
 * });
 * socket.on('data', (c) => parser.push(c));
 * socket.on('end', () => parser.finish());
 * ```
 */
export class RequestParser extends Http1Parser<RequestHead> {
  protected readonly side = 'request' as const;

  constructor(handler: Http1Handler<RequestHead>, options?: Http1ParserOptions) {
    super(handler, options ?? {}, true);
  }

  /** Starts reading the next request (after the previous one's `onEnd`). */
  next(): void {
    if (!this.isIdle)
      throw new Error('RequestParser.next() called while a request is still being read; wait for onEnd.');
    this.begin();
  }

  protected onHeadBlock(buf: Buffer, start: number, end: number, next: number): void {
    let head: RequestHead;
    try {
      head = parseRequestHead(buf, start, end, this.strict, this.scan);
    } catch (e) {
      this.headError(e);
      return;
    }
    this.headDone(next, head.bodyKind, head.contentLength);
    this.handler.onHead(head);
  }

  protected eofBeforeHead(): void {
    // A client closing between requests is the normal end of a connection.
  }
}
