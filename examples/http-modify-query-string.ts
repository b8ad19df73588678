/**
 * Modify the query string of requests.
 * Run: mitmts -s http-modify-query-string.ts   (mitmproxy: examples/addons/http-modify-query-string.py)
 */
import type { HTTPFlow } from '@mitmts/sdk';

export function request(flow: HTTPFlow): void {
  flow.request.query.set('mitmproxy', 'rocks');
}
