import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow, type Socks5AuthData, type TCPFlow } from '@mitmts/sdk';
import { ProxyAuth } from '@mitmts/addon-proxyauth';
import { confdirWithCa } from '../helpers/cli.js';
import { listenerPort } from '../helpers/modes.js';
import { curl, httpServer, httpsServer, tcpServer, type Upstream } from '../helpers/servers.js';

const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`${req.url} at ${req.socket.localAddress}`);
};

let plain: Upstream;
let v6: http.Server;
let v6port: number;
let secure: Upstream & { ca: { caCertPath: string } };
let greeter: Upstream;
/** socks5 without authentication, and a regular listener beside it. */
let proxy: EmbeddedProxy;
/** socks5 with proxyauth set. */
let authed: EmbeddedProxy;
const authCalls: Array<[string, boolean]> = [];

beforeAll(async () => {
  plain = await httpServer(handler);
  secure = await httpsServer(handler);
  v6 = http.createServer(handler);
  await new Promise<void>((r) => v6.listen(0, '::1', r));
  v6port = (v6.address() as net.AddressInfo).port;
  // A server that speaks first (as SMTP or SSH do): the tunnel relays it as TCP.
  greeter = await tcpServer((s) => {
    s.write('220 hello\r\n');
    s.on('data', (d: Buffer) => s.end(`250 got ${d.toString().trim()}\r\n`));
  });
  const options = { ssl_verify_upstream_trusted_ca: secure.ca.caCertPath, mode: ['socks5@0', 'regular@0'] };
  proxy = await createProxy({ confdir: confdirWithCa(), options });
  authed = await createProxy({
    confdir: confdirWithCa(),
    options: { ...options, proxyauth: 'bob:s3cret' },
    addons: [
      new ProxyAuth(),
      { name: 'authwatch', socks5_auth: (d: Socks5AuthData) => void authCalls.push([d.username, d.valid]) },
    ],
  });
});

afterAll(async () => {
  await proxy?.close();
  await authed?.close();
  await Promise.all([plain?.close(), secure?.close(), greeter?.close()]);
  await new Promise<void>((r) => v6.close(() => r()));
});

const socks = (p: EmbeddedProxy): string => `127.0.0.1:${listenerPort(p, 'socks5')}`;
const lastHttp = (p: EmbeddedProxy, path: string): HTTPFlow =>
  p.flows.all().find((f) => (f as HTTPFlow).request?.path === path) as HTTPFlow;

