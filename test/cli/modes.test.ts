// --mode on the real command line: modes mitmts cannot run are refused with what to use
// instead (exit 1, nothing listens); several modes start one listener each, one log line each.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { confdirWithCa } from '../helpers/cli.js';

const BIN = join(import.meta.dirname, '../../bin/mitmts.js');
const run = promisify(execFile);

async function refusal(spec: string): Promise<{ code: number; stderr: string }> {
  const err = (await run(process.execPath, [BIN, '--mode', spec, '--set', `confdir=${confdirWithCa()}`], {
    timeout: 30_000,
  }).catch((e: unknown) => e)) as { code: number; stderr: string };
  return { code: err.code, stderr: err.stderr };
}

const SEE = 'see docs/modes.md.';

describe('mitmts --mode', () => {
  // Every refusal's wording is in core/test/proxy/modes.test.ts; here, the command line's exit.
  it.each([
    [
      'wireguard',
      "wireguard mode needs a userspace WireGuard stack mitmts does not have. On Linux, run kernel WireGuard (wg-quick) and send the WireGuard interface's traffic into transparent mode with TPROXY; " +
        SEE,
    ],
    [
      'reverse:http3://example.com',
      'HTTP/3 and QUIC need QUIC, which Node 20 does not have. Use reverse:https://example.com instead: clients fall back to HTTP/1.1 or HTTP/2 over TCP; ' +
        SEE,
    ],
  ])('refuses %s, saying what to use instead', async (spec, why) => {
    const r = await refusal(spec);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`mitmts: Proxy mode ${spec} is not supported: ${why}`);
  });

  it('refuses a bad spec naming it', async () => {
    const r = await refusal('socks5:x@1080');
    expect(r.stderr.trim()).toBe('mitmts: Invalid proxy mode specification: socks5:x@1080 (mode takes no arguments)');
  });

  it('--help lists only the modes that work', async () => {
    const { stdout } = await run(process.execPath, [BIN, '--help']);
    const line = stdout.split('\n').find((l) => l.includes('--mode'))!;
    expect(line).toContain('regular, transparent, socks5, reverse:SPEC, upstream:SPEC, dns');
    expect(stdout).not.toMatch(/wireguard|local\[|tun\[/);
  });

  it('starts one listener per mode, each logged with its mode, all with one addon chain', async () => {
    const child = spawn(process.execPath, [
      BIN,
      '--set',
      `confdir=${confdirWithCa()}`,
      '--listen-host',
      '127.0.0.1',
      '--mode',
      'regular@0',
      '--mode',
      'socks5@0',
      '--mode',
      'reverse:https://example.com@0',
      '--mode',
      'upstream:http://127.0.0.1:3128@0',
      '--mode',
      'dns@0',
    ]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not all listeners started:\n${out}`)), 30_000);
        child.stdout.on('data', () => {
          if ((out.match(/ listening at /g) ?? []).length === 5) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const lines = out
        .split('\n')
        .filter((l) => l.includes(' listening at '))
        .map((l) => l.replace(/:\d+\.$/, ''));
      expect(lines).toEqual([
        'HTTP(S) proxy listening at 127.0.0.1',
        'SOCKS v5 proxy listening at 127.0.0.1',
        'Reverse proxy to https://example.com listening at 127.0.0.1',
        'HTTP(S) proxy (upstream mode) listening at 127.0.0.1',
        'DNS server listening at 127.0.0.1',
      ]);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
