import { describe, expect, it } from 'vitest';
import { exposureNotice } from '../../core/dist/cli/exposure.js';
import { listeningPort, mitmts, proxyRoundTrip, tempDir } from '../helpers/process.js';

const NOTICE = /\[warn\] The proxy at \S+ accepts clients from other machines and proxyauth is not set/;

/**
 * Start mitmts, and once it answered a request (so start-up, notice included, is over: the
 * notice follows `running`), check what it printed.
 */
async function stopAfter(args: string[], check: (out: string, port: number) => void): Promise<void> {
  const child = mitmts(['--set', `confdir=${tempDir()}`, '-p', '0', ...args]);
  try {
    const port = await listeningPort(child);
    expect(await proxyRoundTrip(port)).toMatch(/^HTTP\/1\.1 (502|407) /);
    check(child.all, port);
  } finally {
    await child.stop('SIGTERM');
  }
}

describe('mitmts listens on loopback unless told otherwise', () => {
  it('binds 127.0.0.1 by default, with no notice', async () => {
    await stopAfter([], (out, port) => {
      expect(out).toMatch(new RegExp(`proxy listening at 127\\.0\\.0\\.1:${port}\\.`));
      expect(out).not.toMatch(NOTICE);
    });
  });

  it('prints one notice when bound to every interface without proxyauth', async () => {
    await stopAfter(['--listen-host', '0.0.0.0'], (out, port) => {
      expect(out).toMatch(new RegExp(`The proxy at 0\\.0\\.0\\.0:${port} accepts clients from other machines`));
      expect(out.match(new RegExp(NOTICE, 'g'))).toHaveLength(1);
    });
  });

  it('prints no notice when proxyauth is set', async () => {
    await stopAfter(['--listen-host', '0.0.0.0', '--proxyauth', 'user:pass'], (out) => {
      expect(out).not.toMatch(NOTICE);
    });
  });
});

describe('exposureNotice', () => {
  it('names every listener reachable from outside, and none on loopback', () => {
    expect(
      exposureNotice(
        [
          { host: '127.0.0.1', port: 8080 },
          { host: '::1', port: 8080 },
        ],
        null,
      ),
    ).toBeNull();
    expect(
      exposureNotice(
        [
          { host: '*', port: 8080 },
          { host: '::', port: 8081 },
          { host: '127.0.0.1', port: 1 },
        ],
        null,
      ),
    ).toMatch(/^The proxy at \*:8080, \[::\]:8081 accepts/);
    expect(exposureNotice([{ host: '0.0.0.0', port: 8080 }], 'any')).toBeNull();
  });
});
