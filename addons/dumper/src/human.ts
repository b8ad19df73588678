/**
 * Text helpers with mitmproxy's exact output (`mitmproxy.utils.human`, `strutils`): sizes,
 * addresses, escaping, indentation. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** `x.toFixed(digits)` with Python's rounding: exact binary ties go to the even digit. */
export function pyFixed(x: number, digits: number): string {
  const scale = 10 ** digits;
  const y = x * scale;
  if (Number.isInteger(y * 2) && !Number.isInteger(y)) {
    const down = Math.floor(y);
    const n = down % 2 === 0 ? down : down + 1;
    return (n / scale).toFixed(digits);
  }
  return x.toFixed(digits);
}

/** Bytes as mitmproxy prints them: `54b`, `1.5k`, `120k`, `3.0m` (at most 5 characters). */
export function prettySize(size: number): string {
  if (size < 1024) return `${size}b`;
  let s = size;
  for (const suffix of ['k', 'm', 'g', 't']) {
    s /= 1024;
    if (s < 99.95) return `${pyFixed(s, 1)}${suffix}`;
    if (s < 1024 || suffix === 't') return `${pyFixed(s, 0)}${suffix}`;
  }
  return `${size}b`;
}

/**
 * An address as mitmproxy prints it: `1.2.3.4:80`, `[::1]:80`, IPv4-mapped IPv6 as IPv4,
 * unspecified as `*:80`, hostnames as `host:80`, none as `<no address>`.
 */
export function formatAddress(address: readonly [string, number, ...number[]] | null | undefined): string {
  if (!address) return '<no address>';
  const [host, port] = address;
  if (isIPv4(host)) return host === '0.0.0.0' ? `*:${port}` : `${host}:${port}`;
  if (isIPv6(host)) {
    const canonical = canonicalIpv6(host);
    if (canonical === '::') return `*:${port}`;
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
    if (mapped) {
      const hi = parseInt(mapped[1]!, 16);
      const lo = parseInt(mapped[2]!, 16);
      return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}:${port}`;
    }
    return `[${canonical}]:${port}`;
  }
  return `${host}:${port}`;
}

/** RFC 5952 form (what Python's `str(IPv6Address)` prints), via the WHATWG URL serializer. */
function canonicalIpv6(host: string): string {
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return host.toLowerCase();
  }
}

const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
const CONTROL_ALL = /[\x00-\x1f\x7f]/g;

/** Replace control characters by `.`; tabs and newlines stay unless `keepSpacing` is false. */
export function escapeControl(text: string, keepSpacing = true): string {
  return text.replace(keepSpacing ? CONTROL : CONTROL_ALL, '.');
}

const ESCAPES: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r', 92: '\\\\' };

/**
 * Bytes as a printable string the way mitmproxy shows header names and values: printable ASCII
 * as is, `\\` doubled, `\t \n \r` as escapes (kept literally with `keepSpacing`), other bytes
 * as `\xNN`.
 */
export function bytesToEscaped(data: Buffer, keepSpacing = false): string {
  let out = '';
  let plainFrom = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b >= 0x20 && b < 0x7f && b !== 92) continue;
    if (keepSpacing && (b === 9 || b === 10 || b === 13)) continue;
    out += data.toString('latin1', plainFrom, i);
    out += ESCAPES[b] ?? `\\x${b.toString(16).padStart(2, '0')}`;
    plainFrom = i + 1;
  }
  return out + data.toString('latin1', plainFrom);
}

const LINE_BREAKS = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** Python's `indent`: strip, split into lines, prefix each with `n` spaces. */
export function indent(n: number, text: string): string {
  const pad = ' '.repeat(n);
  const t = text.trim();
  if (t === '') return '';
  return t
    .split(LINE_BREAKS)
    .map((l) => pad + l)
    .join('\n');
}

/** The text up to and including its `n`th newline (all of it if it has fewer lines). */
export function cutAfterNLines(text: string, n: number): string {
  let pos = text.indexOf('\n');
  while (pos >= 0 && n > 1) {
    pos = text.indexOf('\n', pos + 1);
    n--;
  }
  return pos >= 0 ? text.slice(0, pos + 1) : text;
}
