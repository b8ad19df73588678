import type { Flow } from '@mitmts/sdk';
import { curlCommand, type CurlOptions } from './curl.js';
import { fetchCommand } from './fetch.js';
import { httpieCommand } from './httpie.js';
import { pythonRequestsCommand } from './python.js';
import { raw, rawRequest, rawResponse } from './raw.js';

/** An export format: the flow as text (commands, code) or as bytes (raw HTTP). */
export type Exporter = (f: Flow, o: CurlOptions) => string | Buffer;

/** Every format, by name: mitmproxy's five plus `fetch` and `python-requests`. */
export const FORMATS: Readonly<Record<string, Exporter>> = {
  curl: curlCommand,
  fetch: fetchCommand,
  httpie: httpieCommand,
  'python-requests': pythonRequestsCommand,
  raw,
  raw_request: rawRequest,
  raw_response: rawResponse,
};

/** Bytes as text: UTF-8 where it is valid, each other byte as `\xNN` (Python's backslashreplace, as mitmproxy's `export`). */
export function bytesToDisplay(b: Buffer): string {
  let out = '';
  let start = 0;
  let i = 0;
  while (i < b.length) {
    const n = utf8SequenceAt(b, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += b.toString('utf8', start, i) + `\\x${b[i]!.toString(16).padStart(2, '0')}`;
    start = ++i;
  }
  return out + b.toString('utf8', start);
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629: no overlongs, surrogates or > U+10FFFF), or 0. */
function utf8SequenceAt(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) [n, lo, hi] = [3, c === 0xe0 ? 0xa0 : 0x80, c === 0xed ? 0x9f : 0xbf];
  else if (c >= 0xf0 && c <= 0xf4) [n, lo, hi] = [4, c === 0xf0 ? 0x90 : 0x80, c === 0xf4 ? 0x8f : 0xbf];
  else return 0;
  if (i + n > b.length || b[i + 1]! < lo || b[i + 1]! > hi) return 0;
  for (let k = 2; k < n; k++) if (b[i + k]! < 0x80 || b[i + k]! > 0xbf) return 0;
  return n;
}
