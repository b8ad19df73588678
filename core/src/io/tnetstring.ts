/**
 * tnetstrings as mitmproxy writes them: `<length>:<payload><type>` with the types
 * `,` bytes, `;` text (mitmproxy's extension), `#` int, `^` float, `!` bool, `~` null,
 * `]` list and `}` dict (see shared/reference/flow-format.md §1).
 *
 * Decoding is the hot path of reading flow files: it works on one Buffer with offsets, returns
 * bytes payloads as zero-copy views (`subarray`) of that Buffer, and allocates nothing besides
 * the resulting values. Encoding is in tnet-encode.ts.
 */
import { TnetstringDepthError, TnetstringError } from './errors.js';
import { parseDecimalBytes, parsePyFloat } from './pyfloat.js';
import { TnetFloat } from './tnet-float.js';
import { SHAPE_ROOT, shapeBuilder, shapeChild, type ShapeNode, type TnetDict } from './dict-shapes.js';

export { TnetFloat } from './tnet-float.js';
export {
  encode,
  FLOAT,
  type TnetDictSchema,
  type TnetListSchema,
  type TnetSchema,
  type TnetTupleSchema,
} from './tnet-encode.js';

/** Any value a tnetstring can carry. Bytes decode to `Buffer`, text to `string`. */
export type TnetValue =
  null | boolean | number | bigint | string | Buffer | TnetFloat | TnetValue[] | { [key: string]: TnetValue };

/** Node's Buffer methods without argument normalization (present on every Buffer, untyped). */
interface RawBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  utf8Write(s: string, offset: number, length: number): number;
  latin1Write(s: string, offset: number, length: number): number;
}
const latin1 = (buf: Buffer, s: number, e: number): string => (buf as RawBuffer).latin1Slice(s, e);

/** Longest accepted length prefix, as in mitmproxy ("absurdly large length prefix"). */
const MAX_PREFIX_DIGITS = 12;

// Byte values are written as literals (with the character in a comment) so that V8 sees
// constants in the hot loop: `switch` on them compiles to a jump table.

// ---------------------------------------------------------------------------------------------
// Decoding

/** Read position of the decoder; decoding is synchronous, so module state is safe. */
// eslint-disable-next-line no-var -- `var`: no temporal-dead-zone checks on every access
var P = 0;
/** Offset added to positions in error messages and offsets (the buffer's place in a larger input). */
// eslint-disable-next-line no-var
var B = 0;
/** End of the input being decoded: running into it means truncation, not corruption. */
// eslint-disable-next-line no-var
var E = 0;

