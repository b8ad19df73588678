import forge from 'node-forge';

/**
 * ASN.1 building blocks on top of node-forge's `asn1` module, plus a minimal TLV reader for
 * slicing pre-encoded parts (issuer name, public key) out of an existing certificate.
 *
 * forge works on "binary strings" (one char per byte); `toBuffer` / `fromBuffer` convert.
 */

const asn1 = forge.asn1;
const { Class, Type } = asn1;
export type Asn1 = forge.asn1.Asn1;

/** Object identifiers used by the certificate builders. */
export const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  crlDistributionPoints: '2.5.29.31',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ed25519: '1.3.101.112',
} as const;

const oidCache = new Map<string, string>();

export function oid(id: string): Asn1 {
  let der = oidCache.get(id);
  if (der === undefined) {
    der = asn1.oidToDer(id).getBytes();
    oidCache.set(id, der);
  }
  return asn1.create(Class.UNIVERSAL, Type.OID, false, der);
}

export function seq(children: Asn1[]): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, children);
}

export function set(children: Asn1[]): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.SET, true, children);
}

export function nul(): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.NULL, false, '');
}

export function bool(v: boolean): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.BOOLEAN, false, v ? '\xff' : '\x00');
}

/** A non-negative INTEGER from its big-endian magnitude (a leading 0x00 is added when needed). */
export function uint(bytes: Buffer | number): Asn1 {
  if (typeof bytes === 'number') return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, asn1.integerToDer(bytes).getBytes());
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const mag = bytes.subarray(i);
  const body = mag[0]! & 0x80 ? '\x00' + mag.toString('latin1') : mag.toString('latin1');
  return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, body);
}

export function utf8(s: string): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.UTF8, false, forge.util.encodeUtf8(s));
}

export function ia5(s: string): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.IA5STRING, false, s);
}

export function octets(bytes: Buffer | Asn1): Asn1 {
  const body = Buffer.isBuffer(bytes) ? bytes.toString('latin1') : asn1.toDer(bytes).getBytes();
  return asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, body);
}

/** A BIT STRING holding whole bytes (no unused bits). */
export function bits(bytes: Buffer | Asn1): Asn1 {
  const body = Buffer.isBuffer(bytes) ? bytes.toString('latin1') : asn1.toDer(bytes).getBytes();
  return asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, '\x00' + body);
}

/** `[n] EXPLICIT` around one element. */
export function explicit(n: number, child: Asn1): Asn1 {
  return asn1.create(Class.CONTEXT_SPECIFIC, n, true, [child]);
}

/** `[n] IMPLICIT` primitive (e.g. GeneralName dNSName [2], iPAddress [7], keyIdentifier [0]). */
export function implicitPrim(n: number, bytes: string | Buffer): Asn1 {
  const body = typeof bytes === 'string' ? bytes : bytes.toString('latin1');
  return asn1.create(Class.CONTEXT_SPECIFIC, n, false, body);
}

/** `[n] IMPLICIT` constructed (e.g. DistributionPointName fullName [0]). */
export function implicitCons(n: number, children: Asn1[]): Asn1 {
  return asn1.create(Class.CONTEXT_SPECIFIC, n, true, children);
}

/** X.509 Time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
export function time(d: Date): Asn1 {
  const y = d.getUTCFullYear();
  if (y >= 1950 && y < 2050) return asn1.create(Class.UNIVERSAL, Type.UTCTIME, false, asn1.dateToUtcTime(d));
  return asn1.create(Class.UNIVERSAL, Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));
}

/** A Name from (OID, value) pairs, one attribute per RDN, values as UTF8String. */
export function name(attrs: ReadonlyArray<readonly [string, string]>): Asn1 {
  return seq(attrs.map(([id, value]) => set([seq([oid(id), utf8(value)])])));
}

/** An Extension: `SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING }`. */
export function extension(id: string, critical: boolean, value: Asn1 | Buffer): Asn1 {
  const parts = [oid(id)];
  if (critical) parts.push(bool(true));
  parts.push(octets(value));
  return seq(parts);
}

/**
 * Embed an already DER-encoded element (single-byte tag) so that forge re-emits it verbatim
 * without re-parsing it: forge writes `tagClass | type` as the tag byte, then length and value.
 */
export function preEncoded(der: Buffer): Asn1 {
  const t = readTlv(der, 0);
  const tag = der[0]!;
  return asn1.create((tag & 0xc0) as forge.asn1.Class, (tag & 0x3f) as forge.asn1.Type, false, der.subarray(t.start, t.end).toString('latin1'));
}

export function toBuffer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'latin1');
}

export function fromBuffer(der: Buffer): Asn1 {
  return asn1.fromDer(der.toString('latin1'));
}

/** Decode an OID node's value to its dotted form. */
export function oidOf(node: Asn1): string {
  return asn1.derToOid(node.value as string);
}

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
  for (let o = parent.start; o < parent.end; ) {
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
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push({ label: m[1]!, pem: m[0].replace(/\r\n?/g, '\n') + '\n' });
  return out;
}
