import type { Cert } from './cert.js';
import { extension, implicitCons, implicitPrim, name, OID, oid, preEncoded, seq, toBuffer, type Asn1 } from './der.js';
import { keyIdentifier } from './ca.js';
import { ipBytes } from './names.js';
import { randomSerial, signTbs, type Signer } from './sign.js';
import { buildTbs } from './tbs.js';

const DAY = 86_400_000;

/** Leaf validity: not-before = now - 2 days, not-after = not-before + 199 days. */
export const LEAF_BACKDATE_DAYS = 2;
export const LEAF_VALIDITY_DAYS = 199;

/** What a generated leaf certificate says. `sans` are already normalized (IP text or A-labels). */
export interface LeafRequest {
  commonName: string | null;
  sans: readonly string[];
  organization: string | null;
  crlUrl: string | null;
}

/**
 * Issues leaf certificates for one CA. Everything that is the same for every leaf (issuer name,
 * the shared leaf public key, signature algorithm, EKU and AKI extensions) is encoded once; a
 * leaf costs one forge TBS encoding plus one native signature by the CA.
 */
export class LeafFactory {
  private readonly issuer: Buffer;
  private readonly publicKey: Buffer;
  private readonly ekuDer: Buffer;
  private readonly akiDer: Buffer;

  /**
   * @param ca the issuing CA
   * @param signer signs with the CA's private key
   * @param leafSpki DER SubjectPublicKeyInfo every leaf carries (see `LeafKey`)
   */
  constructor(
    ca: Cert,
    private readonly signer: Signer,
    leafSpki: Buffer,
  ) {
    const tbs = ca.tbs();
    this.issuer = tbs.subject;
    this.publicKey = leafSpki;
    const keyId = ca.subjectKeyIdentifier ?? keyIdentifier(tbs.publicKey);
    this.ekuDer = toBuffer(extension(OID.extKeyUsage, false, seq([oid(OID.serverAuth)])));
    this.akiDer = toBuffer(extension(OID.authorityKeyIdentifier, false, seq([implicitPrim(0, keyId)])));
  }

  /** Build and sign a leaf; returns its DER. */
  create(req: LeafRequest, now: number = Date.now()): Buffer {
    const cn =
      req.commonName !== null && req.commonName.length > 0 && req.commonName.length < 64 ? req.commonName : null;
    const subjectAttrs: Array<[string, string]> = [];
    if (cn !== null) subjectAttrs.push([OID.commonName, cn]);
    if (req.organization !== null) subjectAttrs.push([OID.organizationName, req.organization]);

    const extensions: Asn1[] = [preEncoded(this.ekuDer)];
    // RFC 5280 4.2.1.6: the SAN extension is critical when the subject is empty.
    if (req.sans.length > 0) extensions.push(extension(OID.subjectAltName, cn === null, generalNames(req.sans)));
    extensions.push(preEncoded(this.akiDer));
    if (req.crlUrl !== null) {
      // CRLDistributionPoints: one DistributionPoint with fullName = the URI.
      const dp = seq([implicitCons(0, [implicitCons(0, [implicitPrim(6, req.crlUrl)])])]);
      extensions.push(extension(OID.crlDistributionPoints, false, seq([dp])));
    }

    const notBefore = now - LEAF_BACKDATE_DAYS * DAY;
    const tbs = buildTbs({
      serial: randomSerial(),
      signatureAlgorithm: this.signer.algorithmDer,
      issuer: this.issuer,
      notBefore: new Date(notBefore),
      notAfter: new Date(notBefore + LEAF_VALIDITY_DAYS * DAY),
      subject: name(subjectAttrs),
      publicKey: this.publicKey,
      extensions,
    });
    return signTbs(tbs, this.signer);
  }
}

/** GeneralNames: iPAddress [7] for IP addresses, dNSName [2] otherwise. */
function generalNames(sans: readonly string[]): Asn1 {
  return seq(
    sans.map((s) => {
      const ip = ipBytes(s);
      return ip !== null ? implicitPrim(7, ip) : implicitPrim(2, s);
    }),
  );
}
