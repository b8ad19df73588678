import type { Cert } from './cert.js';
import { normalizeName } from './names.js';

/** What the runtime knows about a connection when it needs a certificate for the client. */
export interface NameSelectionInput {
  /** The client's SNI, if it sent one. */
  sni?: string | null;
  /**
   * The host of the CONNECT request (regular mode), used when there is no SNI. The server
   * address usually equals it, so it also ends up in the SANs through `serverAddressHost`.
   */
  connectHost?: string | null;
  /**
   * The local address the client connected to (`client.sockname` host). mitmproxy's fallback
   * when there is no SNI; used when there is neither SNI nor `connectHost`.
   */
  localAddress?: string | null;
  /** The host of the server address, if known (`server.address` host). */
  serverAddressHost?: string | null;
  /** The upstream server's leaf certificate, when `upstream_cert` is on and one was received. */
  upstreamCert?: Cert | null;
  /**
   * The CA's serial number. Needed only to build the CRL URL when the upstream certificate has
   * CRL distribution points (`CertStore.selectNames` fills it in).
   */
  caSerial?: bigint | null;
}

/** The names a generated certificate gets (arguments of `CertStore.getCert`). */
export interface SelectedNames {
  /** Common name: the first SAN (null if there are no names at all). */
  cn: string | null;
  /** De-duplicated, normalized SANs: IP addresses as canonical text, DNS names IDNA-encoded. */
  sans: string[];
  /** The upstream certificate's organization, if copied. */
  organization: string | null;
  /** CRL distribution point for the leaf: same scheme + host as the upstream's, path `/mitmproxy-<CA serial>.crl`. */
  crlUrl: string | null;
}

/**
 * Decide a leaf certificate's names, in mitmproxy's order (tlsconfig `get_cert`):
 * 1. with an upstream certificate: its CN, then all its SANs (its Organization is copied, and a
 *    CRL URL is derived from its first CRL distribution point);
 * 2. the SNI, or without SNI the CONNECT host, or else the local address the client connected to;
 * 3. the server address host.
 * Names are normalized (IP/IDNA), de-duplicated keeping the first occurrence; names that cannot
 * be encoded are dropped. CN = the first SAN.
 */
export function selectNames(input: NameSelectionInput): SelectedNames {
  const sans: string[] = [];
  const add = (raw: string | null | undefined): void => {
    if (raw === null || raw === undefined) return;
    const n = normalizeName(raw);
    if (n !== null && !sans.includes(n)) sans.push(n);
  };
  let organization: string | null = null;
  let crlUrl: string | null = null;

  const up = input.upstreamCert;
  if (up) {
    add(up.cn);
    for (const alt of up.altnames) add(alt);
    organization = up.organization;
    if (input.caSerial !== null && input.caSerial !== undefined) {
      const crl = up.crlDistributionPoints[0];
      if (crl !== undefined) crlUrl = crlUrlFor(crl, input.caSerial);
    }
  }

  if (input.sni) add(input.sni);
  else add(input.connectHost || input.localAddress);
  add(input.serverAddressHost);

  return { cn: sans[0] ?? null, sans, organization, crlUrl };
}

/** The leaf's CRL URL: the upstream CRL's scheme, host and port, path `/mitmproxy-<serial>.crl`. */
export function crlUrlFor(upstreamCrl: string, caSerial: bigint): string | null {
  let u: URL;
  try {
    u = new URL(upstreamCrl);
  } catch {
    return null;
  }
  if (!u.host) return null;
  return `${u.protocol}//${u.host}${crlPath(caSerial)}`;
}

/** The path the proxy answers with an empty CRL: `/mitmproxy-<CA serial, decimal>.crl`. */
export function crlPath(caSerial: bigint): string {
  return `/mitmproxy-${caSerial.toString(10)}.crl`;
}
