import { addon, hook, option, type AddonHooks, type HTTPFlow } from '@mitmts/sdk';

/**
 * Strips the conditional-request headers (`If-Modified-Since`, `If-None-Match`) so servers send
 * full responses instead of `304 Not Modified` (mitmproxy's `anticache`).
 */
@addon({ name: 'anticache', description: 'Strip conditional-request headers so servers never answer 304.' })
export class AntiCache implements AddonHooks {
  @option({
    type: 'bool',
    default: false,
    help: 'Strip out request headers that might cause the server to return 304-not-modified.',
  })
  anticache!: boolean;

  @hook('request', { activeWhen: (a: AntiCache): boolean => a.anticache })
  request(flow: HTTPFlow): void {
    if (this.anticache) flow.request.anticache();
  }
}
