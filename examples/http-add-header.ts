/**
 * Add a header to every response: a running count.
 * Run: mitmts -s http-add-header.ts    (mitmproxy: examples/addons/http-add-header.py)
 */
import type { HTTPFlow } from '@mitmts/sdk';

class AddHeader {
  num = 0;

  response(flow: HTTPFlow): void {
    this.num += 1;
    flow.response!.headers.set('count', String(this.num));
  }
}

export const addons = [new AddHeader()];
