import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowReader, type HTTPFlow } from '@mitmts/sdk';
import { requestVia } from '@mitmts/sdk/testing';

const ROOT = join(import.meta.dirname, '../../..');

describe('save_stream_file survives SIGKILL', () => {
  let upstream: Server;
  let upstreamPort: number;
  let hanging: (() => void) | null = null;
  const held: Socket[] = [];
  beforeAll(async () => {
    upstream = createServer((s) => {
      s.once('data', (d: Buffer) => {
        if (d.toString('latin1').startsWith('GET /hang')) {
          held.push(s);
          hanging?.();
          return;
        }
        s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamPort = (upstream.address() as AddressInfo).port;
  });
  afterAll(() => {
    held.forEach((s) => s.destroy());
    upstream.close();
  });

  it('keeps every completed flow, loses only the one in progress, and the file stays readable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-kill-'));
    const file = join(dir, 'flows.mitm');
    const child = spawn(
      process.execPath,
      [
        'bin/mitmts.js',
        '--listen-host',
        '127.0.0.1',
        '-p',
        '0',
        '--set',
        'flow_detail=0',
        '--set',
        `confdir=${dir}`,
        '-w',
        file,
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    const listening = new Promise<number>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        const m = /listening at \S*:(\d+)/.exec((stdout += d));
        if (m) resolve(Number(m[1]));
      });
    });
    try {
      const proxy = { host: '127.0.0.1', port: await listening };
      for (let i = 0; i < 3; i++)
        expect((await requestVia(proxy, `http://127.0.0.1:${upstreamPort}/done/${i}`)).text).toBe('ok');
      // A fourth request is in flight (the server holds it) when the process dies.
      const inFlight = new Promise<void>((r) => (hanging = r));
      requestVia(proxy, `http://127.0.0.1:${upstreamPort}/hang`).catch(() => undefined);
      await inFlight;
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    const flows = [...new FlowReader(file)] as HTTPFlow[];
    expect(flows.map((f) => f.request.path)).toEqual(['/done/0', '/done/1', '/done/2']);
    expect(flows.every((f) => f.response?.statusCode === 200)).toBe(true);
    expect(stderr).toBe('');
  });
});
