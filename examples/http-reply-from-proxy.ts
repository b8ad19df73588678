/**
 * Answer a request from the proxy itself: the server is never contacted.
 * Run: mitmts -s http-reply-from-proxy.ts   (mitmproxy: examples/addons/http-reply-from-proxy.py)
 */
import { HTTPResponse, type HTTPFlow } from '@mitmts/sdk';

export function request(flow: HTTPFlow): void {
  if (flow.request.prettyUrl === 'http://example.com/path') {
    flow.response = HTTPResponse.make(200, 'Hello World', { 'Content-Type': 'text/html' });
  }
}
