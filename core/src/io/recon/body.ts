/**
 * Bodies in `mitmts flows` output, as a person or a model wants to read them: JSON as JSON
 * values (not escaped strings), forms as objects, event streams as their events, text as text,
 * and binary content summarised (type, size, sha256) instead of dumped. Every rendering is cut
 * to the per-body byte budget (`--max-body`) with the cut marked, and passes through the
 * redactor.
 */
import { createHash } from 'node:crypto';
import { decodeText } from '../../flow/charset.js';
import { parseContentType } from '../../flow/content-type.js';
import { decodeMultipart } from '../../flow/multipart.js';
import type { Message } from '../../flow/message.js';
import { decodeQuery } from '../../flow/url.js';
import { parseSse } from '../sse.js';
import { fitJson, NO_LIMITS, shrink, type JsonObject, type JsonValue } from './json.js';
import type { Redactor } from './redact.js';

/** How bodies are printed. */
export interface BodyOptions {
  /** Byte budget per body: text is cut to it, structured values shrunk to serialize within it. */
  readonly maxBody: number;
  /** Binary bodies: a summary (default) or the first `maxBody` bytes in base64. */
  readonly binary: 'summary' | 'base64';
  readonly redactor: Redactor;
}

/**
 * A body as printed. `encoding` says what `data` holds: `utf-8` text, `json` (a JSON value),
 * `ndjson` (a list of values), `form` (an object of fields), `multipart` (an object of parts),
 * `sse` (a list of events), `base64`, `binary` (no data: `type`, `sha256`) or `empty`.
 */
export interface BodyJson {
  [key: string]: JsonValue;
  /** Size of the decoded body in bytes (before any cut). */
  size: number;
  encoding: string;
}

/** Largest body parsed as JSON, form or events; larger ones are shown as cut text. */
const PARSE_LIMIT = 16 << 20;

/** Back off to a UTF-8 character boundary so a cut never splits a character. */
function utf8Cut(b: Buffer, max: number): Buffer {
  if (b.length <= max) return b;
  let end = max;
  // Drop continuation bytes, then the lead byte if its sequence did not fit.
  let k = end;
  while (k > 0 && k > end - 4 && (b[k - 1]! & 0xc0) === 0x80) k--;
  if (k > 0 && k > end - 4) {
    const lead = b[k - 1]!;
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (need > 1 && k - 1 + need > end) end = k - 1;
  }
  return b.subarray(0, end);
}

/** Charsets whose text can be cut at any byte (after the UTF-8 boundary fix). */
const CUTTABLE = /^(utf-?8|us-ascii|ascii|iso-8859-1|latin-?1|windows-1252|cp1252)$/i;

/** More than 30% control characters (other than tab, CR, LF) among the first 100: binary. */
function mostlyControl(text: string): boolean {
  const n = Math.min(text.length, 100);
  let ctl = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 9 || (c > 13 && c < 32) || c === 127 || c === 0xfffd) ctl++;
  }
  return n > 0 && ctl / n > 0.3;
}

/** The text of a body (strictly decoded in its charset), or undefined if it is not text. */
function asText(content: Buffer, charset: string): string | undefined {
  try {
    const t = decodeText(content, charset, true);
    return mostlyControl(t) ? undefined : t;
  } catch {
    return undefined;
  }
}

/** Magic numbers of common binary formats, for bodies sent without a useful Content-Type. */
const MAGIC: ReadonlyArray<[prefix: number[], type: string]> = [
  [[0x89, 0x50, 0x4e, 0x47], 'image/png'],
  [[0xff, 0xd8, 0xff], 'image/jpeg'],
  [[0x47, 0x49, 0x46, 0x38], 'image/gif'],
  [[0x25, 0x50, 0x44, 0x46], 'application/pdf'],
  [[0x50, 0x4b, 0x03, 0x04], 'application/zip'],
  [[0x1f, 0x8b], 'application/gzip'],
  [[0x00, 0x61, 0x73, 0x6d], 'application/wasm'],
  [[0x28, 0xb5, 0x2f, 0xfd], 'application/zstd'],
];

