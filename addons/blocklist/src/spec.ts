/**
 * `block_list` specs: `<sep><flow-filter><sep><status-code>`, where `<sep>` is the spec's first
 * character (any character), e.g. `/~d example.com/404` or `:~u /ads/:444`. Pure helpers.
 */
import { parseFilter, RESPONSES, type Filter } from '@mitmts/sdk';

/** mitmproxy's `NO_RESPONSE`: close the connection without answering. */
export const NO_RESPONSE = 444;

/** A parsed `block_list` entry. */
export interface BlockSpec {
  /** The spec as given. */
  readonly spec: string;
  readonly filter: Filter;
  readonly statusCode: number;
}

/** Python's `int(str)` for decimal text: surrounding whitespace, a sign, `_` between digits. */
export function parsePyInt(text: string): number | null {
  const t = text.trim();
  if (!/^[+-]?\d+(?:_\d+)*$/.test(t)) return null;
  return Number(t.replace(/_/g, ''));
}

/**
 * Parse one spec. The text after the separator is lower-cased before it is split (as mitmproxy
 * does; filters ignore case anyway), and must split into exactly two parts, so the filter cannot
 * contain the separator: pick another one (`|~u /a/b|404`).
 * @throws Error naming what is wrong (the caller adds the option and the spec).
 */
export function parseSpec(spec: string): BlockSpec {
  if (spec.length === 0) throw new Error('Empty spec; expected /flow-filter/status-code.');
  const sep = spec[0]!;
  const parts = spec.slice(1).toLowerCase().split(sep);
  if (parts.length !== 2) {
    throw new Error(
      `Invalid number of parameters (2 are expected, separated by '${sep}', the spec's first character; found ${parts.length}).`,
    );
  }
  const [pattern, status] = parts as [string, string];
  const statusCode = parsePyInt(status);
  if (statusCode === null) throw new Error(`Invalid HTTP status code: ${status}`);
  const filter = parseFilter(pattern);
  if (statusCode !== NO_RESPONSE && !RESPONSES[statusCode]) throw new Error(`Invalid HTTP status code: ${status}`);
  return { spec, filter, statusCode };
}