function describeByte(b: number | undefined): string {
  if (b === undefined) return 'end of input';
  if (b >= 0x20 && b < 0x7f) return `'${String.fromCharCode(b)}' (0x${b.toString(16).padStart(2, '0')})`;
  return `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/**
 * Parse the length prefix at `P`. Returns the payload length and leaves `P` at the first
 * payload byte. Kept small (errors are built in `prefixError`) so that V8 inlines it.
 */
function readPrefix(buf: Buffer, end: number): number {
  const start = P;
  let i = start;
  let n = 0;
  let c = 0;
  while (i < end && (c = buf[i]!) !== 58 /* ':' */) {
    if (c < 48 /* '0' */ || c > 57 /* '9' */ || i - start >= MAX_PREFIX_DIGITS) prefixError(buf, start, i, end);
    n = n * 10 + (c - 48);
    i++;
  }
  if (i >= end || i === start) prefixError(buf, start, i, end);
  P = i + 1;
  return n;
}

/** Why the prefix starting at `start` is bad (`i`: where parsing stopped). */
function prefixError(buf: Buffer, start: number, i: number, end: number): never {
  if (i >= end) {
    const truncated = end === E;
    const where = truncated ? 'the input ends' : 'its enclosing list or dict ends';
    if (i === start)
      throw new TnetstringError(
        `expected a tnetstring length prefix at byte ${B + start}, but ${where}`,
        B + start,
        truncated,
      );
    throw new TnetstringError(
      `${where} inside the length prefix that starts at byte ${B + start}`,
      B + start,
      truncated,
    );
  }
  const c = buf[i]!;
  if (c >= 48 && c <= 57) {
    throw new TnetstringError(
      `length prefix at byte ${B + start} is longer than ${MAX_PREFIX_DIGITS} digits`,
      B + start,
      false,
    );
  }
  if (c === 58 /* ':' */)
    throw new TnetstringError(`expected a decimal length prefix before ':' at byte ${B + i}`, B + i, false);
  throw new TnetstringError(
    `expected a decimal length prefix and ':' at byte ${B + i}, found ${describeByte(c)}`,
    B + i,
    false,
  );
}

function decodeInt(buf: Buffer, s: number, e: number): number | bigint {
  let i = s;
  let neg = false;
  if (i < e && (buf[i] === 45 /* '-' */ || buf[i] === 43) /* '+' */) {
    neg = buf[i] === 45; /* '-' */
    i++;
  }
  if (i === e)
    throw new TnetstringError(
      `invalid integer literal ${JSON.stringify(latin1(buf, s, e))} at byte ${B + s}`,
      B + s,
      false,
    );
  let n = 0;
  for (let j = i; j < e; j++) {
    const c = buf[j]!;
    if (c < 48 /* '0' */ || c > 57 /* '9' */) {
      throw new TnetstringError(
        `invalid integer literal ${JSON.stringify(latin1(buf, s, e))} at byte ${B + s}`,
        B + s,
        false,
      );
    }
    n = n * 10 + (c - 48); // c - '0'
  }
  if (e - i > 15 && n > Number.MAX_SAFE_INTEGER) {
    const big = BigInt(latin1(buf, i, e));
    return neg ? -big : big;
  }
  return neg ? -n : n;
}

function decodeFloat(buf: Buffer, s: number, e: number): number {
  const fast = parseDecimalBytes(buf, s, e);
  if (fast !== undefined) return fast;
  const text = latin1(buf, s, e);
  const v = parsePyFloat(text);
  if (v === undefined)
    throw new TnetstringError(`invalid float literal ${JSON.stringify(text)} at byte ${B + s}`, B + s, false);
  return v;
}

function setKey(obj: { [key: string]: TnetValue }, key: string, value: TnetValue): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Dict keys: text or bytes (Python 2 era files) both become strings; other types are stringified. */
function keyString(k: TnetValue, at: number): string {
  if (typeof k === 'string') return k;
  if (Buffer.isBuffer(k)) return k.toString('utf8');
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  throw new TnetstringError(
    `dict key at byte ${B + at} is not a string (found ${k === null ? 'null' : Array.isArray(k) ? 'list' : typeof k})`,
    B + at,
    false,
  );
}

// Dict keys repeat in every record (`timestamp_start`, `headers`, ...). Decoding them through a
// small cache returns the same internalized string each time: no utf8 decode, and V8 adds
// properties by pointer instead of hashing a fresh string. Slots are chosen by a hash of the
// bytes and verified byte for byte.
const KEY_CACHE_SLOTS = 1024;
const MAX_CACHED_KEY = 40;
const keyCacheBytes: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(KEY_CACHE_SLOTS).fill(undefined);
const keyCacheStrings: string[] = new Array<string>(KEY_CACHE_SLOTS).fill('');

function readKey(buf: Buffer, end: number): string {
  const at = P;
  const len = readPrefix(buf, end);
  const s = P;
  const e = s + len;
  if (len <= MAX_CACHED_KEY && e < end) {
    const tag = buf[e];
    if (tag === 59 /* ';' */ || tag === 44 /* ',' */) {
      // Length and three sample bytes pick the slot; the comparison below checks every byte.
      let h =
        len === 0
          ? 0
          : Math.imul(len, 0x9e3779b1) ^
            Math.imul(buf[s]!, 0x85ebca6b) ^
            Math.imul(buf[e - 1]!, 0xc2b2ae35) ^
            Math.imul(buf[s + (len >> 1)]!, 0x27d4eb2f);
      h ^= h >>> 13;
      h = Math.imul(h, 0x5bd1e995);
      h ^= h >>> 15;
      P = e + 1;
      // Two-way set associative: look at two neighbouring slots.
      const slot = h & (KEY_CACHE_SLOTS - 1) & ~1;
      for (let w = slot; w < slot + 2; w++) {
        const cached = keyCacheBytes[w];
        if (cached === undefined || cached.length !== len) continue;
        let same = true;
        for (let j = 0; j < len; j++) {
          if (cached[j] !== buf[s + j]) {
            same = false;
            break;
          }
        }
        if (same) return keyCacheStrings[w]!;
      }
      // Internalize once (a computed property name yields V8's internalized copy).
      const str = Object.keys({ [(buf as RawBuffer).utf8Slice(s, e)]: 0 })[0]!;
      const w = keyCacheBytes[slot] === undefined ? slot : slot + 1;
      keyCacheBytes[w] = Uint8Array.prototype.slice.call(buf, s, e);
      keyCacheStrings[w] = str;
      return str;
    }
  }
  P = at;
  const k = readValue(buf, end);
  return keyString(k, at);
}

function readValue(buf: Buffer, end: number): TnetValue {
  const at = P;
  const len = readPrefix(buf, end);
  const s = P;
  const e = s + len;
  if (e >= end) overrunError(at, len, s, end);
  const tag = buf[e]!;
  P = e + 1;
  switch (tag) {
    case 44 /* ',' */:
      return buf.subarray(s, e);
    case 59 /* ';' */:
      return len === 0 ? '' : (buf as RawBuffer).utf8Slice(s, e);
    case 35 /* '#' */:
      return decodeInt(buf, s, e);
    case 94 /* '^' */:
      return decodeFloat(buf, s, e);
    case 33 /* '!' */:
      if (len === 4 && buf[s] === 116 && buf[s + 1] === 114 && buf[s + 2] === 117 && buf[s + 3] === 101) return true;
      if (
        len === 5 &&
        buf[s] === 102 &&
        buf[s + 1] === 97 &&
        buf[s + 2] === 108 &&
        buf[s + 3] === 115 &&
        buf[s + 4] === 101
      )
        return false;
      return literalError('boolean', buf, s, e);
    case 126 /* '~' */:
      if (len !== 0) nullError(at, len);
      return null;
    case 93 /* ']' */:
      return readList(buf, at, s, e);
    case 125 /* '}' */:
      return readDict(buf, at, s, e);
    default:
      return tagError(tag, at, e);
  }
}

/** Lists and dicts open around the value being read (bounded: see TnetstringDepthError). */
// eslint-disable-next-line no-var
var DEPTH = 0;

function enter(at: number): void {
  if (++DEPTH > TnetstringDepthError.LIMIT) {
    throw new TnetstringDepthError(
      `value at byte ${B + at} nests lists and dicts more than ${TnetstringDepthError.LIMIT} levels deep; no flow does, so the input is corrupt or hostile`,
      B + at,
      false,
    );
  }
}

function readList(buf: Buffer, at: number, s: number, e: number): TnetValue[] {
  enter(at);
  // Items go on the value stack first, so that the list is allocated once, at its size.
  const base = SP;
  P = s;
  while (P < e) {
    const slot = SP++;
    VALS[slot] = readValue(buf, e);
  }
  P = e + 1;
  DEPTH--;
  const top = SP;
  if (top > HIGH) HIGH = top;
  SP = base;
  // Pairs (header fields, addresses) and the empty list are the common cases.
  switch (top - base) {
    case 0:
      return [];
    case 1:
      return [VALS[base]!];
    case 2:
      return [VALS[base]!, VALS[base + 1]!];
    default:
      return VALS.slice(base, top);
  }
}

// Values of the lists and dicts being decoded (and keys of dicts), innermost last: a
// container's entries sit at [its base, SP). `decodeAt` resets and clears it, also after an
// error thrown halfway.
// eslint-disable-next-line no-var
var VALS: TnetValue[] = [];
// eslint-disable-next-line no-var
var KEYS: string[] = [];
// eslint-disable-next-line no-var
var SP = 0;
/** Highest SP of the current decode (the stack is cleared up to it at the end). */
// eslint-disable-next-line no-var
var HIGH = 0;
/** The input of the current decode, for reading key encodings four bytes at a time. */
// eslint-disable-next-line no-var
var DV: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** The child of `node` whose key encoding is at `P` (then `P` moves past it), if any. */
function matchShape(node: ShapeNode, buf: Buffer, e: number): ShapeNode | undefined {
  const kids = node.children;
  const p = P;
  const dv = DV;
  for (let c = 0; c < kids.length; c++) {
    const kid = kids[c]!;
    const n = kid.length;
    // `<` and not `<=`: a key must be followed by its value (the generic path reports it).
    if (p + n >= e) continue;
    if (n < 4) {
      if (!matchBytes(kid.enc, buf, p)) continue;
    } else {
      // Four bytes at a time; the last word ends with the encoding (it may overlap the one before).
      const words = kid.words;
      const full = words.length - 1;
      let k = 0;
      while (k < full && dv.getInt32(p + 4 * k, true) === words[k]) k++;
      if (k < full || dv.getInt32(p + n - 4, true) !== words[full]) continue;
    }
    P = p + n;
    return kid;
  }
  return undefined;
}

function matchBytes(enc: Uint8Array, buf: Buffer, p: number): boolean {
  for (let j = 0; j < enc.length; j++) if (enc[j] !== buf[p + j]) return false;
  return true;
}

function readDict(buf: Buffer, at: number, s: number, e: number): TnetDict {
  enter(at);
  const base = SP;
  // The shape of the keys so far; undefined once past the trie's limits (keys then go to KEYS).
  let node: ShapeNode | undefined = SHAPE_ROOT;
  P = s;
  while (P < e) {
    const keyAt = P;
    if (node !== undefined) {
      let next = matchShape(node, buf, e);
      if (next === undefined) {
        const k = readKey(buf, e);
        next = shapeChild(node, k, buf, keyAt, P);
        if (next === undefined) {
          pathKeys(node, base);
          KEYS[SP] = k;
        }
      }
      node = next;
    } else {
      KEYS[SP] = readKey(buf, e);
    }
    if (P >= e)
      throw new TnetstringError(
        `dict at byte ${B + at} has a key without a value (key at byte ${B + keyAt})`,
        B + keyAt,
        false,
      );
    const slot = SP++;
    VALS[slot] = readValue(buf, e);
  }
  P = e + 1;
  DEPTH--;
  const top = SP;
  if (top > HIGH) HIGH = top;
  SP = base;
  if (node !== undefined) {
    const build = node.build ?? shapeBuilder(node);
    if (build !== undefined) return build(VALS, base);
    pathKeys(node, base);
  }
  const obj: TnetDict = {};
  for (let i = base; i < top; i++) setKey(obj, KEYS[i]!, VALS[i]!);
  return obj;
}

/** Write the keys of `node`'s path to KEYS from `base` on (for building a dict key by key). */
function pathKeys(node: ShapeNode, base: number): void {
  for (let n: ShapeNode = node; n.parent !== undefined; n = n.parent) KEYS[base + n.depth - 1] = n.key;
}

function overrunError(at: number, len: number, s: number, end: number): never {
  if (end === E) {
    throw new TnetstringError(
      `tnetstring at byte ${B + at} declares ${len} payload bytes but the input ends after ${Math.max(0, end - s)}`,
      B + at,
      true,
    );
  }
  throw new TnetstringError(
    `value at byte ${B + at} declares ${len} payload bytes, more than the ${Math.max(0, end - s)} left in its enclosing list or dict`,
    B + at,
    false,
  );
}

function nullError(at: number, len: number): never {
  throw new TnetstringError(`null at byte ${B + at} has a non-empty payload (${len} bytes)`, B + at, false);
}

function literalError(kind: 'boolean', buf: Buffer, s: number, e: number): never {
  throw new TnetstringError(
    `invalid ${kind} literal ${JSON.stringify(latin1(buf, s, e))} at byte ${B + s}`,
    B + s,
    false,
  );
}

function tagError(tag: number, at: number, e: number): never {
  throw new TnetstringError(
    `unknown tnetstring type tag ${describeByte(tag)} at byte ${B + e} (value starting at byte ${B + at}); expected one of , ; # ^ ! ~ ] }`,
    B + e,
    false,
  );
}

