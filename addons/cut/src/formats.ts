import { cutText, type CutValue } from './extract.js';

/** One CSV field as Python's csv module writes it (quoted when it holds `,` `"` CR or LF). */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows as CSV (`\r\n` line ends, as Python's csv.writer). */
export function toCsv(rows: readonly (readonly CutValue[])[]): string {
  return rows.map((r) => `${r.map((v) => csvField(cutText(v))).join(',')}\r\n`).join('');
}

/** A JSON value for a cut: text as a string, bytes that are not UTF-8 as `{ "base64": "..." }`. */
export type CutJson = string | { base64: string };

/** Rows as JSON: one object per flow, keyed by cut spec. */
export function toJson(
  cuts: readonly string[],
  rows: readonly (readonly CutValue[])[],
): Array<Record<string, CutJson>> {
  return rows.map((r) => Object.fromEntries(cuts.map((c, i) => [c, jsonValue(r[i]!)])));
}

function jsonValue(v: CutValue): CutJson {
  if (typeof v === 'string') return v;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(v);
  } catch {
    return { base64: v.toString('base64') };
  }
}
