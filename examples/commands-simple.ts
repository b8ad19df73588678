/**
 * The simplest command: `myaddon.inc` increments a counter.
 * Run: mitmts -s commands-simple.ts; other addons and scripts call it, and so does a program that
 * embeds the proxy: `await proxy.command('myaddon.inc')` (createProxy from @mitmts/sdk).
 * (mitmproxy: examples/addons/commands-simple.py)
 */
import { addon, command, inject, LOG, type Logger } from '@mitmts/sdk';

@addon({ name: 'myaddon' })
class MyAddon {
  num = 0;

  constructor(@inject(LOG) private readonly log: Logger) {}

  @command('myaddon.inc', { help: 'Increment the counter and log it.' })
  inc(): void {
    this.num += 1;
    this.log.info(`num = ${this.num}`);
  }
}

export default MyAddon;
