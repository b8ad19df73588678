import { addon, cookies, filterOption, option, type AddonHooks, type Filter, type HTTPFlow } from '@mitmts/sdk';
import { CookieJar } from './jar.js';

/** The URL path of a request target, without query and fragment. */
function urlPath(target: string): string {
  const q = target.search(/[?#]/);
  return q < 0 ? target : target.slice(0, q);
}

/**
 * A cookie jar for flows matching a filter (mitmproxy's `stickycookie`): Set-Cookie headers of
 * matching responses are remembered per (domain, port, path), and matching requests get the
 * cookies whose domain and path cover them, except those they already send.
 */
@addon({
  name: 'stickycookie',
  description: 'Remember Set-Cookie per domain and path and replay cookies on matching requests.',
})
export class StickyCookie implements AddonHooks {
  @option({ type: 'str?', default: null, help: 'Set sticky cookie filter. Matched against requests.' })
  stickycookie!: string | null;

  /** The remembered cookies. */
  readonly jar = new CookieJar();
  private flt: Filter | null = null;

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('stickycookie')) return;
    this.flt = filterOption('stickycookie', this.stickycookie);
  }

  response(flow: HTTPFlow): void {
    const resp = flow.response;
    if (!this.flt || !resp || !resp.headers.has('set-cookie') || !this.flt(flow)) return;
    const { host, port } = flow.request;
    const now = Date.now() / 1000;
    for (const [name, [value, attrs]] of resp.cookies.items(true)) this.jar.store(host, port, name, value, attrs, now);
  }

  request(flow: HTTPFlow): void {
    if (!this.flt || this.jar.size === 0 || !this.flt(flow)) return;
    const req = flow.request;
    const sent = req.headers.getAll('cookie');
    // A cookie the client sends itself is never overridden by the jar's copy.
    const skip = sent.length > 0 ? new Set(cookies.parseCookieHeaders(sent).map(([name]) => name)) : undefined;
    const pairs = this.jar.cookiesFor(req.host, req.port, urlPath(req.path), Date.now() / 1000, skip);
    if (pairs.length === 0) return;
    flow.metadata['stickycookie'] = true;
    const added = cookies.formatCookieHeader(pairs);
    req.headers.set('cookie', sent.length > 0 ? `${sent.join('; ')}; ${added}` : added);
  }
}
