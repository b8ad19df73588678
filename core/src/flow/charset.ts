import { TextDecoder } from 'node:util';
/**
 * Text codecs by (Python-style) charset name, for `Message.text`. Latin-1 is the real ISO-8859-1
 * (WHATWG's TextDecoder would treat it as windows-1252), ASCII is strict 7-bit, UTF-32 is decoded
 * by hand; other names go to the platform's TextDecoder (full ICU). Encoding supports the UTF
 * family, latin-1 and ASCII; other charsets raise, and `Message.setText` falls back to UTF-8.
 */

/** Raised when text cannot be decoded or encoded with a charset. */
export class CharsetError extends Error {
  readonly code = 'MITMTS_ERR_CHARSET';
  constructor(message: string) {
    super(message);
    this.name = 'CharsetError';
  }
}

function norm(name: string): string {
  return name.trim().toLowerCase().replace(/_/g, '-');
}

const LATIN1 = new Set([
  'latin-1',
  'latin1',
  'iso-8859-1',
  'iso8859-1',
  'iso-8859-1:1987',
  '8859',
  'cp819',
  'l1',
  'iso-ir-100',
  'csisolatin1',
  'latin',
]);
const ASCII = new Set(['ascii', 'us-ascii', '646', 'ansi-x3.4-1968', 'us']);
const UTF8 = new Set(['utf-8', 'utf8', 'u8', 'utf', 'cp65001', 'unicode-1-1-utf-8']);

function decodeUtf32(buf: Buffer, little: boolean, strict: boolean): string {
  if (buf.length % 4 !== 0 && strict) throw new CharsetError(`truncated UTF-32 data (${buf.length} bytes)`);
  let out = '';
  for (let i = 0; i + 4 <= buf.length; i += 4) {
    const cp = little ? buf.readUInt32LE(i) : buf.readUInt32BE(i);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      if (strict) throw new CharsetError(`invalid UTF-32 code point 0x${cp.toString(16)} at byte ${i}`);
      out += '\ufffd';
    } else out += String.fromCodePoint(cp);
  }
  return out;
}

function encodeUtf32(s: string, little: boolean, bom: boolean): Buffer {
  const cps = Array.from(s, (c) => c.codePointAt(0)!);
  const buf = Buffer.alloc((cps.length + (bom ? 1 : 0)) * 4);
  let o = 0;
  if (bom) {
    if (little) buf.writeUInt32LE(0xfeff, 0);
    else buf.writeUInt32BE(0xfeff, 0);
    o = 4;
  }
  for (const cp of cps) {
    if (little) buf.writeUInt32LE(cp, o);
    else buf.writeUInt32BE(cp, o);
    o += 4;
  }
  return buf;
}

const decoderCache = new Map<string, TextDecoder>();

function platformDecoder(label: string, strict: boolean, ignoreBOM: boolean): TextDecoder {
  const key = `${label}|${strict}|${ignoreBOM}`;
  let d = decoderCache.get(key);
  if (!d) {
    try {
      d = new TextDecoder(label, { fatal: strict, ignoreBOM });
    } catch {
      throw new CharsetError(`unknown encoding: ${label}`);
    }
    decoderCache.set(key, d);
  }
  return d;
}

/**
 * Decode bytes with a charset. `strict` raises on invalid input; otherwise invalid sequences
 * become U+FFFD.
 */
export function decodeText(buf: Buffer, charset: string, strict = true): string {
  const c = norm(charset);
  if (LATIN1.has(c)) return buf.toString('latin1');
  if (ASCII.has(c)) {
    if (strict) {
      const i = buf.findIndex((b) => b >= 0x80);
      if (i !== -1)
        throw new CharsetError(`'ascii' codec can't decode byte 0x${buf[i]!.toString(16)} in position ${i}`);
      return buf.toString('latin1');
    }
    return buf.toString('latin1').replace(/[\x80-\xff]/g, '\ufffd');
  }
  try {
    if (UTF8.has(c)) return platformDecoder('utf-8', strict, true).decode(buf);
    if (c === 'utf-8-sig' || c === 'utf8-sig') return platformDecoder('utf-8', strict, false).decode(buf);
    if (c === 'utf-16' || c === 'utf16') {
      if (buf[0] === 0xfe && buf[1] === 0xff) return platformDecoder('utf-16be', strict, false).decode(buf);
      return platformDecoder('utf-16le', strict, false).decode(buf);
    }
    if (c === 'utf-16le' || c === 'utf-16-le') return platformDecoder('utf-16le', strict, true).decode(buf);
    if (c === 'utf-16be' || c === 'utf-16-be') return platformDecoder('utf-16be', strict, true).decode(buf);
    if (c === 'utf-32' || c === 'utf32') {
      if (buf[0] === 0 && buf[1] === 0 && buf[2] === 0xfe && buf[3] === 0xff)
        return decodeUtf32(buf.subarray(4), false, strict);
      if (buf[0] === 0xff && buf[1] === 0xfe && buf[2] === 0 && buf[3] === 0)
        return decodeUtf32(buf.subarray(4), true, strict);
      return decodeUtf32(buf, true, strict);
    }
    if (c === 'utf-32le' || c === 'utf-32-le') return decodeUtf32(buf, true, strict);
    if (c === 'utf-32be' || c === 'utf-32-be') return decodeUtf32(buf, false, strict);
    return platformDecoder(c, strict, true).decode(buf);
  } catch (err) {
    if (err instanceof CharsetError) throw err;
    throw new CharsetError(`'${charset}' codec can't decode ${buf.length} bytes: ${(err as Error).message}`);
  }
}

/** Encode text with a charset. @throws CharsetError if the charset or a character is unsupported. */
export function encodeText(s: string, charset: string): Buffer {
  const c = norm(charset);
  if (UTF8.has(c)) return Buffer.from(s, 'utf8');
  if (c === 'utf-8-sig' || c === 'utf8-sig')
    return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s, 'utf8')]);
  if (LATIN1.has(c) || ASCII.has(c)) {
    const max = LATIN1.has(c) ? 0xff : 0x7f;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) > max) {
        throw new CharsetError(
          `'${charset}' codec can't encode character U+${s.charCodeAt(i).toString(16).padStart(4, '0')} in position ${i}`,
        );
      }
    }
    return Buffer.from(s, 'latin1');
  }
  if (c === 'utf-16' || c === 'utf16') return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
  if (c === 'utf-16le' || c === 'utf-16-le') return Buffer.from(s, 'utf16le');
  if (c === 'utf-16be' || c === 'utf-16-be') return Buffer.from(s, 'utf16le').swap16();
  if (c === 'utf-32' || c === 'utf32') return encodeUtf32(s, true, true);
  if (c === 'utf-32le' || c === 'utf-32-le') return encodeUtf32(s, true, false);
  if (c === 'utf-32be' || c === 'utf-32-be') return encodeUtf32(s, false, false);
  throw new CharsetError(
    `cannot encode text as '${charset}': only UTF-8/16/32, latin-1 and ASCII are supported for writing`,
  );
}
