/**
 * Shut the proxy down from a hook: a request for http://example.com/path stops it.
 * Run: mitmts -s shutdown.ts             (mitmproxy: examples/addons/shutdown.py)
 */
import { ctx, HTTPResponse, type HTTPFlow } from '@mitmts/sdk';

export function request(flow: HTTPFlow): void {
  // A random condition, to make this example a bit more interactive.
  if (flow.request.prettyUrl === 'http://example.com/path') {
    ctx.log.info('Shutting down everything...');
    flow.response = HTTPResponse.make(200, 'Shutting down.');
    ctx.kernel.requestShutdown();
  }
}
