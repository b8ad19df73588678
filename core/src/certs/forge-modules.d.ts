// Typed access to single node-forge modules: the leaf path needs only forge's ASN.1 writer,
// and loading all of node-forge (RSA, TLS, PKCS#12, ...) costs ~100 ms and ~10 MiB at start-up.
declare module 'node-forge/lib/asn1.js' {
  import type forge from 'node-forge';
  const asn1: typeof forge.asn1;
  export default asn1;
}
declare module 'node-forge/lib/util.js' {
  import type forge from 'node-forge';
  const util: typeof forge.util;
  export default util;
}
