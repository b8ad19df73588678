/**
 * Redirect requests for one host to another host (map a host), without the client noticing.
 * Run: mitmts -s http-redirect-requests.ts --set redirect_to=localhost:8000
 * (mitmproxy: examples/addons/http-redirect-requests.py, with the hosts as options)
 */
import { addon, option, OptionsError, type HTTPFlow } from '@mitmts/sdk';

@addon({ name: 'redirect' })
class Redirect {
  @option({
    type: 'str',
    default: 'example.org',
    help: 'Requests for this host (as the client named it) are redirected.',
  })
  redirect_from!: string;

  @option({ type: 'str', default: 'mitmproxy.org:80', help: 'Where redirected requests go: host:port.' })
  redirect_to!: string;

  private target: { host: string; port: number } = { host: 'mitmproxy.org', port: 80 };

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('redirect_to')) return;
    const m = /^(.+):(\d{1,5})$/.exec(this.redirect_to);
    if (!m) throw new OptionsError(`redirect_to: expected host:port, got ${JSON.stringify(this.redirect_to)}.`);
    this.target = { host: m[1]!, port: Number(m[2]) };
  }

  request(flow: HTTPFlow): void {
    // prettyHost takes the Host header into account, so this works in transparent mode too.
    if (flow.request.prettyHost !== this.redirect_from) return;
    flow.request.host = this.target.host;
    flow.request.port = this.target.port;
  }
}

export default Redirect;
