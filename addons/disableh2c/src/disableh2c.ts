import { addon, type HTTPFlow, inject, LOG, type Logger } from '@mitmts/sdk';

/** Connection header tokens that belong to an h2c upgrade. */
const H2C_TOKENS = new Set(['upgrade', 'http2-settings']);

/**
 * mitmproxy's `disable_h2c`: an HTTP/1 request asking to upgrade to cleartext HTTP/2
 * (`Upgrade: h2c`, RFC 7540 section 3.2, what `curl --http2` sends to `http://` URLs) loses
 * that offer (Upgrade, HTTP2-Settings and their Connection tokens), so client and server go on
 * in HTTP/1.1 and every request stays visible. Done at `requestheaders`, before any byte of the
 * request goes upstream (a streamed request body sends its head before the `request` hook).
 */
@addon({ name: 'disableh2c', description: 'Remove h2c upgrade offers from HTTP/1 requests.' })
export class DisableH2C {
  constructor(@inject(LOG) private readonly log: Logger) {}

  requestheaders(f: HTTPFlow): void {
    const r = f.request;
    const upgrade = r.headers.get('upgrade');
    if (upgrade === undefined || upgrade.trim().toLowerCase() !== 'h2c') return;
    this.log.warn('HTTP/2 cleartext connections (h2c upgrade requests) are currently not supported.');
    r.headers.delete('upgrade');
    r.headers.delete('http2-settings');
    const connection = r.headers.get('connection');
    if (connection !== undefined) {
      const rest = connection
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !H2C_TOKENS.has(t.toLowerCase()));
      if (rest.length > 0) r.headers.set('connection', rest.join(', '));
      else r.headers.delete('connection');
    }
  }
}
