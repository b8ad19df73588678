import { addon, type HTTPFlow, option } from '@mitmts/sdk';
import { rewriteAltSvc } from './altsvc.js';

/**
 * Keeps clients on the proxy when servers advertise alternative services (mitmproxy's
 * `update_alt_svc`): in every mode, HTTP/3 (`h3`, `h3-*`) and QUIC alternatives are removed,
 * since mitmts does not carry HTTP/3 and a client that switched to it would bypass the proxy;
 * in reverse mode the remaining alternatives point at the proxy's own port, as in mitmproxy.
 */
@addon({ name: 'updatealtsvc', description: 'Strip HTTP/3 from Alt-Svc; point it at the proxy in reverse mode.' })
export class UpdateAltSvc {
  @option({
    type: 'bool',
    default: false,
    help: 'Reverse Proxy: Keep Alt-Svc headers as-is, even if they do not point to mitmproxy. Enabling this option may cause clients to bypass the proxy.',
  })
  keep_alt_svc_header!: boolean;

  responseheaders(f: HTTPFlow): void {
    const headers = f.response?.headers;
    if (!headers || this.keep_alt_svc_header || !headers.has('alt-svc')) return;
    const port = f.clientConn.proxyMode.startsWith('reverse:') ? (f.clientConn.sockname?.[1] ?? null) : null;
    const values = headers.getAll('alt-svc');
    const rewritten = values.map((v) => rewriteAltSvc(v, port)).filter((v): v is string => v !== null);
    if (rewritten.length === values.length && rewritten.every((v, i) => v === values[i])) return;
    if (rewritten.length === 0) headers.delete('alt-svc');
    else headers.setAll('alt-svc', rewritten);
  }
}
