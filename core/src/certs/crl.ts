import type { Cert } from './cert.js';
import { keyIdentifier } from './ca.js';
import { explicit, extension, implicitPrim, OID, preEncoded, seq, time, toBuffer, uint } from './der.js';
import { signTbs, type Signer } from './sign.js';

const DAY = 86_400_000;

/** Validity of the empty CRL served at the leaf certificates' CRL distribution point. */
export const CRL_VALIDITY_DAYS = 7;

/**
 * An empty X.509 v2 CRL issued by the CA (DER): thisUpdate = now, nextUpdate = now + 7 days,
 * with AuthorityKeyIdentifier and CRLNumber 1. Served as `application/pkix-crl` for requests to
 * `crlPath(ca.serial)`.
 */
export function createEmptyCrl(ca: Cert, signer: Signer, now: number = Date.now()): Buffer {
  const tbs = ca.tbs();
  const keyId = ca.subjectKeyIdentifier ?? keyIdentifier(tbs.publicKey);
  const tbsList = seq([
    uint(1),
    preEncoded(signer.algorithmDer),
    preEncoded(tbs.subject),
    time(new Date(now)),
    time(new Date(now + CRL_VALIDITY_DAYS * DAY)),
    explicit(
      0,
      seq([
        extension(OID.authorityKeyIdentifier, false, seq([implicitPrim(0, keyId)])),
        extension(OID.crlNumber, false, uint(1)),
      ]),
    ),
  ]);
  return signTbs(toBuffer(tbsList), signer);
}
