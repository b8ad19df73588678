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

// ---------------------------------------------------------------------------------------------
// Parsing straight from bytes

/** Powers of ten that doubles hold exactly. */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** 2^27 + 1: Veltkamp's splitter for exact products without a fused multiply-add. */
const SPLITTER = 134217729;
/** Relative nudge for the rounding check below: far above the error of `corr`, far below an ulp. */
const NUDGE = 2 ** -30;

// Low part of the last `twoProduct` (module state: no allocation per call).
// eslint-disable-next-line no-var
var productLow = 0;

/** `a * b` rounded; the exact rest goes to `productLow` (Dekker). */
function twoProduct(a: number, b: number): number {
  const p = a * b;
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  productLow = ah * bh - p + ah * bl + al * bh + al * bl;
  return p;
}

/**
 * The value of the decimal literal `buf[s, e)` if it is a plain decimal (`-?digits[.digits]`,
 * what mitmproxy writes for timestamps) with at most 19 significant digits and 22 decimals;
 * `undefined` for anything else (exponents, inf, nan, blanks, invalid text, ties too close to
 * call), which the caller then parses from text. The result is exactly `Number(text)`:
 * up to 15 digits the quotient of two exact doubles is correctly rounded; beyond, the
 * remainder of that quotient is computed exactly (Dekker products) and corrects it, and a
 * result that a nudge of the correction would change goes back to the text path.
 */
export function parseDecimalBytes(buf: Uint8Array, s: number, e: number): number | undefined {
  let i = s;
  const neg = i < e && buf[i] === 45; /* '-' */
  if (neg) i++;
  // Significant digits: `hi` takes them until it has 15 (leading zeros leave it 0), `lo` the rest.
  let hi = 0;
  let lo = 0;
  let loDigits = 0;
  let dot = -1;
  const first = i;
  for (; i < e; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) {
      if (d === -2 /* '.' */ && dot === -1) {
        dot = i;
        continue;
      }
      return undefined;
    }
    if (hi < 1e14) hi = hi * 10 + d;
    else {
      lo = lo * 10 + d;
      loDigits++;
    }
  }
  const decimals = dot === -1 ? 0 : e - dot - 1;
  if (e - first === (dot === -1 ? 0 : 1) || loDigits > 4 || decimals > 22) return undefined;
  let v: number;
  if (loDigits === 0) {
    v = hi / POW10[decimals]!;
  } else {
    // M = hi * 10^loDigits + lo, exactly, as sHi + sLo.
    const p = twoProduct(hi, POW10[loDigits]!);
    const rest = productLow + lo; // small integers: exact
    const sHi = p + rest;
    const sLo = rest - (sHi - p); // exact since |rest| <= |p|
    if (decimals === 0) {
      v = sHi;
    } else {
      const d = POW10[decimals]!;
      const q = sHi / d;
      const qd = twoProduct(q, d);
      // M - q*d; sHi - qd is exact (Sterbenz), the rest is tiny.
      const corr = (sHi - qd - productLow + sLo) / d;
      v = q + corr;
      if (q + corr * (1 + NUDGE) !== v || q + corr * (1 - NUDGE) !== v) return undefined;
    }
  }
  return neg ? -v : v;
}
