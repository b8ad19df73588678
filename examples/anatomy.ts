/**
 * Basic skeleton of a mitmts addon: a class whose methods named like hooks are hooks.
 * Run: mitmts -s anatomy.ts            (mitmproxy: examples/addons/anatomy.py)
 */
import { ctx, type HTTPFlow } from '@mitmts/sdk';

class Counter {
  num = 0;

  request(_flow: HTTPFlow): void {
    this.num += 1;
    ctx.log.info(`We've seen ${this.num} flows`);
  }
}

export const addons = [new Counter()];
