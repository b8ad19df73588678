/**
 * The SOCKS5 server codec against curl over loopback, through a test-only adapter (codec +
 * net.connect to the target): --socks5 (IPv4 target), --socks5-hostname (domain target), with
 * and without credentials. The socks5 mode of the runtime comes with the connection seams.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type Socks5Error, Socks5Reply, Socks5ServerHandshake } from '../../src/proxy/socks5/index.js';
import { canInstall, installDebianPackages, which } from '../../../scripts/debian.mjs';

const run = promisify(execFile);
const closers: Array<() => void> = [];
afterEach(() => {
  while (closers.length) closers.pop()!();
});

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

/** A SOCKS5 server from the codec; `names` maps domain names to addresses (no DNS in tests). */
async function socksServer(credentials: { username: string; password: string } | null, names: Record<string, string>) {
  const log: string[] = [];
  const targets: string[] = [];
  const server = net.createServer((client) => {
    const hs = new Socks5ServerHandshake({ requireAuth: credentials !== null });
    const fail = (e: Socks5Error, out: Buffer | null) => {
      log.push(e.message);
      if (out) client.end(out);
      else client.destroy();
    };
    const onData = (chunk: Buffer) => {
      let p = hs.push(chunk);
      if (p.output) client.write(p.output);
      if (p.event?.kind === 'credentials') {
        const ok = p.event.username === credentials!.username && p.event.password === credentials!.password;
        p = hs.answerCredentials(ok);
        if (p.output && p.event?.kind !== 'failed') client.write(p.output);
      }
      if (p.event?.kind === 'failed') return fail(p.event.error, p.output);
      if (p.event?.kind !== 'connect') return;
      client.off('data', onData);
      const { host, port, type } = p.event.target;
      targets.push(`${type} ${host}:${port}`);
      const upstream = net.connect(port, names[host] ?? host);
      upstream.once('connect', () => {
        client.write(
          hs.answerConnect(Socks5Reply.SUCCEEDED, { host: upstream.localAddress!, port: upstream.localPort! }),
        );
        const rest = hs.takeRemaining();
        if (rest.length) upstream.write(rest);
        client.pipe(upstream).pipe(client);
      });
      upstream.once('error', () => client.end(hs.answerConnect(Socks5Reply.CONNECTION_REFUSED)));
    };
    client.on('data', onData);
    client.on('error', () => undefined);
  });
  return { port: await listen(server), log, targets };
}

function curlOrSkip(): string | null {
  if (which('curl')) return null;
  if (!canInstall()) return 'curl is missing and this process cannot install Debian packages';
  return installDebianPackages(['curl']);
}

describe('SOCKS5 codec with curl', () => {
  async function origin(): Promise<number> {
    const server = http.createServer((req, res) => res.end(`hello from ${req.headers.host}`));
    return listen(server);
  }

  it('--socks5 (IPv4 target) and --socks5-hostname (domain target) without authentication', async (ctx) => {
    const why = curlOrSkip();
    if (why) return ctx.skip(why);
    const port = await origin();
    const socks = await socksServer(null, { 'origin.test': '127.0.0.1' });
    const a = await run('curl', ['-sS', '--socks5', `127.0.0.1:${socks.port}`, `http://127.0.0.1:${port}/`]);
    expect(a.stdout).toBe(`hello from 127.0.0.1:${port}`);
    const b = await run('curl', ['-sS', '--socks5-hostname', `127.0.0.1:${socks.port}`, `http://origin.test:${port}/`]);
    expect(b.stdout).toBe(`hello from origin.test:${port}`);
    expect(socks.targets).toEqual([`ipv4 127.0.0.1:${port}`, `domain origin.test:${port}`]);
  });

  it('username/password: the right ones pass, wrong ones and none are refused with a logged reason', async (ctx) => {
    const why = curlOrSkip();
    if (why) return ctx.skip(why);
    const port = await origin();
    const socks = await socksServer({ username: 'alice', password: 's3cret' }, { 'origin.test': '127.0.0.1' });
    const ok = await run('curl', [
      '-sS',
      '--socks5-hostname',
      `127.0.0.1:${socks.port}`,
      '--proxy-user',
      'alice:s3cret',
      `http://origin.test:${port}/`,
    ]);
    expect(ok.stdout).toBe(`hello from origin.test:${port}`);
    await expect(
      run('curl', [
        '-sS',
        '--socks5-hostname',
        `127.0.0.1:${socks.port}`,
        '--proxy-user',
        'alice:wrong',
        `http://origin.test:${port}/`,
      ]),
    ).rejects.toThrow(/authentication|User was rejected|SOCKS5/i);
    await expect(
      run('curl', ['-sS', '--socks5-hostname', `127.0.0.1:${socks.port}`, `http://origin.test:${port}/`]),
    ).rejects.toThrow(/SOCKS5|authentication|No authentication method/i);
    expect(socks.log).toEqual([
      'SOCKS5 authentication failed: wrong username or password.',
      expect.stringMatching(
        /^SOCKS5 client offers no acceptable authentication method \(offered: no authentication(, GSSAPI)?\); this proxy requires username\/password/,
      ), // curl offers GSSAPI too
    ]);
  });

  it('an HTTP proxy client at the SOCKS5 listener is refused with a clear reason', async (ctx) => {
    const why = curlOrSkip();
    if (why) return ctx.skip(why);
    const socks = await socksServer(null, {});
    await expect(
      run('curl', ['-sS', '--max-time', '5', '--proxy', `http://127.0.0.1:${socks.port}`, 'http://example.test/']),
    ).rejects.toThrow();
    expect(socks.log[0]).toMatch(/^An HTTP request \("GET"\) arrived at a SOCKS5 listener/);
  });
});
