/**
 * Turns decoded header fields into an {@link Http2Head} (or trailers) while checking them: the
 * field rules of RFC 9113 section 8.2, the pseudo-header rules of 8.3, and mitmproxy's
 * `validate_inbound_headers` smuggling checks. It is the HPACK decoder's sink; one instance per
 * connection is reused for every block.
 * @internal
 */
import { Buffer } from 'node:buffer';
import { latin1 } from '../http1/chars.js';
import type { RawHeaders } from '../http1/types.js';
import { Http2ErrorCodes, type Http2ErrorCodeName } from './errors.js';
import type { HeaderEntry } from './hpack/entry.js';
import type { HeaderSink } from './hpack/decoder.js';
import { Http2Head } from './types.js';

/** What a header block is. */
export const BlockKind = {
  REQUEST: 0,
  RESPONSE: 1,
  TRAILERS: 2,
} as const;
export type BlockKindValue = (typeof BlockKind)[keyof typeof BlockKind];

const HTAB = 0x09;
const SP = 0x20;
const COLON = 0x3a;

function table(ok: (c: number) => boolean): Uint8Array {
  return Uint8Array.from({ length: 256 }, (_, c) => (ok(c) ? 1 : 0));
}
const TCHAR = "!#$%&'*+-.^_`|~";
/** Names under validation: lower-case tokens (RFC 9113 section 8.2.1 forbids upper case). */
const STRICT_NAME = table(
  (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || TCHAR.includes(String.fromCharCode(c)),
);
/** Names without validation: anything but controls, space, DEL and ':' (so nothing can split an HTTP/1 line). */
const LAX_NAME = table((c) => c > 0x20 && c !== 0x7f && c !== COLON);
/** Bytes never allowed in a value: NUL, LF, CR. */
const BAD_VALUE = table((c) => c === 0 || c === 0x0a || c === 0x0d);

const PSEUDO_METHOD = 1;
const PSEUDO_SCHEME = 2;
const PSEUDO_AUTHORITY = 4;
const PSEUDO_PATH = 8;
const PSEUDO_PROTOCOL = 16;
const PSEUDO_STATUS = 32;

const lit = (s: string): Buffer => Buffer.from(s, 'latin1');
const N_METHOD = lit(':method');
const N_SCHEME = lit(':scheme');
const N_AUTHORITY = lit(':authority');
const N_PATH = lit(':path');
const N_PROTOCOL = lit(':protocol');
const N_STATUS = lit(':status');
const N_CONTENT_LENGTH = lit('content-length');
const N_CONNECTION = lit('connection');
const N_KEEP_ALIVE = lit('keep-alive');
const N_PROXY_CONNECTION = lit('proxy-connection');
const N_TRANSFER_ENCODING = lit('transfer-encoding');
const N_UPGRADE = lit('upgrade');
const N_TE = lit('te');
const V_TRAILERS = lit('trailers');

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameLower(a: Uint8Array, lower: Uint8Array): boolean {
  if (a.length !== lower.length) return false;
  for (let i = 0; i < a.length; i++) if ((a[i]! | 0x20) !== lower[i]) return false;
  return true;
}

/** A name for an error message. */
function shown(name: Buffer): string {
  return latin1(name, 0, name.length);
}

function pseudoBit(name: Buffer): number {
  switch (name.length) {
    case 5:
      return same(name, N_PATH) ? PSEUDO_PATH : 0;
    case 7:
      return same(name, N_METHOD)
        ? PSEUDO_METHOD
        : same(name, N_SCHEME)
          ? PSEUDO_SCHEME
          : same(name, N_STATUS)
            ? PSEUDO_STATUS
            : 0;
    case 9:
      return same(name, N_PROTOCOL) ? PSEUDO_PROTOCOL : 0;
    case 10:
      return same(name, N_AUTHORITY) ? PSEUDO_AUTHORITY : 0;
    default:
      return 0;
  }
}

/** A decimal content-length, or -1 if the bytes are not one (RFC 9110 section 8.6). */
function parseLength(v: Uint8Array): number {
  if (v.length === 0 || v.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

export class HeadBuilder implements HeaderSink {
  /** The head being built (a fresh object per block). */
  head: Http2Head = new Http2Head();
  /** Trailers being built. */
  trailers: RawHeaders = [];
  /** First problem found in the block, or null. */
  error: string | null = null;
  errorCode: Http2ErrorCodeName = Http2ErrorCodes.MALFORMED;
  errorHeader: string | undefined = undefined;

  private kind: BlockKindValue = BlockKind.REQUEST;
  private seen = 0;
  private sawRegular = false;

  constructor(
    private readonly validate: boolean,
    /** Whether `:protocol` is allowed (we announced SETTINGS_ENABLE_CONNECT_PROTOCOL). */
    public connectProtocol: boolean,
  ) {}

  /** Starts a block of `kind`. */
  begin(kind: BlockKindValue): void {
    this.kind = kind;
    this.seen = 0;
    this.sawRegular = false;
    this.error = null;
    this.errorHeader = undefined;
    this.errorCode = Http2ErrorCodes.MALFORMED;
    if (kind === BlockKind.TRAILERS) this.trailers = [];
    else this.head = new Http2Head();
  }

  field(name: Buffer, value: Buffer, entry: HeaderEntry | null, _flags: number): void {
    if (name.length > 0 && name[0] === COLON) return this.pseudo(name, value, entry);
    this.sawRegular = true;
    if (entry === null || !entry.checked) {
      if (!this.checkField(name, value)) return;
      if (entry !== null) entry.checked = true;
    }
    if (this.validate && !this.regularAllowed(name, value)) return;
    if (this.kind === BlockKind.TRAILERS) {
      this.trailers.push([name, value]);
      return;
    }
    const head = this.head;
    if (this.validate && name.length === 14 && same(name, N_CONTENT_LENGTH)) {
      const n = parseLength(value);
      if (n < 0) return this.fail(`invalid content-length ${JSON.stringify(latin1(value, 0, value.length))}`, name);
      if (head.contentLength >= 0 && head.contentLength !== n)
        return this.fail(`two different content-length values (${head.contentLength} and ${n})`, name);
      head.contentLength = n;
    }
    head.headers.push([name, value]);
  }

  /**
   * Ends the block: checks the pseudo-headers a request or response needs. Returns the head, or
   * null with `error` set.
   */
  finish(): Http2Head | null {
    if (this.error !== null) return null;
    const head = this.head;
    const seen = this.seen;
    if (this.kind === BlockKind.REQUEST) {
      if (!(seen & PSEUDO_METHOD)) return this.failed('a request without :method');
      if (head.method === 'CONNECT' && !(seen & PSEUDO_PROTOCOL)) {
        if (!(seen & PSEUDO_AUTHORITY)) return this.failed('a CONNECT request without :authority');
        if (seen & (PSEUDO_SCHEME | PSEUDO_PATH)) return this.failed('a CONNECT request with :scheme or :path');
      } else {
        if (!(seen & PSEUDO_SCHEME)) return this.failed('a request without :scheme');
        if (!(seen & PSEUDO_PATH) || head.path === '')
          return this.failed('a request without :path, or with an empty one');
        if (seen & PSEUDO_PROTOCOL && head.method !== 'CONNECT')
          return this.failed(`:protocol on a ${head.method} request (only extended CONNECT has one)`);
      }
    } else if (this.kind === BlockKind.RESPONSE) {
      if (!(seen & PSEUDO_STATUS)) return this.failed('a response without :status');
    }
    return head;
  }

  private pseudo(name: Buffer, value: Buffer, entry: HeaderEntry | null): void {
    if (this.kind === BlockKind.TRAILERS) return this.fail(`pseudo-header ${shown(name)} in trailers`, name);
    if (this.sawRegular && this.validate) return this.fail(`pseudo-header ${shown(name)} after a regular field`, name);
    const bit = pseudoBit(name);
    const allowed =
      this.kind === BlockKind.REQUEST
        ? PSEUDO_METHOD | PSEUDO_SCHEME | PSEUDO_AUTHORITY | PSEUDO_PATH | (this.connectProtocol ? PSEUDO_PROTOCOL : 0)
        : PSEUDO_STATUS;
    if ((bit & allowed) === 0) {
      return this.fail(
        `${bit === 0 ? 'unknown' : 'unexpected'} pseudo-header ${shown(name)} in a ${this.kind === BlockKind.REQUEST ? 'request' : 'response'}`,
        name,
      );
    }
    if (this.seen & bit) return this.fail(`pseudo-header ${shown(name)} twice`, name);
    this.seen |= bit;
    if (entry === null || !entry.checked) {
      for (let i = 0; i < value.length; i++)
        if (BAD_VALUE[value[i]!]) return this.fail(`a CR, LF or NUL byte in ${shown(name)}`, name);
      if (entry !== null) entry.checked = true;
    }
    const s = entry !== null ? entry.valueString() : latin1(value, 0, value.length);
    const head = this.head;
    switch (bit) {
      case PSEUDO_METHOD:
        head.method = s;
        return;
      case PSEUDO_SCHEME:
        head.scheme = s;
        return;
      case PSEUDO_AUTHORITY:
        head.authority = s;
        return;
      case PSEUDO_PATH:
        head.path = s;
        return;
      case PSEUDO_PROTOCOL:
        head.protocol = s;
        return;
      default: {
        const n = s.length === 3 ? parseLength(value) : -1;
        if (n < 100 || n > 999) return this.fail(`:status ${JSON.stringify(s)} is not a three-digit status`, name);
        head.status = n;
      }
    }
  }

  /** Byte rules for one regular field; false (with `error` set) if it breaks one. */
  private checkField(name: Buffer, value: Buffer): boolean {
    if (name.length === 0) return (this.fail('an empty field name'), false);
    const ok = this.validate ? STRICT_NAME : LAX_NAME;
    for (let i = 0; i < name.length; i++) {
      if (!ok[name[i]!]) {
        const c = name[i]!;
        const what = c >= 0x41 && c <= 0x5a ? 'an upper-case letter' : `byte 0x${c.toString(16).padStart(2, '0')}`;
        return (this.fail(`${what} in field name ${JSON.stringify(shown(name))}`, name), false);
      }
    }
    const n = value.length;
    for (let i = 0; i < n; i++) {
      if (BAD_VALUE[value[i]!]) return (this.fail(`a CR, LF or NUL byte in the value of ${shown(name)}`, name), false);
    }
    if (this.validate && n > 0) {
      const a = value[0]!;
      const z = value[n - 1]!;
      if (a === SP || a === HTAB || z === SP || z === HTAB)
        return (this.fail(`whitespace around the value of ${shown(name)}`, name), false);
    }
    return true;
  }

  /** The connection-specific field rules (RFC 9113 section 8.2.2); names are lower case here. */
  private regularAllowed(name: Buffer, value: Buffer): boolean {
    let bad = false;
    switch (name.length) {
      case 2:
        if (same(name, N_TE) && !sameLower(value, V_TRAILERS))
          return (this.fail('te other than "trailers"', name), false);
        return true;
      case 7:
        bad = same(name, N_UPGRADE);
        break;
      case 10:
        bad = same(name, N_CONNECTION) || same(name, N_KEEP_ALIVE);
        break;
      case 16:
        bad = same(name, N_PROXY_CONNECTION);
        break;
      case 17:
        bad = same(name, N_TRANSFER_ENCODING);
        break;
      default:
        return true;
    }
    if (bad) return (this.fail(`connection-specific field ${shown(name)}`, name), false);
    return true;
  }

  private fail(message: string, name?: Buffer): void {
    if (this.error !== null) return;
    this.error = message;
    this.errorHeader = name === undefined ? undefined : shown(name);
  }

  private failed(message: string): null {
    this.fail(message);
    return null;
  }
}
