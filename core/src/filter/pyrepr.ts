/**
 * Python's `str()` and `repr()` of plain values, so that `~meta` sees flow metadata rendered as
 * mitmproxy renders it (`key: value` lines, dicts as `{'k': 'v'}`, booleans as True/False).
 */

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function escapeChar(c: string): string {
  const cp = c.codePointAt(0)!;
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  if (cp < 0x100) return '\\x' + cp.toString(16).padStart(2, '0');
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}

/** Python `repr(str)`. */
export function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const c of s) {
    if (c === '\\' || c === q) out += '\\' + c;
    else if (c !== ' ' && NON_PRINTABLE.test(c)) out += escapeChar(c);
    else out += c;
  }
  return out + q;
}

/** Python `repr(bytes)`. */
export function pyBytesRepr(b: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const x of b) {
    if (x === 0x27) hasSingle = true;
    if (x === 0x22) hasDouble = true;
  }
  const q = hasSingle && !hasDouble ? '"' : "'";
  let out = 'b' + q;
  for (const x of b) {
    const c = String.fromCharCode(x);
    if (c === '\\' || c === q) out += '\\' + c;
    else if (x === 0x09) out += '\\t';
    else if (x === 0x0a) out += '\\n';
    else if (x === 0x0d) out += '\\r';
    else if (x < 0x20 || x >= 0x7f) out += '\\x' + x.toString(16).padStart(2, '0');
    else out += c;
  }
  return out + q;
}

/** Python `repr(float)` (shortest round-trip digits; exponent form below 1e-4 and from 1e16). */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  const [mant, expStr] = n.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 16) {
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${mant}e${exp < 0 ? '-' : '+'}${e}`;
  }
  const s = n.toFixed(Math.max(0, (mant.split('.')[1]?.length ?? 0) - exp));
  return s.includes('.') ? s : s + '.0';
}

function pyNumber(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : pyFloatRepr(n);
}

/** Python `repr()` of a plain value. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return pyNumber(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return pyStrRepr(v);
  if (v instanceof Uint8Array) return pyBytesRepr(v);
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  if (v instanceof Map) return '{' + Array.from(v, ([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ') + '}';
  if (v instanceof Set) return v.size ? '{' + Array.from(v, pyRepr).join(', ') + '}' : 'set()';
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return (
      '{' +
      Object.entries(v)
        .map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`)
        .join(', ') +
      '}'
    );
  }
  return String(v);
}

/** Python `str()` of a plain value (strings as-is, everything else as `repr`). */
export function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}
