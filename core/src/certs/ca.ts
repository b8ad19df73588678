/// <reference path="./forge-modules.d.ts" />
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import asn1 from 'node-forge/lib/asn1.js';
import { bool, children, extension, name, octets, OID, oid, readTlv, seq, type Asn1 } from './der.js';
import { randomSerial, signerFor, signTbs } from './sign.js';
import { buildTbs } from './tbs.js';

const DAY = 86_400_000;

/** CA validity: from now - 2 days until now + 10 * 365 days (as mitmproxy). */
export const CA_BACKDATE_DAYS = 2;
export const CA_EXPIRY_DAYS = 10 * 365;

export interface NewCa {
  key: KeyObject;
  /** DER of the self-signed CA certificate. */
  certDer: Buffer;
}

export interface NewCaOptions {
  keySize: number;
  commonName: string;
  organization: string;
  now?: Date;
}

/**
 * Create a CA like mitmproxy's: RSA key (native key generation; e = 65537), subject = issuer =
 * CN + O, random serial, BasicConstraints CA (critical), EKU serverAuth, KeyUsage keyCertSign +
 * cRLSign (critical), SubjectKeyIdentifier; signed with SHA-256.
 */
export function createCa(opts: NewCaOptions): NewCa {
  const { privateKey: key, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: opts.keySize,
    publicExponent: 65537,
  });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const now = (opts.now ?? new Date()).getTime();
  const subject = name([
    [OID.commonName, opts.commonName],
    [OID.organizationName, opts.organization],
  ]);
  const signer = signerFor(key);
  const tbs = buildTbs({
    serial: randomSerial(),
    signatureAlgorithm: signer.algorithmDer,
    issuer: subject,
    notBefore: new Date(now - CA_BACKDATE_DAYS * DAY),
    notAfter: new Date(now + CA_EXPIRY_DAYS * DAY),
    subject,
    publicKey: spki,
    extensions: [
      extension(OID.basicConstraints, true, seq([bool(true)])),
      extension(OID.extKeyUsage, false, seq([oid(OID.serverAuth)])),
      extension(OID.keyUsage, true, keyCertSignCrlSign()),
      extension(OID.subjectKeyIdentifier, false, octets(keyIdentifier(spki))),
    ],
  });
  return { key, certDer: signTbs(tbs, signer) };
}

/**
 * The RFC 5280 4.2.1.2 method-1 key identifier: SHA-1 of the subjectPublicKey BIT STRING's
 * bytes (without the unused-bits octet) of a DER SubjectPublicKeyInfo.
 */
export function keyIdentifier(spki: Buffer): Buffer {
  const bitString = children(spki, readTlv(spki, 0))[1]!;
  return createHash('sha1')
    .update(spki.subarray(bitString.start + 1, bitString.end))
    .digest();
}

/** KeyUsage BIT STRING with keyCertSign (bit 5) and cRLSign (bit 6): one unused bit, 0x06. */
function keyCertSignCrlSign(): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\x01\x06');
}
