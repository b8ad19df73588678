import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProxy, entrySource, readManifest } from '@mitmts/sdk/cli';
import { requestVia, startOrigin, type Origin } from '@mitmts/sdk/testing';
import { BIN, run, tempDir } from './run.js';

let origin: Origin;
let upstreamUrl = '';
beforeAll(async () => {
  origin = await startOrigin((req, res) => res.end(`upstream ${req.url}`));
  upstreamUrl = origin.url;
});
afterAll(() => origin.close());

async function get(port: number, url: string): Promise<{ body: string; headers: IncomingHttpHeaders }> {
  const r = await requestVia({ host: '127.0.0.1', port }, url);
  return { body: r.text, headers: r.headers };
}

const LOCAL_ADDON = `
import { addon, hook, inject, option, LOG, encoding, type HTTPFlow, type Logger } from '@mitmts/sdk';
@addon({ name: 'local' })
export class Local {
  @option({ type: 'str', default: 'local', help: 'Header value.' }) local_value!: string;
  constructor(@inject(LOG) private readonly log: Logger) {}
  running(): void {
    try {
      encoding.encode(Buffer.from('x'), 'zstd');
      this.log.info('zstd: available');
    } catch (err) {
      this.log.info('zstd: ' + (err as Error).message);
    }
  }
  @hook('response') stamp(flow: HTTPFlow): void {
    flow.response!.headers.set('x-local', this.local_value);
  }
}
export default Local;
`;

describe('mitmts build', () => {
  it(
    'bundles a manifest into one file that runs from an empty directory with a real client',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir('mitmts-build-');
      writeFileSync(join(dir, 'local.ts'), LOCAL_ADDON);
      writeFileSync(
        join(dir, 'mitmts.json'),
        JSON.stringify({ name: 'tiny', version: '2.0.0', addons: ['./local.ts', '@mitmts/addon-script'] }),
      );
      const built = await run(
        [BIN, 'build', '--manifest', join(dir, 'mitmts.json'), '-o', join(dir, 'out/tiny.mjs')],
        dir,
      );
      expect(built.out).toMatch(/^Built .*tiny\.mjs \(\d+ KiB, \d+ modules\)/);
      expect(built.code).toBe(0);

      const empty = tempDir('mitmts-build-run-');
      copyFileSync(join(dir, 'out/tiny.mjs'), join(empty, 'tiny.mjs'));
      const version = await run([join(empty, 'tiny.mjs'), '--version'], empty);
      expect(version.out).toMatch(/^tiny: 2\.0\.0\n/);

      const child = spawn(
        process.execPath,
        [
          join(empty, 'tiny.mjs'),
          '--listen-host',
          '127.0.0.1',
          '--listen-port',
          '0',
          '--confdir',
          join(empty, 'conf'),
          '--set',
          'local_value=bundled',
        ],
        {
          cwd: empty,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let log = '';
      try {
        const port = await new Promise<number>((resolve, reject) => {
          const onData = (d: Buffer): void => {
            log += d;
            const m = /listening at [^\s]*:(\d+)/.exec(log);
            if (m) resolve(Number(m[1]));
          };
          child.stdout.on('data', onData);
          child.stderr.on('data', onData);
          child.on('exit', (code) => reject(new Error(`exited with ${code}: ${log}`)));
        });
        const r = await get(port, `${upstreamUrl}/a`);
        expect(r.body).toBe('upstream /a');
        expect(r.headers['x-local']).toBe('bundled');
        // zstd-napi is native: the bundle loads it from beside itself, or explains, instead of failing to start.
        expect(log).toMatch(
          /zstd: (available|.*zstd is not available: use Node 22\.15 or later, or install the native zstd-napi package)/,
        );
      } finally {
        child.kill('SIGTERM');
      }
    },
  );

  it('writes an entry module importing the addons in manifest order', () => {
    const src = entrySource({ name: 'n', addons: ['a', './b.ts'] });
    expect(src).toContain(`import * as addon0 from "a";\nimport * as addon1 from "./b.ts";`);
    expect(src).toContain(`const modules = new Map([["a", addon0], ["./b.ts", addon1]]);`);
  });

  it.each([
    ['not JSON', '{', /Cannot read the build manifest .*m\.json/],
    ['no name', '{"addons": []}', /"name" must be a non-empty string/],
    ['addons not a list', '{"name": "x", "addons": "a"}', /"addons" must be a list/],
  ])('rejects a manifest with %s', (_what, text, message) => {
    const p = join(tempDir('mitmts-manifest-'), 'm.json');
    writeFileSync(p, text);
    expect(() => readManifest(p)).toThrow(message);
  });

  it('names an addon it cannot resolve', async () => {
    const dir = tempDir('mitmts-build-bad-');
    writeFileSync(join(dir, 'm.json'), JSON.stringify({ name: 'bad', addons: ['mitmts-addon-does-not-exist'] }));
    await expect(buildProxy({ manifest: join(dir, 'm.json'), outfile: join(dir, 'o.mjs') })).rejects.toThrow(
      /mitmts build failed .*m\.json\):\n.*Could not resolve "mitmts-addon-does-not-exist"/,
    );
  });

  it('explains its arguments', async () => {
    const r = await run([BIN, 'build', '--manifest', 'x.json'], tempDir('mitmts-build-args-'));
    expect(r.code).toBe(2);
    expect(r.out).toContain('mitmts build: --manifest and -o are required.');
  });
});
