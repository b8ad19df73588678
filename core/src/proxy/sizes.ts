import { OptionsError } from '../kernel/errors.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parse a human size as mitmproxy does (`body_size_limit`, `stream_large_bodies`): a number of
 * bytes with an optional k, m or g suffix (powers of 1024). Null stays null (no limit).
 */
export function parseSize(option: string, value: string | null): number | null {
  if (value === null) return null;
  const m = /^\s*(\d+)\s*([bkmg]?)\s*$/i.exec(value);
  if (!m) {
    throw new OptionsError(
      `Option ${option}: invalid size specification ${JSON.stringify(value)}: use a number of bytes with an optional k, m or g suffix, e.g. 3m.`,
      'MITMTS_ERR_OPTION_INVALID',
    );
  }
  return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
}
