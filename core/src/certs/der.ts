/// <reference path="./forge-modules.d.ts" />
import type forge from 'node-forge';
import asn1 from 'node-forge/lib/asn1.js';
import util from 'node-forge/lib/util.js';
import { readTlv } from './tlv.js';

export { OID } from './oid.js';
export { children, derHeader, pemBlocks, readTlv, toPem, type Tlv } from './tlv.js';

/**
 * ASN.1 building blocks on top of node-forge's `asn1` module. forge works on "binary strings"
 * (one char per byte); `toBuffer` converts its output.
 */

const { Class, Type } = asn1;
export type Asn1 = forge.asn1.Asn1;

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
  if (typeof bytes === 'number')
    return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, asn1.integerToDer(bytes).getBytes());
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const mag = bytes.subarray(i);
  const body = mag[0]! & 0x80 ? '\x00' + mag.toString('latin1') : mag.toString('latin1');
  return asn1.create(Class.UNIVERSAL, Type.INTEGER, false, body);
}

export function utf8(s: string): Asn1 {
  return asn1.create(Class.UNIVERSAL, Type.UTF8, false, util.encodeUtf8(s));
}

export function octets(bytes: Buffer | Asn1): Asn1 {
  const body = Buffer.isBuffer(bytes) ? bytes.toString('latin1') : asn1.toDer(bytes).getBytes();
  return asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, body);
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
  return asn1.create(
    (tag & 0xc0) as forge.asn1.Class,
    (tag & 0x3f) as forge.asn1.Type,
    false,
    der.subarray(t.start, t.end).toString('latin1'),
  );
}

export function toBuffer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'latin1');
}
