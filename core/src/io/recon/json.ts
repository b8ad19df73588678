/**
 * JSON values for `mitmts flows` output, and the one tool that keeps them bounded: `shrink`
 * cuts strings, lists, objects and nesting to limits, marking every cut, and `fitJson` finds
 * the loosest limits under which a value serializes within a byte budget.
 */
import { TnetFloat } from '../tnetstring.js';

/** JSON-compatible output values. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Limits for {@link shrink}. */
export interface ShrinkLimits {
  /** Characters kept of each string. */
  readonly str: number;
  /** Items kept of each list, keys of each object. */
  readonly items: number;
  /** Levels of nesting kept; deeper lists and objects become a marker string. */
  readonly depth: number;
}

/**
 * Nesting kept of parsed bodies. Walking deeper structures recursively would overflow the stack
 * (JSON.parse accepts any depth, JSON.stringify does not), and nothing useful is that deep.
 */
export const MAX_JSON_DEPTH = 64;

/** Limits that cut nothing but nesting beyond {@link MAX_JSON_DEPTH}. */
export const NO_LIMITS: ShrinkLimits = { str: Infinity, items: Infinity, depth: MAX_JSON_DEPTH };

/** Tighter and tighter limits, tried in turn by {@link fitJson}. */
export const LEVELS: readonly ShrinkLimits[] = [
  NO_LIMITS,
  { str: 4096, items: 256, depth: 32 },
  { str: 1024, items: 64, depth: 16 },
  { str: 256, items: 16, depth: 10 },
  { str: 128, items: 8, depth: 8 },
  { str: 64, items: 4, depth: 6 },
  { str: 32, items: 2, depth: 4 },
  { str: 16, items: 1, depth: 3 },
  { str: 8, items: 0, depth: 2 },
];

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** The marker a cut string ends with. */
export const cutString = (s: string, keep: number): string =>
  `${s.slice(0, keep)}…[+${plural(s.length - keep, 'char')}]`;

/**
 * A copy of `v` within `limits` (anything not JSON, e.g. undefined or a function, becomes
 * null; a bigint its decimal string). Cuts are marked: a string ends in `…[+N chars]`, a list
 * gets a last item `…[+N items]`, an object a last key `…` with `+N keys`, and a value nested
 * too deep becomes `…{N keys}` or `…[N items]`. `exempt` levels from the top keep all their
 * items (the fields of an output line). `cuts.n` counts the cuts made, when given.
 */
export function shrink(v: unknown, limits: ShrinkLimits, exempt = 0, depth = 0, cuts?: { n: number }): JsonValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
      if (v.length <= limits.str) return v;
      if (cuts) cuts.n++;
      return cutString(v, limits.str);
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'boolean':
      return v;
    case 'bigint':
      return String(v);
    case 'object':
      break;
    default:
      return null;
  }
  // Values of flow metadata read from files: bytes as text (or base64), floats as numbers.
  if (v instanceof Uint8Array) return shrink(bytesText(v), limits, exempt, depth, cuts);
  if (v instanceof TnetFloat) return v.value;
  const max = depth < exempt ? Infinity : limits.items;
  if (Array.isArray(v)) {
    if (depth >= limits.depth) {
      if (cuts) cuts.n++;
      return `…[${plural(v.length, 'item')}]`;
    }
    const n = Math.min(v.length, max);
    const out: JsonValue[] = new Array<JsonValue>(n);
    for (let i = 0; i < n; i++) out[i] = shrink(v[i], limits, exempt, depth + 1, cuts);
    if (n < v.length) {
      if (cuts) cuts.n++;
      out.push(`…[+${plural(v.length - n, 'item')}]`);
    }
    return out;
  }
  const keys = Object.keys(v);
  if (depth >= limits.depth) {
    if (cuts) cuts.n++;
    return `…{${plural(keys.length, 'key')}}`;
  }
  const out: JsonObject = {};
  const n = Math.min(keys.length, max);
  for (let i = 0; i < n; i++)
    out[keys[i]!] = shrink((v as Record<string, unknown>)[keys[i]!], limits, exempt, depth + 1, cuts);
  if (n < keys.length) {
    if (cuts) cuts.n++;
    out['…'] = `+${plural(keys.length - n, 'key')}`;
  }
  return out;
}

/** Bytes as UTF-8 text when they are, else `base64:...`. */
function bytesText(b: Uint8Array): string {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const text = buf.toString('utf8');
  return Buffer.byteLength(text) === buf.length && !text.includes('\ufffd') ? text : `base64:${buf.toString('base64')}`;
}

/** Serialize, or undefined when the value is too deep for JSON.stringify. */
function tryStringify(v: JsonValue): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
}

/**
 * `v` serialized within `maxBytes` if any level of {@link LEVELS} gets it there: the text and
 * whether anything was cut. `undefined` when even the tightest level is too long (the caller
 * decides what to drop). `exempt` as in {@link shrink}.
 */
export function fitJson(
  v: JsonValue,
  maxBytes: number,
  exempt = 0,
): { text: string; value: JsonValue; cut: boolean } | undefined {
  const whole = tryStringify(v);
  if (whole !== undefined && Buffer.byteLength(whole) <= maxBytes) return { text: whole, value: v, cut: false };
  for (let i = 1; i < LEVELS.length; i++) {
    const value = shrink(v, LEVELS[i]!, exempt);
    const text = JSON.stringify(value);
    if (Buffer.byteLength(text) <= maxBytes) return { text, value, cut: true };
  }
  return undefined;
}
