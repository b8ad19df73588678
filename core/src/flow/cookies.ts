/**
 * Lenient cookie parsing and formatting, as mitmproxy's `net.http.cookies`: malformed input is
 * kept rather than rejected, duplicates are preserved, the comma-separated multi-cookie form of
 * Set-Cookie is understood (with the comma inside `expires` dates), values with special
 * characters are quoted on output (RFC 6265 serialization).
 */
import { MultiDict, type MultiDictInit } from './multidict.js';

/** Cookie attributes: case-insensitive names; flag attributes (`HttpOnly`) have a null value. */
export class CookieAttrs extends MultiDict<string | null> {
  constructor(fields: MultiDictInit<string | null> = []) {
    super(fields);
  }

  protected override kconv(key: string): string {
    return key.toLowerCase();
  }

  /** The last value wins (some servers repeat attributes). */
  protected override reduce(values: Array<string | null>): string | null {
    return values[values.length - 1]!;
  }
}

/** `[name, value, attrs]` of one Set-Cookie cookie. */
export type SetCookie = [name: string, value: string, attrs: CookieAttrs];

type Pair = [string, string | null];

function readUntil(s: string, start: number, term: string): [string, number] {
  if (start === s.length) return ['', start + 1];
  for (let i = start; i < s.length; i++) if (term.includes(s[i]!)) return [s.slice(start, i), i];
  return [s.slice(start), s.length];
}

function readQuoted(s: string, start: number): [string, number] {
  let out = '';
  let escaping = false;
  let i = start + 1;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (escaping) {
      out += c;
      escaping = false;
    } else if (c === '"') {
      break;
    } else if (c === '\\') {
      escaping = true;
    } else {
      out += c;
    }
  }
  return [out, i + 1];
}

function readValue(s: string, start: number, delims: string): [string, number] {
  if (start >= s.length) return ['', start];
  if (s[start] === '"') return readQuoted(s, start);
  return readUntil(s, start, delims);
}

/** Parse one Cookie header value into `[name, value]` pairs. */
export function parseCookieHeader(line: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let off = 0;
  for (;;) {
    let lhs: string;
    [lhs, off] = readUntil(line, off, ';=');
    lhs = lhs.trimStart();
    let rhs = '';
    if (off < line.length && line[off] === '=') [rhs, off] = readValue(line, off + 1, ';');
    if (rhs || lhs) pairs.push([lhs, rhs]);
    off += 1;
    if (!(off < line.length)) break;
  }
  return pairs;
}

/** Parse several Cookie header values (the request may carry more than one). */
export function parseCookieHeaders(lines: Iterable<string>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const l of lines) out.push(...parseCookieHeader(l));
  return out;
}

function hasSpecial(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x22 || c === 0x2c || c === 0x3b || c === 0x5c) return true;
  }
  return false;
}

