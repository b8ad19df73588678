import type { ResponseState } from './state.js';
import { Message, type MessageInit } from './message.js';
import { makeHeaders, type MakeHeaders } from './request.js';
import { MultiDictView, toPairs, type BaseMultiDict, type MultiDictInit } from './multidict.js';
import {
  CookieAttrs,
  formatHttpDate,
  formatSetCookieHeader,
  parseHttpDate,
  parseSetCookieHeaders,
  refreshSetCookieHeader,
} from './cookies.js';
import { RESPONSES } from './status-codes.js';
import { Headers } from './headers.js';
import { latin1Of } from './bytes.js';

/** Fields for `new Response(...)`. */
export interface ResponseInit extends MessageInit {
  statusCode: number;
  /** Reason phrase; empty for HTTP/2 and later. */
  reason?: string | Buffer;
}

/** A response cookie: `[value, attributes]`. */
export type ResponseCookie = [value: string, attrs: CookieAttrs];

/** An HTTP response, mirroring mitmproxy's `Response`. */
export class Response extends Message {
  /** HTTP status code, e.g. 200. */
  statusCode: number;
  private _reason: string;

  constructor(init: ResponseInit) {
    super(init);
    this.statusCode = init.statusCode;
    const r = init.reason ?? '';
    this._reason = typeof r === 'string' ? r : latin1Of(r);
  }

  /**
   * A response with a status code (reason phrase from the standard table), body and headers.
   * The body sets Content-Length; a string body goes through {@link text}.
   */
  static make(statusCode = 200, content: string | Buffer = '', headers?: MakeHeaders): Response {
    const now = Date.now() / 1000;
    const resp = new Response({
      httpVersion: 'HTTP/1.1',
      statusCode,
      reason: RESPONSES[statusCode] ?? '',
      headers: makeHeaders(headers),
      content: null,
      trailers: null,
      timestampStart: now,
      timestampEnd: now,
    });
    resp.setBody(content);
    return resp;
  }

  /** A response from its state; `adopt` as for {@link Request.fromState}. */
  static fromState(state: ResponseState, adopt = false): Response {
    const r = new Response({
      httpVersion: state.http_version,
      headers: Headers.fromState(state.headers, adopt),
      content: state.content,
      trailers: state.trailers ? Headers.fromState(state.trailers, adopt) : null,
      timestampStart: 0,
      timestampEnd: state.timestamp_end,
      statusCode: state.status_code,
      reason: state.reason,
    });
    r.timestampStart = state.timestamp_start;
    return r;
  }

  getState(): ResponseState {
    return {
      ...this.messageState(),
      status_code: this.statusCode,
      reason: Buffer.from(this._reason, 'latin1'),
    };
  }

  setState(state: ResponseState): void {
    this.setMessageState(state);
    this.statusCode = state.status_code;
    this._reason = latin1Of(state.reason);
  }

  copy(): Response {
    return Response.fromState(this.getState());
  }

  override toString(): string {
    const raw = this.rawContent;
    const details =
      raw && raw.length
        ? `${this.headers.get('content-type') ?? 'unknown content type'}, ${raw.length}b`
        : 'no content';
    return `Response(${this.statusCode}, ${details})`;
  }

  /** Reason phrase, e.g. `Not Found` (latin1). */
  get reason(): string {
    return this._reason;
  }

  set reason(v: string | Buffer) {
    this._reason = typeof v === 'string' ? v : v.toString('latin1');
  }

  private getCookies(): Array<[string, ResponseCookie]> {
    return parseSetCookieHeaders(this.headers.getAll('set-cookie')).map(([name, value, attrs]) => [
      name,
      [value, attrs],
    ]);
  }

  private setCookies(pairs: Iterable<readonly [string, ResponseCookie]>): void {
    const headers = Array.from(pairs, ([k, [v, attrs]]) => formatSetCookieHeader([[k, v, attrs]]));
    this.headers.setAll('set-cookie', headers);
  }

  /**
   * Cookies from the Set-Cookie headers: name -> `[value, attrs]` (flag attributes such as
   * HttpOnly have a null value). A live view: setting an entry rewrites the headers; to change
   * attributes, set the `[value, attrs]` entry again.
   */
  get cookies(): MultiDictView<ResponseCookie> {
    return new MultiDictView(
      () => this.getCookies(),
      (f) => this.setCookies(f),
    );
  }

  set cookies(v: MultiDictInit<ResponseCookie> | BaseMultiDict<ResponseCookie>) {
    this.setCookies(toPairs(v));
  }

  /**
   * Make a stored response look fresh for replay: shift Date, Expires and Last-Modified and
   * cookie expiry by the time since {@link timestampStart}. `now` in seconds since the epoch.
   */
  refresh(now?: number): void {
    const t = now || Date.now() / 1000;
    const delta = t - this.timestampStart;
    for (const h of ['date', 'expires', 'last-modified']) {
      const v = this.headers.get(h);
      if (v === undefined) continue;
      const d = parseHttpDate(v);
      if (d !== null) this.headers.set(h, formatHttpDate(d + delta));
    }
    const refreshed: string[] = [];
    for (const c of this.headers.getAll('set-cookie')) {
      try {
        refreshed.push(refreshSetCookieHeader(c, delta));
      } catch {
        refreshed.push(c);
      }
    }
    if (refreshed.length) this.headers.setAll('set-cookie', refreshed);
  }
}
