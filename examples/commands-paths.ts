/**
 * A command with typed arguments, flows and a path: `myaddon.histogram @all hosts.txt` writes
 * how many requests went to each host.
 * Run: mitmts -s commands-paths.ts      (mitmproxy: examples/addons/commands-paths.py)
 */
import { writeFileSync } from 'node:fs';
import { addon, command, inject, HTTPFlow, LOG, type Flow, type Logger } from '@mitmts/sdk';

@addon({ name: 'myaddon' })
class MyAddon {
  constructor(@inject(LOG) private readonly log: Logger) {}

  @command('myaddon.histogram', {
    args: ['flows', 'path'],
    help: 'Write a per-host request count of the flows to a file.',
  })
  histogram(flows: Flow[], path: string): void {
    const totals = new Map<string, number>();
    for (const f of flows) {
      if (f instanceof HTTPFlow) totals.set(f.request.host, (totals.get(f.request.host) ?? 0) + 1);
    }
    const lines = [...totals]
      .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
      .map(([host, n]) => `${n}: ${host}\n`);
    writeFileSync(path, lines.join(''));
    this.log.alert('done');
  }
}

export default MyAddon;
