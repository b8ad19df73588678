import { X509Certificate } from 'node:crypto';
import { OID, oidFromDer } from './oid.js';
import { children, readTlv } from './tlv.js';

/**
 * A parsed X.509 certificate, as flows carry them (`client.certificateList`,
 * `server.certificateList`, `client.mitmcert`). Parsing uses Node's native X509Certificate.
 */
export class Cert {
  private parsedX509?: X509Certificate;
  private der?: Buffer;
  private pem?: Buffer;
  private parsed?: ParsedTbs;

  constructor(input: X509Certificate | Buffer | string) {
    this.parsedX509 = input instanceof X509Certificate ? input : new X509Certificate(input);
  }

  static fromPem(pem: Buffer | string): Cert {
    const c = new Cert(pem);
    c.pem = Buffer.isBuffer(pem) ? pem : Buffer.from(pem);
    return c;
  }

  static fromDer(der: Buffer): Cert {
    return new Cert(der);
  }

  /**
   * A Cert over DER bytes that are parsed only when a field is first read (the certificate
   * store creates these for generated leaves, which the handshake needs only as bytes). Invalid
   * DER surfaces on first access.
   */
  static lazyFromDer(der: Buffer, pem?: string): Cert {
    const c = Object.create(Cert.prototype) as Cert;
    c.der = der;
    if (pem !== undefined) c.pem = Buffer.from(pem, 'latin1');
    return c;
  }

  /** The parsed certificate (Node's native X509Certificate). */
  get x509(): X509Certificate {
    return (this.parsedX509 ??= new X509Certificate(this.der!));
  }

  /** PEM bytes, as stored in flow files. */
  toPem(): Buffer {
    return (this.pem ??= Buffer.from(this.x509.toString()));
  }

  toDer(): Buffer {
    return (this.der ??= this.x509.raw);
  }

  /** Common name of the subject, or null. */
  get cn(): string | null {
    return field(this.x509.subject, 'CN');
  }

  get organization(): string | null {
    return field(this.x509.subject, 'O');
  }

  get subject(): Array<[string, string]> {
    return pairs(this.x509.subject);
  }

  get issuer(): Array<[string, string]> {
    return pairs(this.x509.issuer);
  }

  get notbefore(): Date {
    return new Date(this.x509.validFrom);
  }

  get notafter(): Date {
    return new Date(this.x509.validTo);
  }

  get hasExpired(): boolean {
    return Date.now() > this.notafter.getTime();
  }

  get serial(): bigint {
    return BigInt('0x' + this.x509.serialNumber);
  }

  get isCa(): boolean {
    return this.x509.ca;
  }

  /** Subject alternative names: DNS names and IP addresses, in certificate order. */
  get altnames(): string[] {
    const san = this.x509.subjectAltName;
    if (!san) return [];
    const out: string[] = [];
    for (const part of san.split(/,\s*/)) {
      const m = /^(DNS|IP Address):(.*)$/.exec(part);
      if (m) out.push(m[2]!.trim());
    }
    return out;
  }

  /**
   * URIs of the CRL distribution points (full names only), in certificate order; empty if the
   * certificate has none.
   */
  get crlDistributionPoints(): string[] {
    const ext = this.tbs().extensions.get(OID.crlDistributionPoints);
    return ext ? crlUris(ext.value) : [];
  }

  /** The subject key identifier (the extension's key id bytes), or null if absent. */
  get subjectKeyIdentifier(): Buffer | null {
    const ext = this.tbs().extensions.get(OID.subjectKeyIdentifier);
    if (!ext) return null;
    const t = readTlv(ext.value, 0);
    return t.tag === 0x04 ? ext.value.subarray(t.start, t.end) : null;
  }

  /**
   * Raw DER slices of TBS fields: the issuer and subject Names and the SubjectPublicKeyInfo
   * (what an issuing CA copies into the certificates it signs), plus the extensions by OID.
   */
  tbs(): ParsedTbs {
    return (this.parsed ??= parseTbs(this.toDer()));
  }

  /** [algorithm, bits] of the public key, e.g. ['RSA', 2048], ['EC', 256] (the curve's size). */
  get keyinfo(): [string, number] {
    const k = this.x509.publicKey;
    const type = (k.asymmetricKeyType ?? 'unknown').toUpperCase();
    const d = k.asymmetricKeyDetails;
    const bits = d?.modulusLength ?? curveBits(d?.namedCurve) ?? 0;
    return [type, bits];
  }

  /** SHA-256 fingerprint as raw bytes. */
  fingerprint(): Buffer {
    return Buffer.from(this.x509.fingerprint256.replace(/:/g, ''), 'hex');
  }

  equals(other: Cert): boolean {
    return this.toDer().equals(other.toDer());
  }
}

/** Key size of a named curve: the number in its name (prime256v1, secp384r1, secp521r1, ...). */
function curveBits(curve: string | undefined): number | undefined {
  const m = curve === undefined ? null : /(\d{3})/.exec(curve);
  return m ? Number(m[1]) : undefined;
}

// Node gives `undefined` (not '') for an empty Name.
function pairs(dn: string | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!dn) return out;
  for (const line of dn.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out.push([line.slice(0, i), line.slice(i + 1)]);
  }
  return out;
}

function field(dn: string | undefined, key: string): string | null {
  for (const [k, v] of pairs(dn)) if (k === key) return v;
  return null;
}

/** An extension of a parsed certificate: criticality and the DER inside extnValue. */
export interface RawExtension {
  critical: boolean;
  value: Buffer;
}

/** DER slices of a certificate's TBS part. */
export interface ParsedTbs {
  issuer: Buffer;
  subject: Buffer;
  publicKey: Buffer;
  extensions: Map<string, RawExtension>;
}

function parseTbs(der: Buffer): ParsedTbs {
  const tbs = children(der, readTlv(der, 0))[0]!;
  const fields = children(der, tbs);
  // version [0] is optional (v1 certificates): serial, signature, issuer, validity, subject, spki.
  const i = fields[0]!.tag === 0xa0 ? 1 : 0;
  const slice = (n: number): Buffer => der.subarray(fields[i + n]!.headerStart, fields[i + n]!.end);
  const extensions = new Map<string, RawExtension>();
  const extWrap = fields.find((f) => f.tag === 0xa3);
  if (extWrap) {
    for (const ext of children(der, children(der, extWrap)[0]!)) {
      const parts = children(der, ext);
      const id = oidFromDer(der.subarray(parts[0]!.start, parts[0]!.end));
      const critical = parts.length === 3 && der[parts[1]!.start] !== 0;
      const octet = parts[parts.length - 1]!;
      extensions.set(id, { critical, value: der.subarray(octet.start, octet.end) });
    }
  }
  return { issuer: slice(2), subject: slice(4), publicKey: slice(5), extensions };
}

/** URIs from CRLDistributionPoints: DistributionPoint [0] -> fullName [0] -> URI [6]. */
function crlUris(value: Buffer): string[] {
  const out: string[] = [];
  for (const dp of children(value, readTlv(value, 0))) {
    for (const dpField of children(value, dp)) {
      if (dpField.tag !== 0xa0) continue;
      for (const dpName of children(value, dpField)) {
        if (dpName.tag !== 0xa0) continue;
        for (const gn of children(value, dpName)) {
          if (gn.tag === 0x86) out.push(value.toString('latin1', gn.start, gn.end));
        }
      }
    }
  }
  return out;
}
