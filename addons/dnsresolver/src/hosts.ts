import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';

/** The hosts file: name (lower case) -> its addresses, in file order. */
export type HostsTable = ReadonlyMap<string, readonly string[]>;

/** Parse hosts-file text (`address name [alias...]`, `#` comments). */
export function parseHosts(text: string): HostsTable {
  const table = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const [address, ...names] = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || isIP(address) === 0) continue;
    for (const n of names) {
      const key = n.toLowerCase().replace(/\.$/, '');
      const list = table.get(key) ?? [];
      if (!list.includes(address)) list.push(address);
      table.set(key, list);
    }
  }
  return table;
}

/** The hosts file, read again when it changes (one stat per lookup). */
export class HostsFile {
  private mtime = -1;
  private table: HostsTable = new Map();

  constructor(readonly path: string) {}

  /** The addresses of `name` of one family (4 or 6); empty if the file does not name it. */
  lookup(name: string, family: 4 | 6): string[] {
    try {
      const m = statSync(this.path).mtimeMs;
      if (m !== this.mtime) {
        this.table = parseHosts(readFileSync(this.path, 'utf8'));
        this.mtime = m;
      }
    } catch {
      this.table = new Map();
    }
    return (this.table.get(name.toLowerCase().replace(/\.$/, '')) ?? []).filter((a) => isIP(a) === family);
  }
}
