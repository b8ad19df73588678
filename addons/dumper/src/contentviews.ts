/**
 * A small set of content views for mitmdump's body output (`flow_detail` 3 and 4): how a body
 * becomes text. mitmproxy has many more (XML, images, protobuf...); these cover the common
 * cases and stay in this package. `auto` picks by content type and content, as mitmproxy's
 * render priorities do.
 */
import { Message, parseContentType, parseSse, HTTPRequest } from '@mitmts/sdk';
import { escapeControl } from './human.js';

/** What a view gets besides the bytes. */
export interface ViewContext {
  /** `type/subtype`, lower-case, when the message is HTTP and has a Content-Type. */
  readonly contentType: string | null;
  /** The HTTP message, if the bytes are an HTTP body. */
  readonly http: Message | null;
}

export interface ContentView {
  readonly name: string;
  /** The text to show; throws if the data does not fit the view (e.g. not JSON). */
  prettify(data: Buffer, ctx: ViewContext): string;
  /** How well the view fits (higher wins in `auto`; 0 = not at all). */
  priority(data: Buffer, ctx: ViewContext): number;
}

/** Python's `bytes.decode('utf-8', 'backslashreplace')`, control characters shown as `.`. */
function utf8BackslashReplace(data: Buffer): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(data);
  if (!text.includes('\ufffd')) return escapeControl(text);
  let out = '';
  let i = 0;
  while (i < data.length) {
    const len = utf8SequenceLength(data, i);
    if (len > 0) {
      out += data.toString('utf8', i, i + len);
      i += len;
    } else {
      out += `\\x${data[i]!.toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return escapeControl(out);
}

/** Length of a valid UTF-8 sequence at `i`, 0 if the bytes there are not one. */
function utf8SequenceLength(d: Buffer, i: number): number {
  const b = d[i]!;
  if (b < 0x80) return 1;
  const n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > d.length) return 0;
  for (let k = 1; k < n; k++) if ((d[i + k]! & 0xc0) !== 0x80) return 0;
  const b1 = d[i + 1]!;
  if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f) || (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f))
    return 0;
  return n;
}

/**
 * mitmproxy's `is_mostly_bin`: more than 30% of the first 100 bytes are control or non-ASCII
 * bytes; except that non-ASCII bytes of valid UTF-8 count as text.
 */
export function isMostlyBinary(data: Buffer): boolean {
  if (data.length === 0) return false;
  const head = data.subarray(0, 100);
  let control = 0;
  let high = 0;
  for (const b of head) {
    if (b < 9 || (b > 13 && b < 32) || b === 127) control++;
    else if (b > 127) high++;
  }
  if (high > 0 && isUtf8(data.subarray(0, 4096))) high = 0;
  return (control + high) / head.length > 0.3;
}

function isUtf8(prefix: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(prefix, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** `key: value` lines, keys padded to the longest (at most 30), as mitmproxy's `format_pairs`. */
export function formatPairs(pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.min(Math.max(0, ...pairs.map(([k]) => k.length)), 30);
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n');
}

/** mitmproxy's hex dump: offset, 16 bytes in hex, their ASCII (others as `.`). */
export function hexdump(data: Buffer): string {
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += 16) {
    const part = data.subarray(i, i + 16);
    const hex = Array.from(part, (b) => b.toString(16).padStart(2, '0'))
      .join(' ')
      .padEnd(47);
    const ascii = Array.from(part, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${i.toString(16).padStart(10, '0')} ${hex}   ${ascii}`);
  }
  return lines.join('\n');
}

const JSON_TYPES = new Set(['application/json', 'application/json-rpc']);

function isJsonType(ct: string | null): boolean {
  return ct !== null && (JSON_TYPES.has(ct) || (ct.startsWith('application/') && ct.endsWith('json')));
}

export const raw: ContentView = {
  name: 'raw',
  prettify: (data) => utf8BackslashReplace(data),
  priority: () => 0.1,
};

export const text: ContentView = {
  name: 'text',
  prettify(data, ctx) {
    if (ctx.http) {
      const t = ctx.http.getText(false);
      if (t !== null) return escapeControl(t);
    }
    return escapeControl(data.toString('utf8'));
  },
  priority: () => 0,
};