function sniff(b: Buffer): string | undefined {
  for (const [p, type] of MAGIC) if (p.every((x, i) => b[i] === x)) return type;
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP')
    return 'image/webp';
  return undefined;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A binary body, summarised (or dumped as base64 when asked). */
function binaryJson(content: Buffer, media: string | undefined, o: BodyOptions): BodyJson {
  const size = content.length;
  if (o.binary === 'base64') {
    const cut = content.subarray(0, o.maxBody);
    return { size, encoding: 'base64', truncated: cut.length < size, data: cut.toString('base64') };
  }
  const sniffed = sniff(content);
  const type = sniffed ?? (media && !media.startsWith('text/') ? media : 'application/octet-stream');
  return { size, encoding: 'binary', type, sha256: sha256(content) };
}

/** Cut text to the byte budget. */
function textJson(content: Buffer, charset: string, o: BodyOptions): BodyJson | undefined {
  const size = content.length;
  if (!CUTTABLE.test(charset)) {
    const text = asText(content, charset);
    if (text === undefined) return undefined;
    const cut = utf8Cut(Buffer.from(text, 'utf8'), o.maxBody);
    return {
      size,
      encoding: 'utf-8',
      truncated: cut.length < Buffer.byteLength(text),
      data: o.redactor.text(cut.toString('utf8')),
    };
  }
  const cut = /^utf-?8$/i.test(charset) ? utf8Cut(content, o.maxBody) : content.subarray(0, o.maxBody);
  const text = asText(cut, charset);
  if (text === undefined) return undefined;
  return { size, encoding: 'utf-8', truncated: cut.length < size, data: o.redactor.text(text) };
}

/**
 * A structured rendering (`data` a JSON value) shrunk to the budget; undefined if it cannot fit.
 * `cut`: the value was already shortened while parsing (nesting past the limit).
 */
function structured(
  size: number,
  encoding: string,
  data: JsonValue,
  o: BodyOptions,
  extra: JsonObject = {},
  cut = false,
): BodyJson | undefined {
  const fit = fitJson(data, o.maxBody);
  if (fit === undefined) return undefined;
  return { size, encoding, ...extra, truncated: cut || fit.cut, data: fit.value };
}

/** First non-blank byte `{` or `[` (checked before decoding a whole body as text). */
function startsLikeJson(b: Buffer): boolean {
  for (let i = 0; i < b.length && i < 64; i++) {
    const c = b[i]!;
    if (c === 0x7b || c === 0x5b) return true;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0xef && c !== 0xbb && c !== 0xbf) return false;
  }
  return false;
}

/**
 * JSON text to a value nested at most {@link NO_LIMITS}' depth, or undefined if it is not JSON.
 * `cuts.n` counts what the depth limit cut.
 */
function parseJson(text: string, cuts?: { n: number }): JsonValue | undefined {
  const t = text.trimStart();
  const c = t.charCodeAt(0);
  // Only objects and arrays: a bare number or string is better shown as text.
  if (c !== 0x7b && c !== 0x5b) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    return undefined;
  }
  return shrink(parsed, NO_LIMITS, 0, 0, cuts);
}

/** Event data that is JSON becomes a value; `[DONE]` and other text stays a string. */
function eventData(data: string, r: Redactor): JsonValue {
  const v = parseJson(data);
  return v === undefined ? r.text(data) : r.json(v);
}

/** Fields of a form (or a query) as an object: repeated names collect into a list. */
export function pairsObject(
  pairs: Iterable<readonly [string, string]>,
  value: (name: string, v: string) => JsonValue,
): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of pairs) {
    const val = value(k, v);
    const prev = out[k];
    if (prev === undefined || !Object.hasOwn(out, k)) out[k] = val;
    else if (Array.isArray(prev)) prev.push(val);
    else out[k] = [prev, val];
  }
  return out;
}

function multipartJson(content: Buffer, contentType: string, o: BodyOptions): BodyJson | undefined {
  const parts = decodeMultipart(contentType, content);
  if (parts.length === 0) return undefined;
  const fields = parts.map(([name, value]): [string, JsonValue] => {
    const n = name.toString('latin1');
    const text = value.length <= o.maxBody ? asText(value, 'utf-8') : undefined;
    return [
      n,
      text !== undefined ? o.redactor.param(n, text) : binaryJson(value, undefined, { ...o, binary: 'summary' }),
    ];
  });
  const out: JsonObject = {};
  for (const [k, v] of fields) out[k] = v;
  return structured(content.length, 'multipart', out, o);
}

