import type { Buffer } from 'node:buffer';
import { Http1ErrorCodes } from './errors.js';
import { parseResponseHead } from './head.js';
import { Http1Parser } from './parser.js';
import type { Http1ParserOptions, ResponseHandler, ResponseHead } from './types.js';

/**
 * Incremental parser of the responses a server sends (one per server connection).
 *
 * Response framing depends on the request, so the parser starts idle: call
 * {@link ResponseParser.next} with the request method when the request was sent. Interim 1xx
 * responses go to `onInformational` and parsing continues with the final response; a 101 or a
 * 2xx answer to CONNECT ends after the head (`bodyKind: 'tunnel'`) and the rest of the stream is
 * available through `takeRemaining()`. Bodies without Content-Length or chunked coding are read
 * until `finish()` (socket end).
 */
export class ResponseParser extends Http1Parser<ResponseHead> {
  protected readonly side = 'response' as const;
  private method = 'GET';
  private readonly responseHandler: ResponseHandler;

  constructor(handler: ResponseHandler, options?: Http1ParserOptions) {
    super(handler, options ?? {}, false);
    this.responseHandler = handler;
  }

  /**
   * Expects the response to a request with `requestMethod` (HEAD responses have no body; a 2xx
   * to CONNECT opens a tunnel). Call it once the request head is on its way, and again for
   * each later exchange after the previous response's `onEnd`.
   */
  next(requestMethod: string): void {
    if (!this.isIdle)
      throw new Error('ResponseParser.next() called while a response is still being read; wait for onEnd.');
    this.method = requestMethod;
    this.begin();
  }

  protected onHeadBlock(buf: Buffer, start: number, end: number, next: number): void {
    let head: ResponseHead;
    try {
      head = parseResponseHead(buf, start, end, this.strict, this.scan, this.method);
    } catch (e) {
      this.headError(e);
      return;
    }
    if (head.statusCode < 200 && head.statusCode !== 101) {
      this.expectAnotherHead(next);
      this.responseHandler.onInformational(head);
      return;
    }
    this.headDone(next, head.bodyKind, head.contentLength);
    this.handler.onHead(head);
  }

  protected eofBeforeHead(): void {
    this.fail(
      Http1ErrorCodes.NO_RESPONSE,
      `Server closed the connection without sending a response to the ${this.method} request.`,
      -1,
    );
  }
}