export const hex: ContentView = {
  name: 'hex',
  prettify: (data) => hexdump(data),
  priority: (data) => (isMostlyBinary(data) ? 0.4 : 0),
};

export const json: ContentView = {
  name: 'json',
  prettify(data) {
    const parsed: unknown = JSON.parse(data.toString('utf8').replace(/^\ufeff/, ''));
    return escapeControl(JSON.stringify(parsed, null, 4));
  },
  priority: (data, ctx) => (data.length > 0 && isJsonType(ctx.contentType) ? 1 : 0),
};

export const urlencoded: ContentView = {
  name: 'urlencoded',
  prettify(data) {
    const pairs = [...new URLSearchParams(data.toString('latin1'))] as Array<[string, string]>;
    return escapeControl(formatPairs(pairs));
  },
  priority: (data, ctx) => (data.length > 0 && ctx.contentType === 'application/x-www-form-urlencoded' ? 1 : 0),
};

export const query: ContentView = {
  name: 'query',
  prettify(_data, ctx) {
    const q = ctx.http instanceof HTTPRequest ? ctx.http.query.items(true) : [];
    return escapeControl(formatPairs(q));
  },
  priority: (data, ctx) => (data.length === 0 && ctx.http instanceof HTTPRequest && ctx.http.query.size > 0 ? 0.3 : 0),
};

/**
 * Server-Sent Events: one line per event, `event [id]: data`, JSON data compact (multi-line data
 * indented under its event).
 */
export const sse: ContentView = {
  name: 'sse',
  prettify(data) {
    const lines = parseSse(data.toString('utf8')).map((e) => {
      let d = e.data;
      try {
        d = JSON.stringify(JSON.parse(d));
      } catch {
        d = d.replace(/\n/g, '\n    ');
      }
      return `${e.event}${e.id !== undefined ? ` [${e.id}]` : ''}: ${d}`;
    });
    return escapeControl(lines.join('\n'));
  },
  priority: (data, ctx) => (data.length > 0 && ctx.contentType === 'text/event-stream' ? 1 : 0),
};

/** Every view by name; `auto` is resolved by {@link pickView}. */
export const VIEWS: ReadonlyMap<string, ContentView> = new Map(
  [raw, text, hex, json, urlencoded, query, sse].map((v) => [v.name, v]),
);

/** The choices of `dumper_default_contentview`. */
export const VIEW_NAMES: readonly string[] = ['auto', ...VIEWS.keys()];

/** The view `auto` chooses: the highest priority (ties: the first registered). */
export function pickView(data: Buffer, ctx: ViewContext): ContentView {
  let best = raw;
  let bestPriority = -1;
  for (const v of VIEWS.values()) {
    const p = v.priority(data, ctx);
    if (p > bestPriority) {
      best = v;
      bestPriority = p;
    }
  }
  return best;
}

/** A message's body as display text, or why it cannot be shown. */
export interface Prettified {
  readonly text: string;
  /** The view that produced it. */
  readonly view: string;
  /** True if it is an error text (shown in red). */
  readonly error: boolean;
}

/**
 * Prettify a body: HTTP bodies are decoded (Content-Encoding) first; `auto` falls back to `raw`
 * when its choice fails, an explicitly chosen view reports its failure.
 */
export function prettify(content: Buffer | null, http: Message | null, viewName: string): Prettified {
  if (content === null) return { text: 'Content is missing.', view: 'none', error: true };
  let data = content;
  if (http && data.length > 0) data = http.getContent(false) ?? data;
  const ct = http ? parseContentType(http.headers.get('content-type') ?? '') : null;
  const ctx: ViewContext = { contentType: ct ? `${ct[0]}/${ct[1]}`.toLowerCase() : null, http };
  const view = viewName === 'auto' ? pickView(data, ctx) : (VIEWS.get(viewName) ?? raw);
  try {
    return { text: view.prettify(data, ctx), view: view.name, error: false };
  } catch (err) {
    if (viewName === 'auto') return { text: raw.prettify(data, ctx), view: 'raw', error: false };
    return { text: `Couldn't parse as ${view.name}:\n${(err as Error).message}`, view: view.name, error: true };
  }
}
