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

/** Decode the value bytes of a DER OBJECT IDENTIFIER into dotted form (`2.5.29.17`). */
export function oidFromDer(b: Uint8Array): string {
  const subs: number[] = [];
  let acc = 0;
  for (let i = 0; i < b.length; i++) {
    acc = acc * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      subs.push(acc);
      acc = 0;
    }
  }
  if (subs.length === 0) return '';
  const first = subs[0]!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return head.concat(subs.slice(1)).join('.');
}
