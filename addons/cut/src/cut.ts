import { appendFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { addon, command, CommandError, expandHome, type Flow, inject, LOG, type Logger } from '@mitmts/sdk';
import { extract, type CutValue } from './extract.js';
import { toCsv, toJson } from './formats.js';

/**
 * Cuts values out of flows (mitmproxy's `cut` addon): `cut @all request.method,response.status_code`
 * returns the rows; `cut.save` writes them as CSV, as JSON (a path ending in `.json`), or, for
 * one value of one flow, as the raw value. mitmproxy's `cut.clip` is left out: a headless proxy
 * has no clipboard.
 */
@addon({ name: 'cut', description: 'Cut values out of flows; save them as CSV or JSON.' })
export class Cut {
  constructor(@inject(LOG) private readonly log: Logger) {}

  @command('cut', {
    args: ['flows', 'cutspec'],
    returns: 'Data',
    help:
      'Cut data from a set of flows. Cut specifications are attribute paths from the base of the flow object, with a few ' +
      'conveniences - "port" and "host" retrieve parts of an address tuple, ".header[key]" retrieves a header value. ' +
      'Return values converted to strings or bytes: SSL certificates are converted to PEM format, bools are "true" or ' +
      '"false", "bytes" are preserved, and all other values are converted to strings.',
  })
  cut(flows: readonly Flow[], cuts: readonly string[]): CutValue[][] {
    return flows.map((f) => cuts.map((c) => extract(c, f)));
  }

  @command('cut.save', {
    args: ['flows', 'cutspec', 'path'],
    help:
      'Save cuts to file. If there are multiple flows or cuts, the format is UTF-8 encoded CSV, or JSON (one object per ' +
      'flow) if the path ends in .json. If there is exactly one row and one column, the data is written to file as-is, ' +
      'with raw bytes preserved. If the path is prefixed with a "+", values are appended if there is an existing file.',
  })
  save(flows: readonly Flow[], cuts: readonly string[], path: string): void {
    const append = path.startsWith('+');
    const file = expandHome(append ? path.slice(1) : path);
    const rows = this.cut(flows, cuts);
    try {
      if (cuts.length === 1 && flows.length === 1) {
        const v = rows[0]![0]!;
        const data = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
        if (append && existsSync(file) && statSync(file).size > 0)
          appendFileSync(file, Buffer.concat([Buffer.from('\n'), data]));
        else if (append) appendFileSync(file, data);
        else writeFileSync(file, data);
        this.log.alert('Saved single cut.');
      } else if (file.endsWith('.json')) {
        if (append)
          throw new CommandError(
            `Cannot append to ${file}: a JSON file holds one array (save to a new file, or to CSV).`,
          );
        writeFileSync(file, `${JSON.stringify(toJson(cuts, rows), null, 2)}\n`);
        this.log.alert(`Saved ${cuts.length} cuts over ${flows.length} flows as JSON.`);
      } else {
        (append ? appendFileSync : writeFileSync)(file, toCsv(rows), 'utf8');
        this.log.alert(`Saved ${cuts.length} cuts over ${flows.length} flows as CSV.`);
      }
    } catch (err) {
      if (err instanceof CommandError) throw err;
      throw new CommandError(`Cannot save cuts to ${file}: ${(err as Error).message}`);
    }
  }
}
