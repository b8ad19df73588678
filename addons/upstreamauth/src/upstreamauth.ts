import { addon, option, OptionsError, parseMode, type AddonHooks, type Client, type HTTPFlow } from '@mitmts/sdk';

/** `user:pass` -> the value of a Basic authorization header; null turns the addon off. */
export function parseUpstreamAuth(spec: string | null): string | null {
  if (!spec) return null;
  if (spec.split(':').length !== 2) {
    throw new OptionsError(
      `Invalid upstream auth specification: ${JSON.stringify(spec)} (expected username:password, one colon).`,
    );
  }
  return `Basic ${Buffer.from(spec, 'utf8').toString('base64')}`;
}

/** Mode spec -> its type (few distinct specs: parsed once each). */
const modeTypes = new Map<string, string>();

function modeType(client: Client): string {
  let t = modeTypes.get(client.proxyMode);
  if (t === undefined) {
    try {
      t = parseMode(client.proxyMode).type;
    } catch {
      t = 'regular';
    }
    modeTypes.set(client.proxyMode, t);
  }
  return t;
}

/**
 * Credentials for the proxy or server mitmts forwards to (mitmproxy's `upstream_auth`): in
 * upstream mode, `Proxy-Authorization: Basic ...` on every CONNECT sent to the upstream proxy and
 * on plain HTTP requests (which go to it in absolute form); in reverse mode, `Authorization` on
 * every request to the target.
 */
@addon({ name: 'upstreamauth', description: 'Add credentials for upstream proxies and reverse-proxy targets.' })
export class UpstreamAuth implements AddonHooks {
  @option({
    type: 'str?',
    default: null,
    help: 'Add HTTP Basic authentication to upstream proxy and reverse proxy requests. Format: username:password.',
  })
  upstream_auth!: string | null;

  private auth: string | null = null;

  configure(updated: ReadonlySet<string>): void {
    if (updated.has('upstream_auth')) this.auth = parseUpstreamAuth(this.upstream_auth);
  }

  http_connect_upstream(flow: HTTPFlow): void {
    if (this.auth) flow.request.headers.set('Proxy-Authorization', this.auth);
  }

  requestheaders(flow: HTTPFlow): void {
    const auth = this.auth;
    if (!auth) return;
    const mode = modeType(flow.clientConn);
    if (mode === 'upstream' && flow.request.scheme === 'http') flow.request.headers.set('Proxy-Authorization', auth);
    else if (mode === 'reverse') flow.request.headers.set('Authorization', auth);
  }
}
