/**
 * A minimal DER reader (for slicing pre-encoded parts such as the issuer Name and the public key
 * out of a certificate) and PEM armour helpers. No dependencies, so `Cert` stays light.
 */

/** One TLV: `start`..`end` are the value's bounds; `headerStart` is where the tag byte sits. */
export interface Tlv {
  tag: number;
  headerStart: number;
  start: number;
  end: number;
}

/** Read the TLV at `offset` (single-byte tags, definite lengths: DER). */
export function readTlv(buf: Buffer, offset: number): Tlv {
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error(`unsupported DER length form at offset ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > buf.length) throw new Error(`truncated DER element at offset ${offset}`);
  return { tag, headerStart: offset, start, end };
}

/** The children of a constructed TLV. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let o = parent.start; o < parent.end;) {
    const t = readTlv(buf, o);
    out.push(t);
    o = t.end;
  }
  return out;
}

/** The DER header (tag + length) for a value of `len` bytes. */
export function derHeader(tag: number, len: number): Buffer {
  if (len < 0x80) return Buffer.from([tag, len]);
  if (len < 0x100) return Buffer.from([tag, 0x81, len]);
  if (len < 0x10000) return Buffer.from([tag, 0x82, len >> 8, len & 0xff]);
  return Buffer.from([tag, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff]);
}

/** PEM armour with 64-character lines and `\n` line ends (what OpenSSL and cryptography write). */
export function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64');
  let out = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  return out + `-----END ${label}-----\n`;
}

/** Every PEM block in `text`, in order, with its label and its text (`\n` line ends, ending in `\n`). */
export function pemBlocks(text: string): Array<{ label: string; pem: string }> {
  const out: Array<{ label: string; pem: string }> = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text))
    out.push({ label: m[1]!, pem: m[0].replace(/\r\n?/g, '\n') + '\n' });
  return out;
}
