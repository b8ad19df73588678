import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  addon,
  caPaths,
  type HookResult,
  type HTTPFlow,
  inject,
  LOG,
  type Logger,
  OPTIONS,
  option,
  type OptionsManager,
  HTTPResponse,
} from '@mitmts/sdk';
import { onboardingPage } from './page.js';

/** The CA certificate as each download offers it. */
const FILES = {
  pem: { type: 'application/x-x509-ca-cert', name: 'mitmproxy-ca-cert.pem' },
  cer: { type: 'application/x-x509-ca-cert', name: 'mitmproxy-ca-cert.cer' },
  p12: { type: 'application/x-pkcs12', name: 'mitmproxy-ca-cert.p12' },
} as const;

const HTML = { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' };

/**
 * The onboarding app (mitmproxy's `onboarding`): requests through the proxy to
 * `http://mitm.it/` (`onboarding_host`, `onboarding_port`) are answered by mitmts itself with a
 * page of install steps and the CA certificate as PEM (`/cert/pem`), DER (`/cert/cer`) and
 * PKCS#12 (`/cert/p12`), read from the confdir. No request reaches a server.
 */
@addon({ name: 'onboarding', description: 'Serve the CA certificate and install steps at http://mitm.it.' })
export class Onboarding {
  @option({ type: 'bool', default: true, help: 'Toggle the mitmproxy onboarding app.' })
  onboarding!: boolean;

  @option({
    type: 'str',
    default: 'mitm.it',
    help: 'Onboarding app domain. For transparent mode, use an IP when a DNS entry for the app domain is not present.',
  })
  onboarding_host!: string;

  @option({ type: 'int', default: 80, help: 'Port of the onboarding app (plain HTTP).' })
  onboarding_port!: number;

  constructor(
    @inject(OPTIONS) private readonly options: OptionsManager,
    @inject(LOG) private readonly log: Logger,
  ) {}

  request(f: HTTPFlow): HookResult {
    if (!this.onboarding || f.response || f.error || !f.live) return;
    const r = f.request;
    // the port first: it is a number, prettyHost parses the Host header (every request pays this)
    if (r.port !== this.onboarding_port) return;
    const host = this.onboarding_host;
    // The target host decides in regular mode; elsewhere (transparent, reverse) the Host header.
    if (r.host !== host && (f.clientConn.proxyMode.startsWith('regular') || r.prettyHost !== host)) return;
    return this.serve(f);
  }

  private async serve(f: HTTPFlow): Promise<void> {
    const path = f.request.path.split('?')[0]!;
    if (path === '/' || path === '/index.html') {
      f.response = HTTPResponse.make(200, onboardingPage(this.onboarding_host), HTML);
      return;
    }
    const kind = /^\/cert\/(pem|cer|p12)$/.exec(path)?.[1] as keyof typeof FILES | undefined;
    if (!kind) {
      f.response = HTTPResponse.make(
        404,
        'Not found. The onboarding app serves /, /cert/pem, /cert/cer and /cert/p12.\n',
        { 'Content-Type': 'text/plain; charset=utf-8' },
      );
      return;
    }
    const paths = caPaths(this.options.get<string>('confdir'), 'mitmproxy');
    let data: Buffer;
    try {
      data = kind === 'p12' ? await readFile(paths.caCertP12) : await readFile(paths.caCertPem);
      if (kind === 'cer') data = new X509Certificate(data).raw;
    } catch (err) {
      this.log.warn(`onboarding: cannot read the CA certificate in ${paths.confdir}: ${(err as Error).message}`);
      f.response = HTTPResponse.make(
        500,
        `The CA certificate cannot be read from ${paths.confdir}: ${(err as Error).message}\n`,
        { 'Content-Type': 'text/plain; charset=utf-8' },
      );
      return;
    }
    f.response = HTTPResponse.make(200, data, {
      'Content-Type': FILES[kind].type,
      'Content-Disposition': `attachment; filename=${FILES[kind].name}`,
      'Cache-Control': 'no-store',
    });
  }
}
