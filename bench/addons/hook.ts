// The scenario (a)/(b) addon for `mitmts -s`: one response hook doing trivial work (set a header),
// the same work as hook.py does in mitmdump.
import { hook, type HTTPFlow } from '@mitmts/sdk';

export default class BenchHook {
  @hook('response')
  response(flow: HTTPFlow): void {
    flow.response?.headers.set('x-bench', '1');
  }
}
