import { X509Certificate } from 'node:crypto';

/**
 * A parsed X.509 certificate, as flows carry them (`client.certificateList`,
 * `server.certificateList`, `client.mitmcert`). Parsing uses Node's native X509Certificate.
 */
export class Cert {
  readonly x509: X509Certificate;
  private pem?: Buffer;

  constructor(input: X509Certificate | Buffer | string) {
    this.x509 = input instanceof X509Certificate ? input : new X509Certificate(input);
  }

  static fromPem(pem: Buffer | string): Cert {
    const c = new Cert(pem);
    c.pem = Buffer.isBuffer(pem) ? pem : Buffer.from(pem);
    return c;
  }

  static fromDer(der: Buffer): Cert {
    return new Cert(der);
  }

  /** PEM bytes, as stored in flow files. */
  toPem(): Buffer {
    return (this.pem ??= Buffer.from(this.x509.toString()));
  }

  toDer(): Buffer {
    return this.x509.raw;
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

  /** [algorithm, bits] of the public key, e.g. ['RSA', 2048]. */
  get keyinfo(): [string, number] {
    const k = this.x509.publicKey;
    const type = (k.asymmetricKeyType ?? 'unknown').toUpperCase();
    const bits = k.asymmetricKeyDetails?.modulusLength ?? k.asymmetricKeyDetails?.namedCurve?.length ?? 0;
    return [type === 'EC' ? 'EC' : type, bits];
  }

  /** SHA-256 fingerprint as raw bytes. */
  fingerprint(): Buffer {
    return Buffer.from(this.x509.fingerprint256.replace(/:/g, ''), 'hex');
  }

  equals(other: Cert): boolean {
    return this.x509.raw.equals(other.x509.raw);
  }
}

function pairs(dn: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of dn.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out.push([line.slice(0, i), line.slice(i + 1)]);
  }
  return out;
}

function field(dn: string, key: string): string | null {
  for (const [k, v] of pairs(dn)) if (k === key) return v;
  return null;
}
