import { addon, type HTTPFlow, inject, LOG, type Logger } from '@mitmts/sdk';

/** Connection header tokens that belong to an h2c upgrade. */
const H2C_TOKENS = new Set(['upgrade', 'http2-settings']);

/**
 * mitmproxy's `disable_h2c`: an HTTP/1 request asking to upgrade to cleartext HTTP/2
 * (`Upgrade: h2c`) loses that offer (Upgrade, HTTP2-Settings and their Connection tokens), so
 * client and server go on in HTTP/1; a flow with an HTTP/2 prior-knowledge request (`PRI * HTTP/2.0`)
 * is killed (mitmts's runtime makes none: it serves prior knowledge as HTTP/2 with `http2` on,
 * and answers the preface with a 505 with it off).
 */
@addon({ name: 'disableh2c', description: 'Remove h2c upgrade offers; kill HTTP/2 prior-knowledge requests.' })
export class DisableH2C {
  constructor(@inject(LOG) private readonly log: Logger) {}

  request(f: HTTPFlow): void {
    const r = f.request;
    const upgrade = r.headers.get('upgrade');
    if (upgrade !== undefined && upgrade.trim().toLowerCase() === 'h2c') {
      this.log.warn('HTTP/2 cleartext connections (h2c upgrade requests) are currently not supported.');
      r.headers.delete('upgrade');
      r.headers.delete('http2-settings');
      const connection = r.headers.get('connection');
      if (connection !== undefined) {
        const rest = connection.split(',').map((t) => t.trim()).filter((t) => t !== '' && !H2C_TOKENS.has(t.toLowerCase()));
        if (rest.length > 0) r.headers.set('connection', rest.join(', '));
        else r.headers.delete('connection');
      }
    }
    if (r.method === 'PRI' && r.path === '*' && r.httpVersion === 'HTTP/2.0') {
      if (f.killable) f.kill();
      this.log.warn('Initiating HTTP/2 connections with prior knowledge are currently not supported.');
    }
  }
}
