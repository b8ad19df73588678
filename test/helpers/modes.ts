import { join } from 'node:path';
import type { EmbeddedProxy } from '@mitmts/sdk';

/** The CA in test/fixtures (made once): proxies that use it start without generating a key. */
export const FIXTURE_CA_CERT = join(import.meta.dirname, '../fixtures/mitmproxy-ca/mitmproxy-ca-cert.pem');

/** The port of the listener whose mode spec starts with `prefix`. */
export function listenerPort(proxy: EmbeddedProxy, prefix: string): number {
  const a = proxy.addresses.find((x) => x.mode.startsWith(prefix));
  if (!a)
    throw new Error(
      `no listener for a mode starting with ${prefix} (have: ${proxy.addresses.map((x) => x.mode).join(', ')})`,
    );
  return a.port;
}
