/**
 * Cutting values out of a tnetstring record and putting them back, without decoding it: a
 * record's large bodies live in files, and the record keeps an empty placeholder. The lengths
 * of the enclosing dicts are rewritten, so the result is exactly the record the writer made.
 */

interface Element {
  /** Payload bytes [start, end); the type character is at `end`. */
  readonly start: number;
  readonly end: number;
}

function element(buf: Buffer, off: number): Element {
  let i = off;
  let len = 0;
  for (let c = buf[i]!; c !== 0x3a; c = buf[++i]!) {
    if (c < 0x30 || c > 0x39 || i - off > 12) throw new Error(`not a tnetstring at byte ${off}`);
    len = len * 10 + (c - 0x30);
  }
  if (i + 1 + len >= buf.length) throw new Error(`tnetstring at byte ${off} is cut short`);
  return { start: i + 1, end: i + 1 + len };
}

/** Offset of the value stored under `key` in the dict at `off`, or -1. */
function dictValue(buf: Buffer, off: number, key: Buffer): number {
  const dict = element(buf, off);
  if (buf[dict.end] !== 0x7d) return -1;
  for (let i = dict.start; i < dict.end;) {
    const k = element(buf, i);
    const v = k.end + 1;
    if (k.end - k.start === key.length && buf.compare(key, 0, key.length, k.start, k.end) === 0) return v;
    i = element(buf, v).end + 1;
  }
  return -1;
}

/** The path's value in the record: its payload and type character, or null if absent. */
export function valueAt(record: Buffer, path: readonly Buffer[]): { payload: Buffer; type: number } | null {
  let off = 0;
  for (const key of path) {
    off = dictValue(record, off, key);
    if (off < 0) return null;
  }
  const el = element(record, off);
  return { payload: record.subarray(el.start, el.end), type: record[el.end]! };
}

/** The record with the value at `path` replaced by `value` (one encoded tnetstring), or null if absent. */
export function replaceAt(record: Buffer, path: readonly Buffer[], value: Buffer, off = 0): Buffer | null {
  if (path.length === 0) return value;
  const el = element(record, off);
  const v = dictValue(record, off, path[0]!);
  if (v < 0) return null;
  const inner = replaceAt(record, path.slice(1), value, v);
  if (inner === null) return null;
  const vEnd = element(record, v).end + 1;
  const payloadLength = v - el.start + inner.length + (el.end - vEnd);
  return Buffer.concat([
    Buffer.from(`${payloadLength}:`, 'latin1'),
    record.subarray(el.start, v),
    inner,
    record.subarray(vEnd, el.end + 1),
  ]);
}

/** `bytes` as a tnetstring bytes value. */
export function encodeBytes(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${bytes.length}:`, 'latin1'), bytes, Buffer.from(',', 'latin1')]);
}
