import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = join(import.meta.dirname, '../fixtures/cli/dist.mjs');

function run(signal: NodeJS.Signals): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DIST, '-n', '--confdir', mkdtempSync(join(tmpdir(), 'mitmts-sig-'))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (!sent && out.includes('running\n')) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('mitmts process lifecycle', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('exits cleanly on %s after firing done', async (signal) => {
    const { code, out } = await run(signal);
    expect(out).toBe('running\ndone\n');
    expect(code).toBe(0);
  });
});
