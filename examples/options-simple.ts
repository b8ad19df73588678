/**
 * An addon with its own option, declared in `load` (mitmproxy's loader.add_option style).
 * Run: mitmts -s options-simple.ts --set addheader=true
 * (mitmproxy: examples/addons/options-simple.py)
 */
import { ctx, type HTTPFlow, type Loader } from '@mitmts/sdk';

class AddHeader {
  num = 0;

  load(loader: Loader): void {
    loader.addOption('addheader', 'bool', false, 'Add a count header to responses');
  }

  response(flow: HTTPFlow): void {
    if (ctx.options.get<boolean>('addheader')) {
      this.num += 1;
      flow.response!.headers.set('count', String(this.num));
    }
  }
}

export const addons = [new AddHeader()];
