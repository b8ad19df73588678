import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy } from '@mitmts/sdk';
import { buildProxy } from '@mitmts/sdk/cli';
import { requestVia, startOrigin, type Origin } from '@mitmts/sdk/testing';
import { Greeting } from '../src/greeting.js';

let origin: Origin;
beforeAll(async () => {
  origin = await startOrigin((req, res) => res.end(`upstream ${req.url}`));
});
afterAll(() => origin.close());

describe('__name__', () => {
  it('stamps responses and answers for __name__.proxy (embedded with createProxy)', async () => {
    const proxy = await createProxy({ addons: [Greeting], options: { greeting: 'hi' } });
    try {
      const up = await requestVia(proxy, `${origin.url}/x`);
      expect(up.text).toBe('upstream /x');
      expect(up.headers['x-__name__']).toBe('hi');
      const own = await requestVia(proxy, 'http://__name__.proxy/');
      expect(own.text).toBe('hi');
    } finally {
      await proxy.close();
    }
  });

  it('builds into one file that runs with nothing installed beside it', { timeout: 60_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), '__name__-build-')), '__name__.mjs');
    const result = await buildProxy({ manifest: join(import.meta.dirname, '../mitmts.json'), outfile: out });
    expect(result.bytes).toBeGreaterThan(0);
    // Copy it to an empty directory: no node_modules anywhere above it.
    const lonely = join(mkdtempSync(join(tmpdir(), '__name__-run-')), '__name__.mjs');
    copyFileSync(out, lonely);
    const child = spawn(
      process.execPath,
      [
        lonely,
        '--listen-host',
        '127.0.0.1',
        '--listen-port',
        '0',
        '--confdir',
        join(lonely, '..', 'conf'),
        '--set',
        'greeting=built',
      ],
      {
        cwd: join(lonely, '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let log = '';
        const onData = (d: Buffer): void => {
          log += d;
          const m = /listening at [^\s]*:(\d+)/.exec(log);
          if (m) resolve(Number(m[1]));
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => reject(new Error(`the build exited with ${code}: ${log}`)));
      });
      const r = await requestVia({ host: '127.0.0.1', port }, `${origin.url}/built`);
      expect(r.text).toBe('upstream /built');
      expect(r.headers['x-__name__']).toBe('built');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
