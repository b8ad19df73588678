import { domainToASCII, domainToUnicode } from 'node:url';
import type { RequestState } from './state.js';
import { Headers, type HeaderInput } from './headers.js';
import { Message, type MessageInit } from './message.js';
import { MultiDictView, toPairs, type BaseMultiDict, type MultiDictInit } from './multidict.js';
import { bytesToText, isAsciiString, latin1Of, textToBytes } from './bytes.js';
import * as url from './url.js';
import { formatCookieHeader, parseCookieHeaders } from './cookies.js';
import { decodeMultipart, encodeMultipart, makeBoundary } from './multipart.js';

/** Fields for `new Request(...)`; the runtime passes what it parsed, as strings or raw bytes. */
export interface RequestInit extends MessageInit {
  /** Target host (from the request line, the mode, or the Host header). */
  host: string;
  port: number;
  method: string | Buffer;
  scheme: string | Buffer;
  /** Authority-form target or HTTP/2 `:authority`; empty for origin-form requests. */
  authority?: string | Buffer;
  path: string | Buffer;
}

/** Headers as accepted by {@link Request.make} and {@link Response.make}. */
export type MakeHeaders = Headers | Record<string, HeaderInput> | Iterable<readonly [HeaderInput, HeaderInput]>;

export function makeHeaders(h: MakeHeaders | undefined): Headers {
  if (h === undefined) return new Headers();
  if (h instanceof Headers) return h;
  if (typeof (h as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return new Headers(h as Iterable<readonly [HeaderInput, HeaderInput]>);
  }
  if (typeof h !== 'object' || h === null) {
    throw new TypeError(`Expected headers to be a Headers instance, an object or a list of pairs, not ${typeof h}.`);
  }
  return new Headers(Object.entries(h as Record<string, HeaderInput>));
}

function latin1(v: string | Buffer): string {
  return typeof v === 'string' ? v : latin1Of(v);
}

/**
 * An HTTP request. Attribute names follow mitmproxy's `Request` in camelCase. Construction is
 * cheap: nothing is parsed or copied until a derived view (url, query, cookies, forms) is read.
 */
export class Request extends Message {
  private _host: string;
  private _port: number;
  private _method: string;
  private _methodUpper: string | undefined;
  private _scheme: string;
  private _authority: string | undefined;
  private _rawAuthority: Buffer | undefined;
  private _path: string | undefined;
  private _rawPath: Buffer | undefined;

  constructor(init: RequestInit) {
    super(init);
    this._host = init.host;
    this._port = init.port;
    this._method = latin1(init.method);
    this._methodUpper = undefined;
    this._scheme = latin1(init.scheme);
    const a = init.authority ?? '';
    if (typeof a === 'string') {
      this._authority = a;
      this._rawAuthority = undefined;
    } else {
      this._authority = undefined;
      this._rawAuthority = a;
    }
    if (typeof init.path === 'string') {
      this._path = init.path;
      this._rawPath = undefined;
    } else {
      this._path = undefined;
      this._rawPath = init.path;
    }
  }

  /**
   * A request from a method and URL (plus optional body and headers); the body sets
   * Content-Length, a string body goes through {@link text}.
   */
  static make(method: string, url: string, content: string | Buffer = '', headers?: MakeHeaders): Request {
    const now = Date.now() / 1000;
    const req = new Request({
      host: '',
      port: 0,
      method,
      scheme: '',
      authority: '',
      path: '',
      httpVersion: 'HTTP/1.1',
      headers: makeHeaders(headers),
      content: Buffer.alloc(0),
      trailers: null,
      timestampStart: now,
      timestampEnd: now,
    });
    req.url = url;
    req.setBody(content);
    return req;
  }

  /**
   * A request from its state. With `adopt` the request takes over the state's header arrays
   * instead of copying them: only for a state nobody uses afterwards (the flow reader's).
   */
  static fromState(state: RequestState, adopt = false): Request {
    const r = new Request({
      httpVersion: state.http_version,
      headers: Headers.fromState(state.headers, adopt),
      content: state.content,
      trailers: state.trailers ? Headers.fromState(state.trailers, adopt) : null,
      timestampStart: 0,
      timestampEnd: state.timestamp_end,
      host: state.host,
      port: state.port,
      method: state.method,
      scheme: state.scheme,
      authority: state.authority,
      path: state.path,
    });
    r.timestampStart = state.timestamp_start;
    return r;
  }

  getState(): RequestState {
    return {
      ...this.messageState(),
      host: this._host,
      port: this.port,
      method: Buffer.from(this._method, 'latin1'),
      scheme: Buffer.from(this._scheme, 'latin1'),
      authority: this.rawAuthority,
      path: this.rawPath,
    };
  }

  setState(state: RequestState): void {
    this.setMessageState(state);
    this._host = state.host;
    this._port = state.port;
    this._method = latin1Of(state.method);
    this._methodUpper = undefined;
    this._scheme = latin1Of(state.scheme);
    this._rawAuthority = state.authority;
    this._authority = undefined;
    this._rawPath = state.path;
    this._path = undefined;
  }

  /** A deep copy (same data, independent headers). */
  copy(): Request {
    return Request.fromState(this.getState());
  }

  override toString(): string {
    const hostport = this._host && this.port ? `${this._host}:${this.port}` : '';
    return `Request(${this.method} ${hostport}${this.path})`;
  }

  /** HTTP method, uppercased (e.g. `GET`). */
  get method(): string {
    return (this._methodUpper ??= this._method.toUpperCase());
  }

  set method(v: string | Buffer) {
    this._method = latin1(v);
    this._methodUpper = undefined;
  }

  /** The method exactly as received (not uppercased), for byte-level matching (`~m`). */
  get rawMethod(): string {
    return this._method;
  }

  /** `http` or `https`. */
  get scheme(): string {
    return this._scheme;
  }

  set scheme(v: string | Buffer) {
    this._scheme = latin1(v);
  }

  /** Target server host. Setting it also updates the Host header and authority, if present. */
  get host(): string {
    return this._host;
  }

  set host(v: string | Buffer) {
    this._host = typeof v === 'string' ? v : domainToUnicode(bytesToText(v)) || bytesToText(v);
    this.updateHostAndAuthority();
  }

  /** Target port. Setting it also updates the Host header and authority, if present. */
  get port(): number {
    return this._port;
  }

  set port(v: number) {
    if (!Number.isInteger(v)) throw new TypeError(`Port must be an integer, not ${String(v)}.`);
    this._port = v;
    this.updateHostAndAuthority();
  }

  /** Keep an existing Host header and authority in step with host and port (`host[:port]`). */
  private updateHostAndAuthority(): void {
    const hp = url.hostport(this._scheme, this._host, this._port);
    if (this.headers.has('Host')) this.headers.set('Host', hp);
    if (this.authority) this.authority = hp;
  }

  /**
   * The authority: request-target in authority/absolute form, or HTTP/2+ `:authority`; empty
   * for origin-form requests. Punycode labels are shown decoded.
   */
  get authority(): string {
    if (this._authority === undefined) {
      const raw = this._rawAuthority!;
      let a = bytesToText(raw);
      if (/xn--/i.test(a)) {
        const [h, p] = url.parseAuthority(a, false);
        const u = domainToUnicode(h);
        if (u) a = p === null ? u : `${u}:${p}`;
      }
      this._authority = a;
    }
    return this._authority;
  }

  set authority(v: string | Buffer) {
    if (typeof v === 'string') {
      this._authority = v;
      this._rawAuthority = undefined;
    } else {
      this._rawAuthority = v;
      this._authority = undefined;
    }
  }

  /** The authority as bytes (punycode for international names). */
  get rawAuthority(): Buffer {
    if (this._rawAuthority === undefined) {
      const a = this._authority!;
      if (isAsciiString(a)) this._rawAuthority = Buffer.from(a, 'latin1');
      else {
        const [h, p] = url.parseAuthority(a, false);
        const ascii = domainToASCII(h);
        this._rawAuthority = ascii ? Buffer.from(p === null ? ascii : `${ascii}:${p}`, 'latin1') : textToBytes(a);
      }
    }
    return this._rawAuthority;
  }

  /** Path with query and fragment, e.g. `/index.html?a=1` (`*` for `OPTIONS *`). */
  get path(): string {
    return (this._path ??= bytesToText(this._rawPath!));
  }

  set path(v: string | Buffer) {
    if (typeof v === 'string') {
      this._path = v;
      this._rawPath = undefined;
    } else {
      this._rawPath = v;
      this._path = undefined;
    }
  }

  /** The path as bytes, exactly as received unless it was changed. */
  get rawPath(): Buffer {
    return (this._rawPath ??= textToBytes(this._path!));
  }

  /** Request form: `authority` (CONNECT), `absolute` (authority given) or `relative`. */
  get firstLineFormat(): 'authority' | 'absolute' | 'relative' {
    if (this.method === 'CONNECT') return 'authority';
    if (this.authority) return 'absolute';
    return 'relative';
  }

  /**
   * The full URL from scheme, host, port and path. Setting it parses the URL and updates those
   * (and the Host header / authority, as setting {@link host} does).
   */
  get url(): string {
    if (this.firstLineFormat === 'authority') return `${this._host}:${this.port}`;
    return url.unparse(this._scheme, this._host, this.port, this.path);
  }

  set url(v: string | Buffer) {
    const s = typeof v === 'string' ? v : bytesToText(v);
    const [scheme, host, port, path] = url.parseUrl(s);
    this._scheme = scheme;
    this._port = port;
    this.host = host;
    this.path = path;
  }

  /**
   * The Host header (HTTP/1) or the authority (HTTP/2 and 3, falling back to Host).
   * Setting null removes it.
   */
  get hostHeader(): string | null {
    if (this.isHttp2 || this.isHttp3) return this.authority || (this.headers.get('Host') ?? null);
    return this.headers.get('Host') ?? null;
  }

  set hostHeader(v: string | null) {
    const h2 = this.isHttp2 || this.isHttp3;
    if (v === null) {
      if (h2) this.authority = '';
      this.headers.delete('Host');
      return;
    }
    if (h2) this.authority = v;
    // For HTTP/2 the header is only overwritten, never created: :authority is the h2 Host header.
    if (!h2 || this.headers.has('Host')) this.headers.set('Host', v);
  }

  /** Like {@link host}, but preferring the Host header / authority (useful in transparent mode). */
  get prettyHost(): string {
    const authority = this.hostHeader;
    if (authority) return url.parseAuthorityCached(authority)[0];
    return this._host;
  }

  /** Like {@link url}, but built with {@link prettyHost} and the Host header's port. */
  get prettyUrl(): string {
    if (this.firstLineFormat === 'authority') return this.authority;
    const hostHeader = this.hostHeader;
    if (!hostHeader) return this.url;
    const [h, p] = url.parseAuthorityCached(hostHeader);
    const port = p ?? url.defaultPort(this._scheme) ?? 443;
    return url.unparse(this._scheme, h, port, this.path);
  }

  private getQuery(): Array<[string, string]> {
    if (this.firstLineFormat === 'authority') return [];
    return url.decodeQuery(url.splitPath(this.path)[1]);
  }

  private setQuery(pairs: Iterable<readonly [string, string]>): void {
    const [p, , fragment] = url.splitPath(this.path);
    this.path = url.joinPath(p, url.encodeQuery(pairs), fragment);
  }

  /** The query string as a live multidict: changes rewrite {@link path}. */
  get query(): MultiDictView<string> {
    return new MultiDictView(
      () => this.getQuery(),
      (f) => this.setQuery(f),
    );
  }

  set query(v: MultiDictInit<string> | BaseMultiDict<string>) {
    this.setQuery(toPairs(v));
  }

  /** Cookies from the Cookie header(s) as a live multidict: changes rewrite the header. */
  get cookies(): MultiDictView<string> {
    return new MultiDictView(
      () => parseCookieHeaders(this.headers.getAll('Cookie')),
      (f) => {
        this.headers.set('cookie', formatCookieHeader(f));
      },
    );
  }

  set cookies(v: MultiDictInit<string> | BaseMultiDict<string>) {
    this.headers.set('cookie', formatCookieHeader(toPairs(v)));
  }

  /** The URL path split at `/`, unquoted, without empty components. Setting quotes each one. */
  get pathComponents(): string[] {
    const [p] = url.splitPath(this.path);
    const semi = p.lastIndexOf(';');
    const slash = p.lastIndexOf('/');
    const bare = semi > slash ? p.slice(0, semi) : p;
    return bare
      .split('/')
      .filter((x) => x)
      .map(url.unquote);
  }

  set pathComponents(components: Iterable<string>) {
    const path = '/' + Array.from(components, (c) => url.quote(c, '')).join('/');
    const [p, query, fragment] = url.splitPath(this.path);
    const semi = p.lastIndexOf(';');
    const params = semi > p.lastIndexOf('/') ? p.slice(semi) : '';
    this.path = url.joinPath(path + params, query, fragment);
  }

  /** Remove headers that could make the server answer from cache (If-Modified-Since, If-None-Match). */
  anticache(): void {
    this.headers.delete('if-modified-since');
    this.headers.delete('if-none-match');
  }

  /** Ask for an uncompressed response (`Accept-Encoding: identity`). */
  anticomp(): void {
    this.headers.set('accept-encoding', 'identity');
  }

  /** Limit Accept-Encoding to the encodings mitmts can decode. */
  constrainEncoding(): void {
    const ae = this.headers.get('accept-encoding');
    if (ae) {
      this.headers.set(
        'accept-encoding',
        ['gzip', 'identity', 'deflate', 'br', 'zstd'].filter((e) => ae.includes(e)).join(', '),
      );
    }
  }

  private getUrlencodedForm(): Array<[string, string]> {
    const ct = (this.headers.get('content-type') ?? '').toLowerCase();
    if (!ct.includes('application/x-www-form-urlencoded')) return [];
    return url.decodeQuery(this.getText(false) ?? '');
  }

  private setUrlencodedForm(pairs: Iterable<readonly [string, string]>): void {
    this.headers.set('content-type', 'application/x-www-form-urlencoded');
    this.setContent(Buffer.from(url.encodeQuery(pairs, this.getText(false) ?? ''), 'utf8'));
  }

  /**
   * The URL-encoded form body as a live multidict (empty unless Content-Type is
   * application/x-www-form-urlencoded). Changes rewrite the body and set that Content-Type.
   */
  get urlencodedForm(): MultiDictView<string> {
    return new MultiDictView(
      () => this.getUrlencodedForm(),
      (f) => this.setUrlencodedForm(f),
    );
  }

  set urlencodedForm(v: MultiDictInit<string> | BaseMultiDict<string>) {
    this.setUrlencodedForm(toPairs(v));
  }

  private getMultipartForm(): Array<[string, Buffer]> {
    const ct = this.headers.get('content-type');
    if (!ct || !ct.toLowerCase().includes('multipart/form-data')) return [];
    try {
      return decodeMultipart(ct, this.getContent(true)).map(([k, v]) => [k.toString('latin1'), v]);
    } catch {
      return [];
    }
  }

  private setMultipartForm(pairs: Iterable<readonly [string, Buffer | string]>): void {
    const ct = this.headers.get('content-type') ?? '';
    if (!ct.toLowerCase().startsWith('multipart/form-data')) {
      this.headers.set('content-type', `multipart/form-data; boundary=${makeBoundary()}`);
    }
    const parts = Array.from(pairs, ([k, v]) => [Buffer.from(k, 'latin1'), v] as const);
    this.setContent(encodeMultipart(this.headers.get('content-type'), parts));
  }

  /**
   * The multipart/form-data body as a live multidict of names (latin1 strings) to raw values.
   * Changes rewrite the body (a boundary is generated if needed).
   */
  get multipartForm(): MultiDictView<Buffer> {
    return new MultiDictView(
      () => this.getMultipartForm(),
      (f) => this.setMultipartForm(f),
    );
  }

  set multipartForm(v: MultiDictInit<Buffer | string> | BaseMultiDict<Buffer>) {
    this.setMultipartForm(toPairs<Buffer | string>(v as MultiDictInit<Buffer | string>));
  }
}
