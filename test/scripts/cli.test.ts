import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getViaProxy, upstream } from './http.js';

const BIN = join(import.meta.dirname, '../../bin/mitmts.js');

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('mitmts -s', () => {
  it('runs a TypeScript script from the command line', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mitmts-cli-s-')));
    const script = join(dir, 'add-header.ts');
    writeFileSync(
      script,
      `import type { HTTPFlow } from '@mitmts/sdk';\nexport function response(flow: HTTPFlow): void {\n  flow.response!.headers.set('x-script', 'cli');\n}\n`,
    );
    const up = await upstream();
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [BIN, '-s', script, '--listen-host', '127.0.0.1', '--listen-port', String(port), '--confdir', join(dir, 'conf')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    try {
      await new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (out.includes('proxy listening')) resolve();
        };
        child.stdout.on('data', check);
        child.on('exit', (code) => reject(new Error(`mitmts exited with ${code}: ${out}`)));
      });
      expect(out).toContain(`Loading script ${script}`);
      const r = await getViaProxy({ host: '127.0.0.1', port }, `${up.url}/x`);
      expect(r.body).toBe('upstream /x');
      expect(r.headers['x-script']).toBe('cli');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      await up.close();
    }
  });
});
