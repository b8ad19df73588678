/**
 * A typed option, validated in `configure`: a bad value is rejected with an OptionsError (and
 * the whole update is rolled back).
 * Run: mitmts -s options-configure.ts --set addheader=42
 * (mitmproxy: examples/addons/options-configure.py)
 */
import { addon, option, OptionsError, type HTTPFlow } from '@mitmts/sdk';

@addon({ name: 'addheader' })
class AddHeader {
  @option({ type: 'int?', default: null, help: 'Add a header to responses' })
  addheader!: number | null;

  configure(updated: ReadonlySet<string>): void {
    if (updated.has('addheader') && this.addheader !== null && this.addheader > 100) {
      throw new OptionsError('addheader must be <= 100');
    }
  }

  response(flow: HTTPFlow): void {
    if (this.addheader !== null) flow.response!.headers.set('addheader', String(this.addheader));
  }
}

export default AddHeader;
