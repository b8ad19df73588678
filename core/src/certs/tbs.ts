import { explicit, preEncoded, seq, time, toBuffer, uint, type Asn1 } from './der.js';

/** The parts of an X.509 v3 TBSCertificate (RFC 5280 4.1). */
export interface TbsParts {
  serial: Buffer;
  /** DER AlgorithmIdentifier of the issuer's signature. */
  signatureAlgorithm: Buffer;
  /** DER Name of the issuer (copied byte for byte from the CA's subject). */
  issuer: Buffer | Asn1;
  notBefore: Date;
  notAfter: Date;
  subject: Buffer | Asn1;
  /** DER SubjectPublicKeyInfo. */
  publicKey: Buffer;
  extensions: Asn1[];
}

/** Encode a v3 TBSCertificate with node-forge's ASN.1 writer. */
export function buildTbs(p: TbsParts): Buffer {
  const parts: Asn1[] = [
    explicit(0, uint(2)),
    uint(p.serial),
    preEncoded(p.signatureAlgorithm),
    Buffer.isBuffer(p.issuer) ? preEncoded(p.issuer) : p.issuer,
    seq([time(p.notBefore), time(p.notAfter)]),
    Buffer.isBuffer(p.subject) ? preEncoded(p.subject) : p.subject,
    preEncoded(p.publicKey),
  ];
  if (p.extensions.length > 0) parts.push(explicit(3, seq(p.extensions)));
  return toBuffer(seq(parts));
}
