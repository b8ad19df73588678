import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/mitmts.js');
const FIXTURE = join(import.meta.dirname, '../fixtures/mitmproxy-8.1.1/flows.mitm');
const run = promisify(execFile);

describe('mitmts flows (through the real command line)', () => {
  it('prints one JSON object per matching flow', async () => {
    const { stdout } = await run(process.execPath, [
      BIN,
      'flows',
      FIXTURE,
      '~m POST',
      '--fields',
      'request.method,response.status_code',
    ]);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l['request.method']).toBe('POST');
  });

  it('summarizes a file', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'flows', FIXTURE, '--summary']);
    const s = JSON.parse(stdout) as { flows: number };
    expect(s.flows).toBe(15);
  });

  it('exits 2 with a message on a bad filter', async () => {
    const err = await run(process.execPath, [BIN, 'flows', FIXTURE, '~x nope']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/filter/i);
  });
});
