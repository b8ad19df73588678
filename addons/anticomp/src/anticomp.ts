import { addon, hook, option, type AddonHooks, type HTTPFlow } from '@mitmts/sdk';

/**
 * Sets `Accept-Encoding: identity` on every request, asking servers for uncompressed responses
 * (mitmproxy's `anticomp`).
 */
@addon({ name: 'anticomp', description: 'Ask servers for uncompressed responses.' })
export class AntiComp implements AddonHooks {
  @option({ type: 'bool', default: false, help: 'Try to convince servers to send us un-compressed data.' })
  anticomp!: boolean;

  @hook('request', { activeWhen: (a: AntiComp): boolean => a.anticomp })
  request(flow: HTTPFlow): void {
    if (this.anticomp) flow.request.anticomp();
  }
}
