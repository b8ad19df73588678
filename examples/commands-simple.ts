/**
 * The simplest command: `myaddon.inc` increments a counter.
 * Run: mitmts -s commands-simple.ts, then call the command (from another addon, or the UI).
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
