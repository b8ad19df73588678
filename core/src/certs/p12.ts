/**
 * A PKCS#12 file (no password, unencrypted bags, SHA-1 MAC over the empty password) holding
 * `certPem` and, if given, the RSA private key `keyPem`, both with friendlyName `friendlyName`.
 * This is the layout of mitmproxy's `-ca.p12` (key + cert) and `-ca-cert.p12` (cert only) files.
 */
export async function toPkcs12(certPem: string, keyPem: string | null, friendlyName: string): Promise<Buffer> {
  // All of node-forge is loaded only here (a new CA on first run), not at every start-up.
  const { default: forge } = await import('node-forge');
  const cert = forge.pki.certificateFromPem(certPem);
  const key = keyPem === null ? null : forge.pki.privateKeyFromPem(keyPem);
  const asn = forge.pkcs12.toPkcs12Asn1(key, cert, null, { friendlyName, generateLocalKeyId: key !== null });
  return Buffer.from(forge.asn1.toDer(asn).getBytes(), 'latin1');
}
