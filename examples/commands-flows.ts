/**
 * A command taking flows: `myaddon.addheader @all` (or any flow filter) adds a header to them.
 * Run: mitmts -s commands-flows.ts      (mitmproxy: examples/addons/commands-flows.py)
 */
import { addon, command, inject, HTTPFlow, LOG, type Flow, type Logger } from '@mitmts/sdk';

@addon({ name: 'myaddon' })
class MyAddon {
  constructor(@inject(LOG) private readonly log: Logger) {}

  @command('myaddon.addheader', { args: ['flows'], help: 'Add myheader: value to the requests of the given flows.' })
  addheader(flows: Flow[]): void {
    for (const f of flows) {
      if (f instanceof HTTPFlow) f.request.headers.set('myheader', 'value');
    }
    this.log.alert('done');
  }
}

export default MyAddon;
