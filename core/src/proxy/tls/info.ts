import type { TlsVersionName } from '../../flow/state.js';

/** mitmproxy's name for Node's negotiated protocol string. */
export function tlsVersionName(protocol: string | null): TlsVersionName | null {
  switch (protocol) {
    case 'TLSv1.3':
    case 'TLSv1.2':
    case 'TLSv1.1':
    case 'TLSv1':
    case 'SSLv3':
      return protocol;
    default:
      return null;
  }
}
