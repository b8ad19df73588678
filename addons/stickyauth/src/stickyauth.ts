import { addon, filterOption, option, type AddonHooks, type Filter, type HTTPFlow } from '@mitmts/sdk';

const COMMA = Buffer.from(', ');

/**
 * Remembers the `Authorization` header per host and adds it to later matching requests to that
 * host that carry none (mitmproxy's `stickyauth`): log in once, stay logged in for scripted or
 * replayed requests.
 */
@addon({ name: 'stickyauth', description: 'Replay the Authorization header per host on matching requests.' })
export class StickyAuth implements AddonHooks {
  @option({ type: 'str?', default: null, help: 'Set sticky auth filter. Matched against requests.' })
  stickyauth!: string | null;

  /** The last Authorization value (raw bytes) seen per host. */
  readonly hosts = new Map<string, Buffer>();
  private flt: Filter | null = null;

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('stickyauth')) return;
    this.flt = filterOption('stickyauth', this.stickyauth);
  }

  request(flow: HTTPFlow): void {
    if (!this.flt) return;
    const req = flow.request;
    const sent = req.headers.getAllRaw('authorization');
    if (sent.length > 0) {
      // Remembered from every request, as mitmproxy does; the filter only decides where it is added.
      this.hosts.set(
        req.host,
        sent.length === 1 ? sent[0]! : Buffer.concat(sent.flatMap((v, i) => (i ? [COMMA, v] : [v]))),
      );
    } else if (this.flt(flow)) {
      const auth = this.hosts.get(req.host);
      if (auth !== undefined) req.headers.set('authorization', auth);
    }
  }
}
