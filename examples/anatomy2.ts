/**
 * The shortest addon: a module-level function named like a hook.
 * Run: mitmts -s anatomy2.ts           (mitmproxy: examples/addons/anatomy2.py)
 */
import type { HTTPFlow } from '@mitmts/sdk';

export function request(flow: HTTPFlow): void {
  flow.request.headers.set('myheader', 'value');
}
