import {
  addon,
  type AddonHooks,
  type Client,
  type HTTPFlow,
  option,
  OptionsError,
  parseMode,
  HTTPResponse,
  RESPONSES,
  type Socks5AuthData,
} from '@mitmts/sdk';
import { htpasswdValidator, type Validator } from './htpasswd.js';

const REALM = 'mitmproxy';

/** Remembered validations (header value -> credentials) kept at most, so bcrypt runs once per login. */
const CACHE_SIZE = 1000;

/** The validator for a `proxyauth` value; null turns authentication off. */
export function parseProxyAuth(spec: string | null): Validator | null {
  if (!spec) return null;
  if (spec === 'any') return () => true;
  if (spec.startsWith('@')) return htpasswdValidator(spec.slice(1));
  if (spec.startsWith('ldap')) {
    throw new OptionsError(
      'Invalid proxyauth specification: LDAP authentication is not supported by mitmts; use user:pass, any or @path-to-htpasswd.',
    );
  }
  if (spec.includes(':')) {
    const parts = spec.split(':');
    if (parts.length !== 2)
      throw new OptionsError(
        `Invalid single-user auth specification ${JSON.stringify(spec)}: expected user:pass (one colon).`,
      );
    const [user, pass] = parts as [string, string];
    return (u, p) => u === user && p === pass;
  }
  throw new OptionsError(
    `Invalid proxyauth specification ${JSON.stringify(spec)}: expected user:pass, any, @path-to-htpasswd or ldap[s]:...`,
  );
}

/** `Basic base64(user:pass)` -> [user, pass], or null. The password may contain colons (RFC 7617). */
export function parseBasicAuth(value: string): [string, string] | null {
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 2 || parts[0]!.toLowerCase() !== 'basic') return null;
  const decoded = Buffer.from(parts[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/** Mode spec -> whether it is an HTTP proxy mode (few distinct specs: parsed once each). */
const proxyModes = new Map<string, boolean>();

/** Regular and upstream proxies use Proxy-Authorization and 407; other modes act as a server (401). */
function isHttpProxy(client: Client): boolean {
  let is = proxyModes.get(client.proxyMode);
  if (is === undefined) {
    let type: string;
    try {
      type = parseMode(client.proxyMode).type;
    } catch {
      type = 'regular';
    }
    is = type === 'regular' || type === 'upstream';
    proxyModes.set(client.proxyMode, is);
  }
  return is;
}

/** The answer to a request without valid credentials. */
export function authRequired(isProxy: boolean): HTTPResponse {
  const status = isProxy ? 407 : 401;
  const reason = RESPONSES[status]!;
  return HTTPResponse.make(
    status,
    `<html><head><title>${status} ${reason}</title></head><body><h1>${status} ${reason}</h1></body></html>`,
    {
      [isProxy ? 'Proxy-Authenticate' : 'WWW-Authenticate']: `Basic realm="${REALM}"`,
      'Content-Type': 'text/html',
    },
  );
}

/**
 * Require HTTP Basic proxy authentication (mitmproxy's `proxyauth`): every request needs a valid
 * `Proxy-Authorization` (401/`Authorization` in server-like modes), else it is answered 407 and
 * never reaches the server. The header is removed before the request goes on; the credentials
 * are in `flow.metadata.proxyauth`. A CONNECT that authenticates covers the requests inside its
 * tunnel.
 */
@addon({ name: 'proxyauth', description: 'Require proxy authentication.' })
export class ProxyAuth implements AddonHooks {
  @option({
    type: 'str?',
    default: null,
    help:
      'Require proxy authentication. Format: "username:pass", "any" to accept any user/pass combination, ' +
      '"@path" to use an Apache htpasswd file (bcrypt, Apache MD5 or SHA1 hashes).',
  })
  proxyauth!: string | null;

  private validator: Validator | null = null;
  /** Clients whose CONNECT authenticated: the requests in their tunnel need no header. */
  private readonly authenticated = new WeakMap<Client, [string, string]>();
  /** Header values already found valid, with their credentials (bounded; cleared on configure). */
  private readonly valid = new Map<string, [string, string]>();

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('proxyauth')) return;
    this.validator = parseProxyAuth(this.proxyauth);
    this.valid.clear();
  }

  /**
   * SOCKS5 username/password (the socks5 mode asks for them when proxyauth is set): valid ones
   * authenticate the connection, as a CONNECT does, so the requests in it need no header.
   */
  socks5_auth(data: Socks5AuthData): void | Promise<void> {
    const validator = this.validator;
    if (!validator) return;
    const decide = (ok: boolean): void => {
      if (!ok) return;
      data.valid = true;
      this.authenticated.set(data.clientConn, [data.username, data.password]);
    };
    const ok = validator(data.username, data.password);
    return typeof ok === 'boolean' ? decide(ok) : ok.then(decide);
  }

  // The hooks stay synchronous unless a check has to wait (bcrypt): with proxyauth unset, or
  // credentials already seen, a request costs no promise.
  http_connect(flow: HTTPFlow): void | Promise<void> {
    if (!this.validator) return;
    const remember = (ok: boolean): void => {
      if (ok) this.authenticated.set(flow.clientConn, flow.metadata.proxyauth as [string, string]);
    };
    const ok = this.authenticate(flow);
    if (typeof ok === 'boolean') return remember(ok);
    return ok.then(remember);
  }

  requestheaders(flow: HTTPFlow): void | Promise<void> {
    if (!this.validator) return;
    const known = this.authenticated.get(flow.clientConn);
    if (known) {
      flow.metadata.proxyauth = known;
      return;
    }
    if (flow.isReplay) return;
    const ok = this.authenticate(flow);
    if (typeof ok !== 'boolean') return ok.then(() => undefined);
  }

  /** True if the flow carries valid credentials (the header is then removed); else a 401/407 answer is set. */
  private authenticate(flow: HTTPFlow): boolean | Promise<boolean> {
    const isProxy = isHttpProxy(flow.clientConn);
    const header = isProxy ? 'proxy-authorization' : 'authorization';
    const value = flow.request.headers.get(header) ?? '';
    const known = this.valid.get(value);
    if (known) return this.accept(flow, header, known);
    const parsed = parseBasicAuth(value);
    const verdict = parsed && this.validator ? this.validator(parsed[0], parsed[1]) : false;
    const decide = (ok: boolean): boolean => {
      if (!ok || !parsed) {
        flow.response = authRequired(isProxy);
        return false;
      }
      if (this.valid.size >= CACHE_SIZE) this.valid.delete(this.valid.keys().next().value!);
      this.valid.set(value, parsed);
      return this.accept(flow, header, parsed);
    };
    return typeof verdict === 'boolean' ? decide(verdict) : verdict.then(decide);
  }

  private accept(flow: HTTPFlow, header: string, creds: [string, string]): true {
    flow.metadata.proxyauth = creds;
    flow.request.headers.delete(header);
    return true;
  }
}
