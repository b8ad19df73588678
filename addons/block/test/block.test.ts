import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type Client } from '@mitmts/sdk';
import { tclientConn } from '@mitmts/sdk/testing';
import { requestVia, startOrigin, withAddon, withAddons, type Origin } from '@mitmts/sdk/testing';
import { Block } from '@mitmts/addon-block';

function client(host: string, mode = 'regular'): Client {
  const c = tclientConn();
  c.peername = [host, 54321];
  c.proxyMode = mode;
  return c;
}

async function verdict(
  options: Record<string, unknown>,
  host: string,
  mode?: string,
): Promise<{ error: string | null; warnings: string[] }> {
  const tctx = await withAddons([Block], options);
  const c = client(host, mode);
  await tctx.trigger('client_connected', c);
  return { error: c.error, warnings: tctx.messages('warn') };
}

// mitmproxy's own test table (test_block.py), plus IPv6 private and shared-space cases.
const CASES: Array<[boolean, boolean, boolean, string]> = [
  [true, false, false, '127.0.0.1'],
  [true, false, false, '::1'],
  [true, false, false, '10.0.0.1'],
  [true, false, false, '172.20.0.1'],
  [true, false, false, '192.168.1.1'],
  [true, false, false, '::ffff:10.0.0.1'],
  [true, false, false, '::ffff:172.20.0.1'],
  [true, false, false, '::ffff:192.168.1.1'],
  [true, false, false, 'fe80::'],
  [true, false, false, 'fe80::1%eth0'],
  [true, false, true, '1.1.1.1'],
  [true, false, true, '8.8.8.8'],
  [true, false, true, '216.58.207.174'],
  [true, false, true, '::ffff:1.1.1.1'],
  [true, false, true, '::ffff:8.8.8.8'],
  [true, false, true, '::ffff:216.58.207.174'],
  [true, false, true, '2001:4860:4860::8888'],
  [true, false, false, '100.64.0.1'],
  [false, true, false, '127.0.0.1'],
  [false, true, false, '::1'],
  [false, true, false, '::ffff:127.0.0.1'],
  [false, true, true, '10.0.0.1'],
  [false, true, true, '172.20.0.1'],
  [false, true, true, '192.168.1.1'],
  [false, true, true, '::ffff:10.0.0.1'],
  [false, true, true, '::ffff:172.20.0.1'],
  [false, true, true, '::ffff:192.168.1.1'],
  [false, true, true, 'fe80::'],
  [false, true, true, 'fd00::2'],
  [false, true, false, '1.1.1.1'],
  [false, true, false, '8.8.8.8'],
  [false, true, false, '216.58.207.174'],
  [false, true, false, '::ffff:1.1.1.1'],
  [false, true, false, '::ffff:8.8.8.8'],
  [false, true, false, '::ffff:216.58.207.174'],
  [false, true, false, '2001:4860:4860::8888'],
  [false, true, false, '100.64.0.1'],
];

describe('block', () => {
  it.each(CASES)(
    'block_global=%s block_private=%s: killed=%s for %s',
    async (blockGlobal, blockPrivate, killed, host) => {
      const { error, warnings } = await verdict({ block_global: blockGlobal, block_private: blockPrivate }, host);
      if (killed) {
        const which = blockGlobal ? 'block_global' : 'block_private';
        expect(error).toBe(`Connection killed by ${which}.`);
        expect(warnings).toEqual([`Client connection from ${host} killed by ${which} option.`]);
      } else {
        expect(error).toBeNull();
        expect(warnings).toEqual([]);
      }
    },
  );

  it('declares the options with mitmproxy defaults', async () => {
    const tctx = await withAddon(Block);
    expect(tctx.kernel.options.get('block_global')).toBe(true);
    expect(tctx.kernel.options.get('block_private')).toBe(false);
  });

  it('does nothing with both options off', async () => {
    expect((await verdict({ block_global: false }, '8.8.8.8')).error).toBeNull();
  });

  it('never refuses local-mode clients', async () => {
    expect((await verdict({ block_private: true }, '10.0.0.1', 'local')).error).toBeNull();
  });

  it('leaves clients without an IP address alone', async () => {
    const { error } = await verdict({ block_private: true }, 'not-an-ip');
    expect(error).toBeNull();
  });
});

/** This machine's first non-loopback IPv4 address, if it has one that is private. */
function privateAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

describe('block through a running proxy', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await startOrigin((_req, res) => res.end('ok'));
  });
  afterAll(() => origin.close());

  async function get(proxyHost: string, proxyPort: number, localAddress?: string): Promise<string> {
    const r = await requestVia(
      { host: proxyHost, port: proxyPort },
      `${origin.url}/`,
      localAddress ? { localAddress } : {},
    );
    return `${r.status} ${r.text}`;
  }

  it('serves loopback clients even with both options on', async () => {
    const proxy = await createProxy({ addons: [Block], options: { block_private: true, block_global: true } });
    try {
      expect(await get(proxy.host, proxy.port)).toBe('200 ok');
    } finally {
      await proxy.close();
    }
  });

  const lan = privateAddress();
  it.runIf(lan !== undefined)(
    'closes the connection of a client from a private address when block_private is set',
    async () => {
      const proxy = await createProxy({ addons: [Block], listenHost: '0.0.0.0', options: { block_private: true } });
      try {
        // The client talks to the proxy from this machine's LAN address, not from loopback.
        const raw = await new Promise<string>((resolve) => {
          const s = connect({ host: lan!, port: proxy.port, localAddress: lan! }, () =>
            s.write(`GET ${origin.url}/ HTTP/1.1\r\nhost: x\r\n\r\n`),
          );
          let got = '';
          s.on('data', (d: Buffer) => (got += d));
          s.on('close', () => resolve(got));
          s.on('error', () => undefined);
        });
        expect(raw).toBe('');
        expect(
          proxy.logs.some(
            (e) => e.level === 'warn' && e.message === `Client connection from ${lan} killed by block_private option.`,
          ),
        ).toBe(true);
        // The same client is served once the option is off again.
        proxy.kernel.options.update({ block_private: false });
        expect(await get(lan!, proxy.port, lan)).toBe('200 ok');
      } finally {
        await proxy.close();
      }
    },
  );
});
