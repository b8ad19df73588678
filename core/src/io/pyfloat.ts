/**
 * Python's `repr(float)`, which is how mitmproxy writes tnetstring floats (`^`), and the
 * matching parser for Python's `float()` literals. Both sides use the shortest decimal that
 * round-trips; only the layout differs from JavaScript's (`1e-05` vs `0.00001`, `1e+16` vs
 * `10000000000000000`, `946681200.0` vs `946681200`).
 */

/** `repr(x)` of the Python float with the same value as `x`. */
export function pyFloatRepr(x: number): string {
  const a = x < 0 ? -x : x;
  // Python and JavaScript agree on fixed notation in this range; Python adds ".0" to integers.
  if (a >= 1e-4 && a < 1e16) {
    const s = String(x);
    return Number.isInteger(x) ? s + '.0' : s;
  }
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  if (x !== x) return 'nan';
  if (a === Infinity) return x > 0 ? 'inf' : '-inf';
  // Shortest round-trip digits and decimal exponent, e.g. "1.2345e+20".
  const e = x.toExponential();
  const ePos = e.indexOf('e');
  const neg = e.charCodeAt(0) === 45;
  const mant = e.slice(neg ? 1 : 0, ePos).replace('.', '');
  const exp = Number(e.slice(ePos + 1));
  const decpt = exp + 1;
  let out: string;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) out = '0.' + '0'.repeat(-decpt) + mant;
    else if (decpt >= mant.length) out = mant + '0'.repeat(decpt - mant.length) + '.0';
    else out = mant.slice(0, decpt) + '.' + mant.slice(decpt);
  } else {
    const absExp = exp < 0 ? -exp : exp;
    out =
      mant[0] +
      (mant.length > 1 ? '.' + mant.slice(1) : '') +
      'e' +
      (exp < 0 ? '-' : '+') +
      (absExp < 10 ? '0' : '') +
      absExp;
  }
  return neg ? '-' + out : out;
}

function special(body: string): number | undefined {
  if (body === 'nan') return NaN;
  if (body === 'inf' || body === 'infinity') return Infinity;
  return undefined;
}

/**
 * Parse a Python float literal (as `float(bytes)` accepts it, minus digit-group underscores).
 * Returns `undefined` for anything Python would reject.
 */
export function parsePyFloat(s: string): number | undefined {
  const n = Number(s);
  if (n === n) {
    // Number() also takes what Python's float() rejects: "", "  ", 0x/0o/0b prefixes.
    if (n === 0 && !/\d/.test(s)) return undefined;
    const c0 = s.charCodeAt(0);
    const c1 = s.charCodeAt(1) | 32;
    if (c0 === 48 && (c1 === 120 || c1 === 111 || c1 === 98)) return undefined;
    return n;
  }
  const t = s.trim().toLowerCase();
  const sign = t.startsWith('-') ? -1 : 1;
  const body = t.startsWith('-') || t.startsWith('+') ? t.slice(1) : t;
  const sp = special(body);
  if (sp !== undefined) return sign * sp;
  return undefined;
}
