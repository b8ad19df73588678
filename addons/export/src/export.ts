import { writeFileSync } from 'node:fs';
import { addon, command, CommandError, expandHome, type Flow, option } from '@mitmts/sdk';
import { bytesToDisplay, FORMATS } from './formats.js';

/**
 * Exports a flow as a command or program that repeats its request (curl, HTTPie, JavaScript
 * fetch, Python requests) or as raw HTTP (mitmproxy's `export` addon). `export` returns text
 * (for the web UI), `export.file` writes the exact bytes. mitmproxy's `export.clip` is left
 * out: a headless proxy has no clipboard.
 */
@addon({ name: 'export', description: 'Export flows as curl, httpie, fetch, python-requests or raw HTTP.' })
export class Export {
  @option({
    type: 'bool',
    default: false,
    help:
      'When exporting a request as an external command, make an effort to connect to the same IP as in the original request. ' +
      'This helps with reproducibility in cases where the behaviour depends on the particular host we are connecting to. ' +
      'Currently this only affects curl exports.',
  })
  export_preserve_original_ip!: boolean;

  @command('export.formats', { returns: 'str[]', help: 'Return a list of the supported export formats.' })
  formats(): string[] {
    return Object.keys(FORMATS).sort();
  }

  @command('export.file', {
    args: [{ name: 'format', type: 'choice', choices: 'export.formats' }, 'flow', 'path'],
    help: 'Export a flow to path (raw formats byte for byte).',
  })
  file(format: string, flow: Flow, path: string): void {
    const v = this.run(format, flow);
    try {
      writeFileSync(expandHome(path), v);
    } catch (err) {
      throw new CommandError(`Cannot write the ${format} export to ${path}: ${(err as Error).message}`);
    }
  }

  @command('export', {
    args: [{ name: 'format', type: 'choice', choices: 'export.formats' }, 'flow'],
    returns: 'str',
    help: 'Export a flow and return the result (bytes that are not UTF-8 as \\xNN).',
  })
  exportStr(format: string, flow: Flow): string {
    const v = this.run(format, flow);
    return typeof v === 'string' ? v : bytesToDisplay(v);
  }

  private run(format: string, flow: Flow): string | Buffer {
    const fn = FORMATS[format];
    if (!fn) throw new CommandError(`No such export format: ${format} (formats: ${this.formats().join(', ')}).`);
    return fn(flow, { preserveIp: this.export_preserve_original_ip });
  }
}
