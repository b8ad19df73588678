import { randomBytes } from 'node:crypto';
import { parseContentType } from './content-type.js';
import { quote } from './url.js';

/** A fresh multipart boundary like mitmproxy's: 20 dashes and 32 hex digits. */
export function makeBoundary(): string {
  return '-'.repeat(20) + randomBytes(16).toString('hex');
}

function boundaryOf(contentType: string | undefined | null): string | null {
  if (!contentType) return null;
  const ct = parseContentType(contentType);
  if (!ct) return null;
  let b = ct[2].get('boundary');
  if (b === undefined || !/^[\x00-\x7f]*$/.test(b)) return null;
  if (b.length >= 2 && b.startsWith('"') && b.endsWith('"')) b = b.slice(1, -1);
  return b;
}

const NAME = /\bname="([^"]+)"/;

/**
 * Parse a multipart/form-data body into `[name, value]` byte pairs. Parts without a
 * `name="..."` in their Content-Disposition are skipped; an unusable content type gives `[]`.
 */
export function decodeMultipart(
  contentType: string | undefined | null,
  content: Buffer | null,
): Array<[Buffer, Buffer]> {
  const boundary = boundaryOf(contentType);
  if (boundary === null || content === null) return [];
  const delim = Buffer.from('--' + boundary, 'latin1');
  const out: Array<[Buffer, Buffer]> = [];
  let pos = content.indexOf(delim);
  while (pos !== -1) {
    let start = pos + delim.length;
    if (content[start] === 0x2d && content[start + 1] === 0x2d) break; // closing delimiter
    const next = content.indexOf(delim, start);
    if (next === -1) break;
    // The part runs from after the delimiter line to the CRLF (or LF) before the next delimiter.
    if (content[start] === 0x0d && content[start + 1] === 0x0a) start += 2;
    else if (content[start] === 0x0a) start += 1;
    let end = next;
    if (content[end - 1] === 0x0a) end -= 1;
    if (content[end - 1] === 0x0d) end -= 1;
    const part = content.subarray(start, Math.max(start, end));
    let sep = part.indexOf('\r\n\r\n');
    let sepLen = 4;
    if (sep === -1) {
      sep = part.indexOf('\n\n');
      sepLen = 2;
    }
    if (sep !== -1) {
      const head = part.subarray(0, sep).toString('latin1');
      const m = NAME.exec(head);
      if (m) out.push([Buffer.from(m[1]!, 'latin1'), Buffer.from(part.subarray(sep + sepLen))]);
    }
    pos = next;
  }
  return out;
}

/**
 * Build a multipart/form-data body for the boundary in `contentType`. Each part carries a
 * Content-Disposition with its name and, as mitmproxy writes it, `Content-Type: text/plain;
 * charset=utf-8`. @throws Error if a value contains the boundary line.
 */
export function encodeMultipart(
  contentType: string | undefined | null,
  parts: Iterable<readonly [Buffer | string, Buffer | string]>,
): Buffer {
  const raw = boundaryOf(contentType);
  if (raw === null) return Buffer.alloc(0);
  const boundary = quote(raw);
  const delim = Buffer.from('--' + boundary, 'latin1');
  const chunks: Buffer[] = [];
  for (const [k, v] of parts) {
    const key = typeof k === 'string' ? Buffer.from(k, 'utf8') : k;
    const value = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    if (!key.length) continue;
    for (let i = value.indexOf(delim); i !== -1; i = value.indexOf(delim, i + 1)) {
      const atLineStart = i === 0 || value[i - 1] === 0x0a;
      const after = value[i + delim.length];
      if (atLineStart && (after === undefined || after === 0x0a || after === 0x0d)) {
        throw new Error(`Multipart value for '${key.toString('latin1')}' contains the boundary '${boundary}'.`);
      }
    }
    chunks.push(
      delim,
      Buffer.from('\r\nContent-Disposition: form-data; name="', 'latin1'),
      key,
      Buffer.from('"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n', 'latin1'),
      value,
      Buffer.from('\r\n', 'latin1'),
    );
  }
  chunks.push(delim, Buffer.from('--\r\n', 'latin1'));
  return Buffer.concat(chunks);
}