/**
 * Decode the value starting at `offset`. Returns the value and the offset just past it.
 * Error messages and offsets are positions in `buf` plus `base` (where `buf` sits in a larger
 * input).
 */
export function decodeAt(buf: Buffer, offset = 0, end = buf.length, base = 0): { value: TnetValue; end: number } {
  DV = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  P = offset;
  B = base;
  E = end;
  SP = 0;
  DEPTH = 0;
  let value: TnetValue;
  try {
    value = readValue(buf, end);
  } finally {
    // Drop the stack's references, so that it keeps no input alive (SP: a failed decode).
    const high = HIGH > SP ? HIGH : SP;
    if (high > 0) VALS.fill(null, 0, high);
    HIGH = 0;
    SP = 0;
  }
  return { value, end: P };
}

/** Decode exactly one tnetstring that fills `buf` (trailing bytes are an error). */
export function decode(buf: Buffer): TnetValue {
  const r = decodeAt(buf, 0, buf.length, 0);
  if (r.end !== buf.length) {
    throw new TnetstringError(`unexpected data after the tnetstring at byte ${r.end}`, r.end, false);
  }
  return r.value;
}

/**
 * Total byte length of the tnetstring starting at `offset` (prefix, payload and type tag),
 * or -1 if the prefix itself is not complete before `end`. Throws on a malformed prefix.
 * Used to split a stream into records without decoding them.
 */
export function measure(buf: Buffer, offset: number, end: number, base = 0): number {
  P = offset;
  B = base;
  E = end;
  let len: number;
  try {
    len = readPrefix(buf, end);
  } catch (e) {
    if (e instanceof TnetstringError && e.truncated) return -1;
    throw e;
  }
  return P - offset + len + 1;
}