describe('socks5 mode without authentication', () => {
  it('logs the listener as mitmproxy does', () => {
    expect(proxy.logs.map((e) => e.message)).toContain(`SOCKS v5 proxy listening at ${socks(proxy)}.`);
  });

  it('curl --socks5-hostname: a domain target, HTTP recorded as a flow', async () => {
    const r = await curl(['--socks5-hostname', socks(proxy), `http://localhost:${plain.port}/domain`]);
    expect(r.stdout).toBe('/domain at 127.0.0.1');
    const f = lastHttp(proxy, '/domain');
    expect([f.request.host, f.request.port, f.request.scheme]).toEqual(['localhost', plain.port, 'http']);
    expect(f.clientConn.proxyMode).toBe('socks5@0');
  });

  it('curl --socks5: an IPv4 target', async () => {
    const r = await curl(['--socks5', socks(proxy), `http://localhost:${plain.port}/ipv4`]);
    expect(r.stdout).toBe('/ipv4 at 127.0.0.1');
    expect(lastHttp(proxy, '/ipv4').request.host).toBe('127.0.0.1');
  });

  it('curl --socks5: an IPv6 target', async () => {
    const r = await curl(['--socks5', socks(proxy), `http://[::1]:${v6port}/ipv6`]);
    expect(r.stdout).toBe('/ipv6 at ::1');
    expect(lastHttp(proxy, '/ipv6').serverConn.address).toEqual(['::1', v6port]);
  });

  it('HTTPS in the tunnel is intercepted as after CONNECT', async () => {
    const r = await curl(['--socks5-hostname', socks(proxy), '--cacert', proxy.caCertPath, `${secure.url}/tls`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/tls at 127.0.0.1');
    const f = lastHttp(proxy, '/tls');
    expect([f.request.scheme, f.clientConn.sni, f.serverConn.tls]).toEqual(['https', 'localhost', true]);
  });

  it('a server that speaks first is relayed as TCP with tcp_* flows', async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const s = net.connect(listenerPort(proxy, 'socks5'), '127.0.0.1');
      let out = '';
      let state = 0;
      s.on('data', (d: Buffer) => {
        if (state === 0) {
          state = 1; // 05 00: no authentication
          s.write(
            Buffer.concat([
              Buffer.from([5, 1, 0, 1, 127, 0, 0, 1]),
              Buffer.from([greeter.port >> 8, greeter.port & 0xff]),
            ]),
          );
        } else if (state === 1) {
          state = 2; // the reply; the greeting may follow in the same chunk
          out += d.subarray(10).toString();
        } else out += d.toString();
        if (out.startsWith('220 hello') && state === 2 && !out.includes('250')) s.write('EHLO me\r\n');
      });
      s.on('end', () => resolve(out));
      s.on('error', reject);
      s.write(Buffer.from([5, 1, 0]));
    });
    expect(got).toBe('220 hello\r\n250 got EHLO me\r\n');
    const f = (await proxy.flows.waitFor(
      (x) => x.type === 'tcp' && (x as TCPFlow).serverConn.address?.[1] === greeter.port && !x.live,
    )) as TCPFlow;
    expect(f.messages.map((m) => m.fromClient)).toEqual([false, true, false]);
  });

  it('a client that offers only username/password is refused (05 FF) with a logged reason', async () => {
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(listenerPort(proxy, 'socks5'), '127.0.0.1', () => s.write(Buffer.from([5, 1, 2])));
      const got: Buffer[] = [];
      s.on('data', (d: Buffer) => got.push(d));
      s.on('close', () => resolve(Buffer.concat(got)));
      s.on('error', reject);
    });
    expect([...answer]).toEqual([5, 0xff]);
    expect(proxy.logs.map((e) => e.message).join('\n')).toContain(
      'SOCKS5 client offers no acceptable authentication method (offered: username/password); this proxy accepts clients without authentication only',
    );
  });

  it('an unreachable target gets reply 05 (connection refused), logged', async () => {
    const r = await curl(['--socks5', socks(proxy), 'http://127.0.0.1:1/']);
    expect(r.code).toBe(97);
    expect(r.stderr).toMatch(/\(5\)|Connection refused/i);
    expect(proxy.logs.map((e) => e.message).join('\n')).toContain(
      'SOCKS5 CONNECT to 127.0.0.1:1 failed: Failed to connect to 127.0.0.1:1: connection refused (ECONNREFUSED)',
    );
  });

  it('an HTTP proxy client at the SOCKS5 listener is told what to use', async () => {
    const r = await curl(['-x', `http://${socks(proxy)}`, `http://localhost:${plain.port}/wrong-kind`]);
    expect(r.code).not.toBe(0);
    expect(proxy.logs.map((e) => e.message).join('\n')).toMatch(
      /An HTTP request \("GET"\) arrived at a SOCKS5 listener\. Use an HTTP proxy listener \(mode regular\)/,
    );
  });

  it('counts the connections of every listener in proxyserver.active_connections', async () => {
    const a = net.connect(listenerPort(proxy, 'socks5'), '127.0.0.1');
    const b = net.connect(listenerPort(proxy, 'regular'), '127.0.0.1');
    await Promise.all([a, b].map((s) => new Promise((r) => s.once('connect', r))));
    const count = async (): Promise<number> =>
      (await proxy.kernel.commands.call('proxyserver.active_connections')) as number;
    for (let i = 0; i < 100 && (await count()) < 2; i++) await new Promise((r) => setImmediate(r));
    expect(await count()).toBe(2);
    a.destroy();
    b.destroy();
  });
});

describe('socks5 mode with proxyauth (username/password, socks5_auth)', () => {
  it('right credentials: through, and the requests in the connection carry them', async () => {
    const r = await curl([
      '--socks5-hostname',
      socks(authed),
      '--proxy-user',
      'bob:s3cret',
      `http://localhost:${plain.port}/authed`,
    ]);
    expect(r.stdout).toBe('/authed at 127.0.0.1');
    expect(lastHttp(authed, '/authed').metadata.proxyauth).toEqual(['bob', 's3cret']);
    expect(authCalls).toContainEqual(['bob', true]);
  });

  it('wrong credentials: refused, and the log says why and for which user', async () => {
    const r = await curl([
      '--socks5-hostname',
      socks(authed),
      '--proxy-user',
      'bob:wrong',
      `http://localhost:${plain.port}/denied`,
    ]);
    expect(r.code).toBe(97);
    expect(authed.logs.map((e) => e.message).join('\n')).toContain(
      'SOCKS5 authentication failed: wrong username or password. (user "bob")',
    );
    expect(lastHttp(authed, '/denied')).toBeUndefined();
  });

  it('no credentials: refused, and the log says how to give them', async () => {
    const r = await curl(['--socks5-hostname', socks(authed), `http://localhost:${plain.port}/anon`]);
    expect(r.code).toBe(97);
    expect(authed.logs.map((e) => e.message).join('\n')).toContain(
      'this proxy requires username/password authentication (proxyauth is set)',
    );
  });
});
