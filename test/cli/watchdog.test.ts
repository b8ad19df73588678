import { connect } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CertStore } from '../../core/dist/certs/index.js';
import { listeningPort, mitmts, proxyRoundTrip, tempDir, type Child } from '../helpers/process.js';

const SCRIPT = join(import.meta.dirname, '../fixtures/watchdog/slowaddon.ts');
const BLOCKED = /\[error\] addon slowaddon: hook request has blocked the event loop for \d+\.\d s/g;

// The CA is made beforehand: generating its key blocks the event loop too (a second or more on a
// loaded machine), which the watchdog would rightly report.
let confdir = '';
beforeAll(async () => {
  confdir = tempDir();
  await CertStore.fromConfdir(confdir);
}, 90_000);

function start(extra: string[] = []): Child {
  return mitmts(['--set', `confdir=${confdir}`, '-p', '0', '-s', SCRIPT, '--set', 'hook_watchdog=1', ...extra]);
}

describe('hook watchdog (hook_watchdog=1, a real script addon)', { timeout: 90_000 }, () => {
  it('leaves an awaiting hook alone, reports a blocking one by addon and hook, and SIGTERM ends a stuck process', async () => {
    const child = start();
    try {
      const port = await listeningPort(child);
      // Waits 2.5 s without blocking: served, nothing reported.
      expect(await proxyRoundTrip(port, '/await')).toMatch(/^HTTP\/1\.1 502 /);
      expect(child.all).not.toMatch(/blocked the event loop/);
      // Blocks 1.5 s: reported while blocked, then how long it lasted; the request is served.
      expect(await proxyRoundTrip(port, '/busy')).toMatch(/^HTTP\/1\.1 502 /);
      // (stderr and the proxied response travel apart: wait for the report rather than assume it)
      await child.waitFor(new RegExp(BLOCKED.source));
      await child.waitFor(
        /\[warn\] addon slowaddon: hook request blocked the event loop for 1\.\d s \(see hook_watchdog\)\./,
      );
      // Never returns: reported, and SIGTERM still ends the process.
      const before = child.mark();
      void proxyRoundTrip(port, '/spin');
      await child.waitFor(
        /blocked the event loop for \d\.\d s: nothing else runs until it returns \(a synchronous loop\?\)\. SIGTERM and SIGINT still stop the process\./,
        before,
      );
      expect(child.all.match(BLOCKED)).toHaveLength(2);
      child.proc.kill('SIGTERM');
      expect(await child.exited).toEqual({ code: null, signal: 'SIGTERM' });
      expect(child.err).toMatch(
        /\[error\] SIGTERM while the event loop is blocked: exiting without the usual shutdown\.\n$/,
      );
    } finally {
      await child.stop();
    }
  });

  it('SIGINT sent while the hook blocks, before the report, ends the process at the limit', async () => {
    const child = start(['--set', 'termlog_verbosity=debug']);
    try {
      const port = await listeningPort(child);
      // The worker starts with the kernel; until it holds its own signal handlers, a signal to a
      // blocked process waits for the main thread like before.
      await child.waitFor(/Hook watchdog: SIGTERM and SIGINT are guarded\./);
      void proxyRoundTrip(port, '/spin');
      await child.waitFor(/^spinning$/m);
      child.proc.kill('SIGINT');
      expect(await child.exited).toEqual({ code: null, signal: 'SIGINT' });
      expect(child.err).toMatch(BLOCKED);
      expect(child.err).toMatch(/SIGINT while the event loop is blocked/);
    } finally {
      await child.stop();
    }
  });
});

/** POST `body` to a closed port through the proxy (it answers 502); resolves with the status line. */
function post(port: number, body: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () =>
      s.write(
        `POST http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      ),
    );
    let data = '';
    s.on('data', (d: Buffer) => (data += d.toString('latin1')));
    s.on('close', () => resolve(data.split('\r\n')[0]!));
    s.on('error', () => undefined);
  });
}

describe('hook watchdog, lazily (the default build only)', { timeout: 90_000 }, () => {
  it('no watchdog thread for the default addons; a block in one of them is reported afterwards and starts it', async () => {
    // modify_body runs its regex on V8's engine: (a+)+$ on "aaa...!" backtracks for seconds.
    const child = mitmts([
      '--set',
      `confdir=${confdir}`,
      '-p',
      '0',
      '--set',
      'hook_watchdog=1',
      '--set',
      'termlog_verbosity=debug',
      '--set',
      'modify_body=/~q/(a+)+$/x',
    ]);
    try {
      const port = await listeningPort(child);
      expect(await proxyRoundTrip(port, '/fast')).toMatch(/^HTTP\/1\.1 502 /);
      expect(child.all).not.toMatch(/SIGTERM and SIGINT are guarded/);
      expect(await post(port, `${'a'.repeat(26)}!`)).toMatch(/^HTTP\/1\.1 502 /);
      await child.waitFor(
        /\[warn\] The event loop was blocked for \d+\.\d s \(the last addon hook called: addon \w+: hook request\) \(see hook_watchdog\); the watchdog thread watches from now on\./,
      );
      await child.waitFor(/Hook watchdog: SIGTERM and SIGINT are guarded\./);
    } finally {
      await child.stop();
    }
  });
});