/**
 * Print a decoded body for `mitmts flows`. `contentType` is the message's Content-Type header.
 * Falls back from the structured renderings to text to the binary summary.
 */
export function renderBody(content: Buffer, contentType: string | undefined, o: BodyOptions): BodyJson {
  const size = content.length;
  let charset = 'utf-8';
  let media: string | undefined;
  if (contentType) {
    const ct = parseContentType(contentType);
    if (ct) {
      media = `${ct[0]}/${ct[1]}`.toLowerCase();
      const cs = ct[2].get('charset');
      if (typeof cs === 'string' && cs) charset = cs;
    }
  }
  if (size === 0) return { size, encoding: 'empty' };
  if (size <= PARSE_LIMIT && media !== undefined) {
    const r = o.redactor;
    let out: BodyJson | undefined;
    if (media === 'text/event-stream') {
      const text = asText(content, charset);
      if (text !== undefined) {
        const events = parseSse(text).map((e) => {
          const ev: JsonObject = {};
          if (e.event !== 'message') ev.event = e.event;
          if (e.id !== undefined) ev.id = e.id;
          ev.data = eventData(e.data, r);
          return ev;
        });
        out = structured(size, 'sse', events, o, { events: events.length });
      }
    } else if (media === 'application/x-www-form-urlencoded') {
      const text = asText(content, charset);
      if (text !== undefined)
        out = structured(
          size,
          'form',
          pairsObject(decodeQuery(text), (k, v) => r.param(k, v)),
          o,
        );
    } else if (media === 'multipart/form-data') {
      out = multipartJson(content, contentType!, o);
    } else if (/ndjson|jsonl|json-seq/.test(media)) {
      const text = asText(content, charset);
      const values = text
        ?.split(/\r?\n/)
        .filter((l) => l.trim())
        .map((l) => parseJson(l));
      if (values && values.length > 0 && values.every((v) => v !== undefined))
        out = structured(
          size,
          'ndjson',
          values.map((v) => r.json(v!)),
          o,
        );
    }
    if (out !== undefined) return out;
  }
  if (
    size <= PARSE_LIMIT &&
    startsLikeJson(content) &&
    (media === undefined || media.endsWith('json') || media.startsWith('text/'))
  ) {
    const text = asText(content, charset);
    const cuts = { n: 0 };
    const value = text === undefined ? undefined : parseJson(text, cuts);
    if (value !== undefined) {
      const out = structured(size, 'json', o.redactor.json(value), o, {}, cuts.n > 0);
      if (out !== undefined) return out;
    }
  }
  return textJson(content, charset, o) ?? binaryJson(content, media, o);
}

/** Parsed examples of one message's body for `--schema`. */
export interface BodySamples {
  /** The body as a JSON value: parsed JSON, or a form's fields. */
  json?: JsonValue;
  /** An event stream's events: name and data (parsed when JSON, else the text). */
  events?: Array<[event: string, data: JsonValue]>;
}

/** The JSON value (or form, or events) in a message's body, unredacted: shapes keep no values. */
export function bodySamples(m: Message): BodySamples {
  let content: Buffer | null;
  try {
    content = m.getContent(false);
  } catch {
    content = m.rawContent;
  }
  if (content === null || content.length === 0 || content.length > PARSE_LIMIT) return {};
  const ct = m.headers.get('content-type');
  const parsed = ct ? parseContentType(ct) : undefined;
  const media = parsed ? `${parsed[0]}/${parsed[1]}`.toLowerCase() : undefined;
  if (media === 'text/event-stream') {
    const text = asText(content, 'utf-8');
    if (text === undefined) return {};
    return { events: parseSse(text).map((e) => [e.event, parseJson(e.data) ?? e.data]) };
  }
  if (media === 'application/x-www-form-urlencoded') {
    const text = asText(content, 'utf-8');
    return text === undefined ? {} : { json: pairsObject(decodeQuery(text), (_k, v) => v) };
  }
  if (!startsLikeJson(content)) return {};
  const text = asText(content, 'utf-8');
  const json = text === undefined ? undefined : parseJson(text);
  return json === undefined ? {} : { json };
}