function formatPairs(
  pairs: Iterable<readonly [string, string | null]>,
  specials: readonly string[] = [],
  sep = '; ',
): string {
  const vals: string[] = [];
  for (const [k, v] of pairs) {
    if (v === null) {
      vals.push(k);
      continue;
    }
    let val = v;
    if (!specials.includes(k.toLowerCase()) && hasSpecial(val)) val = '"' + val.replace(/(["\\])/g, '\\$1') + '"';
    vals.push(`${k}=${val}`);
  }
  return vals.join(sep);
}

/** Format `[name, value]` pairs as a Cookie header value. */
export function formatCookieHeader(pairs: Iterable<readonly [string, string]>): string {
  return formatPairs(pairs);
}

function readSetCookiePairs(s: string): Pair[][] {
  const cookies: Pair[][] = [];
  let pairs: Pair[] = [];
  let off = 0;
  for (;;) {
    let lhs: string;
    [lhs, off] = readUntil(s, off, ';=,');
    lhs = lhs.trimStart();
    if (off < s.length && s[off] === '=') {
      let rhs: string;
      [rhs, off] = readValue(s, off + 1, ';,');
      // `expires` dates contain a comma ("Wed, 21 Oct 2015 ..."): read on past it.
      if (lhs.toLowerCase() === 'expires' && rhs.length <= 3) {
        let trail: string;
        [trail, off] = readValue(s, off + 1, ';,');
        rhs = rhs + ',' + trail;
      }
      pairs.push([lhs, rhs]);
    } else if (lhs) {
      pairs.push([lhs, null]);
    }
    if (off < s.length && s[off] === ',') {
      cookies.push(pairs);
      pairs = [];
    }
    off += 1;
    if (!(off < s.length)) break;
  }
  if (pairs.length || !cookies.length) cookies.push(pairs);
  return cookies;
}

/** Parse one Set-Cookie header value (possibly several comma-separated cookies). */
export function parseSetCookieHeader(line: string): SetCookie[] {
  const out: SetCookie[] = [];
  for (const pairs of readSetCookiePairs(line)) {
    if (!pairs.length) continue;
    const [first, ...attrs] = pairs;
    out.push([first![0], first![1] ?? '', new CookieAttrs(attrs)]);
  }
  return out;
}

export function parseSetCookieHeaders(lines: Iterable<string>): SetCookie[] {
  const out: SetCookie[] = [];
  for (const l of lines) out.push(...parseSetCookieHeader(l));
  return out;
}

/** Format cookies as one Set-Cookie header value (several are joined with `, `). */
export function formatSetCookieHeader(
  cookies: Iterable<readonly [string, string, CookieAttrs | Iterable<readonly [string, string | null]>]>,
): string {
  const out: string[] = [];
  for (const [name, value, attrs] of cookies) {
    const pairs: Array<readonly [string, string | null]> = [[name, value]];
    pairs.push(...(attrs instanceof CookieAttrs ? attrs.fields : Array.from(attrs)));
    out.push(formatPairs(pairs, ['expires', 'path']));
  }
  return out.join(', ');
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const M = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*';
const TIME = '(\\d{1,2}):(\\d{2})(?::(\\d{2}))?';
const ZONE = '(?:\\s*(gmt|utc|ut|z|[+-]\\d{4}|[a-z]{1,5}))?';
// RFC 1123 / RFC 850: "Wed, 21 Oct 2015 07:28:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT".
const RFC1123 = new RegExp(`^(?:[a-z]+,?\\s*)?(\\d{1,2})[\\s-]+${M}[\\s-]+(\\d{2,4})\\s+${TIME}${ZONE}$`, 'i');
// asctime: "Sun Nov  6 08:49:37 1994".
const ASCTIME = new RegExp(`^(?:[a-z]+,?\\s+)?${M}\\s+(\\d{1,2})\\s+${TIME}\\s+(\\d{4})${ZONE}$`, 'i');

function zoneOffset(z: string | undefined): number {
  if (!z) return 0;
  const m = /^([+-])(\d{2})(\d{2})$/.exec(z);
  if (m) return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60);
  const named: Record<string, number> = { est: -5, edt: -4, cst: -6, cdt: -5, mst: -7, mdt: -6, pst: -8, pdt: -7 };
  return (named[z.toLowerCase()] ?? 0) * 3600;
}

/**
 * Parse an HTTP date (RFC 1123, RFC 850 or asctime, as Python's `email.utils.parsedate_tz`
 * accepts them); seconds since the epoch, or null if it is not a date.
 */
export function parseHttpDate(s: string): number | null {
  const t = s.trim();
  const a = RFC1123.exec(t);
  const b = a ? null : ASCTIME.exec(t);
  if (!a && !b) return null;
  const [day, mon, year, hh, mm, ss, zone] = a
    ? [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6], a[7]]
    : [b![2]!, b![1]!, b![6]!, b![3]!, b![4]!, b![5], b![7]];
  let y = Number(year);
  if (year.length <= 2) y += y > 68 ? 1900 : 2000;
  const month = MONTHS.indexOf(mon.slice(0, 3).toLowerCase());
  const utc = Date.UTC(y, month, Number(day), Number(hh), Number(mm), Number(ss ?? 0)) / 1000;
  return utc - zoneOffset(zone);
}

/** Format seconds since the epoch as an RFC 1123 GMT date (`Wed, 21 Oct 2015 07:28:00 GMT`). */
export function formatHttpDate(seconds: number): string {
  return new Date(Math.floor(seconds) * 1000).toUTCString();
}

/**
 * Shift a Set-Cookie header's `expires` by `delta` seconds (for replays). An unparsable
 * `expires` is removed. @throws Error if a cookie has no name or value.
 */
export function refreshSetCookieHeader(c: string, delta: number): string {
  const cookies = parseSetCookieHeader(c);
  for (const [name, value, attrs] of cookies) {
    if (!name || !value) throw new Error(`Invalid cookie in Set-Cookie header '${c}'.`);
    const exp = attrs.get('expires');
    if (attrs.has('expires')) {
      const t = exp ? parseHttpDate(exp) : null;
      if (t !== null) attrs.setAll('expires', [formatHttpDate(t + delta)]);
      else attrs.delete('expires');
    }
  }
  return formatSetCookieHeader(cookies);
}

const COOKIE_PARAMS = new Set(['expires', 'path', 'comment', 'max-age', 'secure', 'httponly', 'version']);

/** Group a flat pair list into `[name, value, attrs]` cookies (attributes follow their cookie). */
export function groupCookies(pairs: Array<[string, string | null]>): SetCookie[] {
  if (!pairs.length) return [];
  const out: SetCookie[] = [];
  let [name, value] = pairs[0]!;
  let attrs: Pair[] = [];
  for (const [k, v] of pairs.slice(1)) {
    if (COOKIE_PARAMS.has(k.toLowerCase())) attrs.push([k, v]);
    else {
      out.push([name, value ?? '', new CookieAttrs(attrs)]);
      [name, value, attrs] = [k, v, []];
    }
  }
  out.push([name, value ?? '', new CookieAttrs(attrs)]);
  return out;
}

/** Expiry of a cookie from `expires` or `max-age` (seconds since the epoch), or null. */
export function getExpirationTs(attrs: CookieAttrs): number | null {
  if (attrs.has('expires')) {
    const e = attrs.get('expires');
    return e ? parseHttpDate(e) : null;
  }
  if (attrs.has('max-age')) {
    const n = Number.parseInt(attrs.get('max-age') ?? '', 10);
    if (!Number.isNaN(n)) return Date.now() / 1000 + n;
  }
  return null;
}

/** True if the cookie's expiry lies in the past. */
export function isExpired(attrs: CookieAttrs): boolean {
  const ts = getExpirationTs(attrs);
  return ts !== null && ts <= Date.now() / 1000;
}
