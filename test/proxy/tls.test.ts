import { cpSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { ProxyAgent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Cert,
  createProxy,
  type ClientHelloData,
  type EmbeddedProxy,
  type HTTPFlow,
  type TCPFlow,
  type TlsData,
} from '@mitmts/sdk';
import { curl, httpsServer, tcpServer, testCa, type Upstream } from '../helpers/servers.js';

const FIXTURE_CA = join(import.meta.dirname, '../fixtures/mitmproxy-ca');

/** CONNECT through the proxy, then TLS with the given CA; resolves with the TLS socket. */
function connectTls(
  proxyPort: number,
  host: string,
  port: number,
  ca: string | Buffer,
  servername = host,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: `${host}:${port}` });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) return reject(new Error(`CONNECT answered ${res.statusCode}`));
      const t = tls.connect(
        { socket, ca, servername: net.isIP(servername) ? undefined : servername, ...(net.isIP(host) ? { host } : {}) },
        () => resolve(t),
      );
      t.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One HTTP/1.1 GET over an established TLS socket. */
function getOver(t: tls.TLSSocket, host: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    t.on('data', (d: Buffer) => (out += d));
    t.on('end', () => resolve(out));
    t.on('error', reject);
    t.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  });
}

let up: Upstream & { ca: { caCertPath: string } };
let proxy: EmbeddedProxy;
const tlsEvents: string[] = [];
const flows: HTTPFlow[] = [];

beforeAll(async () => {
  up = await httpsServer(
    (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`secure ${req.url}`);
    },
    ['localhost', '127.0.0.1', 'alt.test'],
  );
  proxy = await createProxy({
    options: { ssl_verify_upstream_trusted_ca: up.ca.caCertPath },
    addons: [
      {
        name: 'tlswatch',
        tls_clienthello: (d: ClientHelloData) => void tlsEvents.push(`clienthello ${d.clientHello.sni}`),
        tls_start_server: () => void tlsEvents.push('start_server'),
        tls_established_server: (d: TlsData) => void tlsEvents.push(`established_server ${d.conn.tlsVersion}`),
        tls_start_client: () => void tlsEvents.push('start_client'),
        tls_established_client: (d: TlsData) => void tlsEvents.push(`established_client ${d.conn.sni}`),
        tls_failed_client: () => void tlsEvents.push('failed_client'),
        response: (f: HTTPFlow) => void flows.push(f),
      },
    ],
  });
});

afterAll(async () => {
  await proxy?.close();
  await up?.close();
});

describe('TLS interception', () => {
  it('creates the CA files as mitmproxy does, private keys 0600', () => {
    for (const f of [
      'mitmproxy-ca.pem',
      'mitmproxy-ca-cert.pem',
      'mitmproxy-ca-cert.cer',
      'mitmproxy-ca.p12',
      'mitmproxy-ca-cert.p12',
      'mitmproxy-dhparam.pem',
    ]) {
      expect(statSync(join(proxy.confdir, f)).isFile()).toBe(true);
    }
    expect(statSync(join(proxy.confdir, 'mitmproxy-ca.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(proxy.confdir, 'mitmproxy-ca.p12')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(proxy.confdir, 'mitmproxy-ca.pem'), 'latin1')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
  });

  it('intercepts curl over HTTPS, verified against our CA (no -k), with hooks in order', async () => {
    tlsEvents.length = 0;
    const r = await curl(['-i', '--cacert', proxy.caCertPath, '-x', proxy.url, `${up.url}/curl`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^HTTP\/1\.1 200 Connection established\r\n\r\nHTTP\/1\.1 200 OK/);
    expect(r.stdout.endsWith('secure /curl')).toBe(true);
    expect(tlsEvents).toEqual([
      'clienthello localhost',
      'start_server',
      'established_server TLSv1.3',
      'start_client',
      'established_client localhost',
    ]);
    const f = flows.find((x) => x.request.path === '/curl')!;
    expect(f.request.scheme).toBe('https');
    expect(f.request.url).toBe(`https://localhost:${up.port}/curl`);
    expect(f.clientConn.tls).toBe(true);
    expect(f.clientConn.sni).toBe('localhost');
    expect(f.clientConn.alpn?.toString()).toBe('http/1.1');
    expect(f.serverConn.tls).toBe(true);
    expect(f.serverConn.certificateList[0]!.altnames).toContain('alt.test');
  });

  it('copies the upstream certificate names into the leaf (upstream_cert)', async () => {
    const t = await connectTls(proxy.port, 'localhost', up.port, readFileSync(proxy.caCertPath));
    const leaf = new Cert(t.getPeerX509Certificate()!.raw);
    expect(leaf.altnames).toEqual(expect.arrayContaining(['localhost', '127.0.0.1', 'alt.test']));
    expect(leaf.issuer).toContainEqual(['CN', 'mitmproxy']);
    expect(await getOver(t, 'localhost', '/node')).toContain('secure /node');
  });

  it('issues IP SANs for an IP address target without SNI', async () => {
    const t = await connectTls(proxy.port, '127.0.0.1', up.port, readFileSync(proxy.caCertPath));
    const leaf = new Cert(t.getPeerX509Certificate()!.raw);
    expect(leaf.altnames).toContain('127.0.0.1');
    expect(await getOver(t, '127.0.0.1', '/ip')).toContain('secure /ip');
  });

  it("works with Node's https through CONNECT", async () => {
    const https = await import('node:https');
    const body = await new Promise<string>((resolve, reject) => {
      const connectReq = http.request({
        host: '127.0.0.1',
        port: proxy.port,
        method: 'CONNECT',
        path: `localhost:${up.port}`,
      });
      connectReq.on('connect', (_res, socket) => {
        const req = https.request(
          {
            host: 'localhost',
            port: up.port,
            path: '/node-https',
            ca: readFileSync(proxy.caCertPath),
            createConnection: () =>
              tls.connect({ socket, servername: 'localhost', ca: readFileSync(proxy.caCertPath) }),
          },
          (res) => {
            let out = '';
            res.on('data', (d: Buffer) => (out += d));
            res.on('end', () => resolve(`${res.statusCode} ${out}`));
          },
        );
        req.on('error', reject);
        req.end();
      });
      connectReq.on('error', reject);
      connectReq.end();
    });
    expect(body).toBe('200 secure /node-https');
  });

  it("works with Python's urllib (HTTP and HTTPS through the proxy, our CA)", async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const script = [
      'import ssl, sys, urllib.request',
      'ctx = ssl.create_default_context(cafile=sys.argv[2])',
      "opener = urllib.request.build_opener(urllib.request.ProxyHandler({'http': sys.argv[1], 'https': sys.argv[1]}), urllib.request.HTTPSHandler(context=ctx))",
      'print(opener.open(sys.argv[3]).read().decode())',
    ].join('\n');
    // Async: the proxy runs in this process and must keep serving while Python waits.
    const { stdout } = await promisify(execFile)(
      'python3',
      ['-c', script, proxy.url, proxy.caCertPath, `${up.url}/python`],
      { encoding: 'utf8' },
    );
    expect(stdout.trim()).toBe('secure /python');
  });

  it("works with undici's ProxyAgent", async () => {
    const agent = new ProxyAgent({ uri: proxy.url, requestTls: { ca: readFileSync(proxy.caCertPath, 'latin1') } });
    try {
      const res = await fetch(`${up.url}/undici`, { dispatcher: agent });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('secure /undici');
    } finally {
      await agent.close();
    }
  });

  it('says how to install the CA when a client does not trust it', async () => {
    const r = await curl(['-x', proxy.url, `${up.url}/untrusted`]);
    expect(r.code).toBe(60);
    await new Promise((res) => setTimeout(res, 100));
    const line = proxy.logs.find((e) => e.message.includes('does not trust'))!;
    expect(line.level).toBe('warn');
    expect(line.message).toContain(`does not trust the proxy's certificate for localhost (TLS alert 48 unknown_ca)`);
    expect(line.message).toContain(proxy.caCertPath);
    expect(tlsEvents).toContain('failed_client');
  });

  it('verifies upstream certificates by default and explains the failure in a 502', async () => {
    const p = await createProxy();
    try {
      const r = await curl(['-i', '--cacert', p.caCertPath, '-x', p.url, `${up.url}/verify`]);
      // curl offers h2; without a server to follow, the client gets HTTP/2
      expect(r.stdout).toMatch(/^HTTP\/2 502 /m);
      expect(r.stdout).toContain('certificate verify failed');
      const k = await createProxy({ options: { ssl_insecure: true } });
      try {
        expect((await curl(['--cacert', k.caCertPath, '-x', k.url, `${up.url}/insecure`])).stdout).toBe(
          'secure /insecure',
        );
      } finally {
        await k.close();
      }
    } finally {
      await p.close();
    }
  });

  it('trusts the CAs of ssl_verify_upstream_trusted_confdir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-trusted-'));
    cpSync(up.ca.caCertPath, join(dir, 'upstream.pem'));
    const p = await createProxy({ options: { ssl_verify_upstream_trusted_confdir: dir } });
    try {
      expect((await curl(['--cacert', p.caCertPath, '-x', p.url, `${up.url}/trusted-dir`])).stdout).toBe(
        'secure /trusted-dir',
      );
    } finally {
      await p.close();
    }
  });

  it('keeps using an existing mitmproxy CA from the confdir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-existing-'));
    cpSync(FIXTURE_CA, dir, { recursive: true });
    const before = readFileSync(join(dir, 'mitmproxy-ca.pem'), 'latin1');
    const p = await createProxy({ confdir: dir, options: { ssl_insecure: true } });
    try {
      const r = await curl(['--cacert', join(FIXTURE_CA, 'mitmproxy-ca-cert.pem'), '-x', p.url, `${up.url}/existing`]);
      expect(r.stdout).toBe('secure /existing');
      expect(readFileSync(join(dir, 'mitmproxy-ca.pem'), 'latin1')).toBe(before);
    } finally {
      await p.close();
    }
  });

  it('passes ignore_hosts through untouched: the client sees the real server certificate', async () => {
    const p = await createProxy({ options: { ignore_hosts: ['^localhost:'] } });
    try {
      const ca = await testCa();
      const r = await curl(['--cacert', ca.caCertPath, '-x', p.url, `${up.url}/passthrough`]);
      expect(r.stdout).toBe('secure /passthrough');
      expect(
        p.flows.all().filter((f) => f.type === 'http' && (f as HTTPFlow).request.method !== 'CONNECT'),
      ).toHaveLength(0);
    } finally {
      await p.close();
    }
  });

  it('intercepts only allow_hosts: other hosts pass through untouched', async () => {
    const p = await createProxy({
      options: { allow_hosts: ['^127\\.0\\.0\\.1:'], ssl_verify_upstream_trusted_ca: up.ca.caCertPath },
    });
    try {
      const ca = await testCa();
      // localhost is not allowed: passed through, the client verifies the real server certificate.
      const passed = await curl(['--cacert', ca.caCertPath, '-x', p.url, `${up.url}/not-allowed`]);
      expect(passed.stdout).toBe('secure /not-allowed');
      // 127.0.0.1 is allowed: intercepted, the client must trust the proxy's CA.
      const intercepted = await curl(['--cacert', p.caCertPath, '-x', p.url, `https://127.0.0.1:${up.port}/allowed`]);
      expect(intercepted.stdout).toBe('secure /allowed');
      const paths = p.flows
        .all()
        .filter((f): f is HTTPFlow => f.type === 'http')
        .map((f) => f.request.path);
      expect(paths).toContain('/allowed');
      expect(paths).not.toContain('/not-allowed');
    } finally {
      await p.close();
    }
  });

  it('answers 502 inside the tunnel when an HTTPS server never answers (tcp_timeout)', async () => {
    const silent = await httpsServer(() => undefined);
    const p = await createProxy({ options: { tcp_timeout: 1, ssl_verify_upstream_trusted_ca: silent.ca.caCertPath } });
    try {
      const r = await curl([
        '--cacert',
        p.caCertPath,
        '-x',
        p.url,
        '-s',
        '-w',
        '\n%{http_code}',
        `${silent.url}/silent`,
      ]);
      expect(r.stdout).toMatch(/no data for 1 s \(tcp_timeout\)[\s\S]*\n502$/);
      const f = p.flows
        .all()
        .find((x): x is HTTPFlow => x.type === 'http' && (x as HTTPFlow).request.path === '/silent');
      expect(f?.error?.msg).toBe('Server connection lost: no data for 1 s (tcp_timeout)');
    } finally {
      silent.server.closeAllConnections();
      await p.close();
      await silent.close();
    }
  });

  it('lets tls_clienthello ignore a connection', async () => {
    const p = await createProxy({
      addons: [{ name: 'ign', tls_clienthello: (d: ClientHelloData) => void (d.ignoreConnection = true) }],
    });
    try {
      const ca = await testCa();
      expect((await curl(['--cacert', ca.caCertPath, '-x', p.url, `${up.url}/hello-ignore`])).stdout).toBe(
        'secure /hello-ignore',
      );
    } finally {
      await p.close();
    }
  });

  it('relays tcp_hosts as raw TCP with tcp hooks', async () => {
    const echo = await tcpServer((s) => s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d]))));
    const seen: string[] = [];
    const p = await createProxy({
      options: { tcp_hosts: ['.*'] },
      addons: [
        {
          name: 'tcp',
          tcp_start: () => void seen.push('start'),
          tcp_message: (f: TCPFlow) => {
            const m = f.messages.at(-1)!;
            seen.push(`${m.fromClient ? '>' : '<'} ${m.content.toString()}`);
            if (m.fromClient) m.content = Buffer.from(m.content.toString().toUpperCase());
          },
          tcp_end: () => void seen.push('end'),
        },
      ],
    });
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port: p.port,
          method: 'CONNECT',
          path: `127.0.0.1:${echo.port}`,
        });
        req.on('connect', (_res, socket) => {
          socket.write('ping');
          socket.once('data', (d: Buffer) => {
            resolve(d.toString());
            socket.destroy();
          });
        });
        req.on('error', reject);
        req.end();
      });
      expect(reply).toBe('echo:PING');
      await vi.waitFor(() => expect(seen).toEqual(['start', '> ping', '< echo:PING', 'end']));
    } finally {
      await p.close();
      await echo.close();
    }
  });

  it('gives new hosts in parallel each their own leaf (ECDSA P-256, signed by the CA), verified by the clients', async () => {
    const ca = readFileSync(proxy.caCertPath);
    const names = ['p1.par.test', 'p2.par.test', 'p3.par.test', 'p4.par.test', 'p5.par.test'];
    for (let round = 0; round < 3; round++) {
      const sockets = await Promise.all(names.map((n) => connectTls(proxy.port, 'localhost', up.port, ca, n)));
      const leaves = sockets.map((t) => new Cert(t.getPeerX509Certificate()!.raw));
      expect(leaves.map((l, i) => l.altnames.includes(names[i]!))).toEqual(names.map(() => true));
      for (const l of leaves) {
        expect(l.keyinfo).toEqual(['EC', 256]);
        expect(l.issuer).toContainEqual(['CN', 'mitmproxy']);
      }
      for (const t of sockets) t.destroy();
    }
  });

  it("issues leaves with the CA's own RSA key pair under leaf_key=ca (as mitmproxy)", async () => {
    const p = await createProxy({ options: { leaf_key: 'ca', ssl_insecure: true } });
    try {
      const t = await connectTls(p.port, 'localhost', up.port, readFileSync(p.caCertPath), 'rsa-leaf.test');
      const leaf = new Cert(t.getPeerX509Certificate()!.raw);
      t.destroy();
      const ca = new Cert(readFileSync(p.caCertPath));
      expect(leaf.keyinfo).toEqual(['RSA', 2048]);
      expect(leaf.x509.publicKey.equals(ca.x509.publicKey)).toBe(true);
      expect(leaf.x509.verify(ca.x509.publicKey)).toBe(true);
    } finally {
      await p.close();
    }
  });

  it('resumes the TLS sessions of returning clients', async () => {
    const ca = readFileSync(proxy.caCertPath);
    let session: Buffer | undefined;
    const reused: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const t = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port: proxy.port,
          method: 'CONNECT',
          path: `localhost:${up.port}`,
        });
        req.on('connect', (_res, socket) => {
          const s = tls.connect({ socket, ca, servername: 'localhost', ...(session ? { session } : {}) }, () =>
            resolve(s),
          );
          s.on('session', (x: Buffer) => (session = x));
          s.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      expect(await getOver(t, 'localhost', '/resume')).toContain('secure /resume');
      reused.push(t.isSessionReused());
    }
    expect(reused).toEqual([false, true, true, true]);
  });

  it('presents the certificate and key an addon put into tls_start_client', async () => {
    const ca = await testCa();
    const own = ca.issue('addon-cert.test');
    const p = await createProxy({
      options: { ssl_insecure: true },
      addons: [
        {
          name: 'owncert',
          tls_start_client: (d: TlsData) => {
            if (d.conn.sni !== 'addon-cert.test') return;
            expect(d.settings.cert).toMatch(/^-----BEGIN CERTIFICATE-----/);
            expect(d.settings.key).toMatch(/PRIVATE KEY-----/);
            d.settings.cert = own.cert;
            d.settings.key = own.key;
          },
        },
      ],
    });
    try {
      const t = await connectTls(p.port, 'localhost', up.port, readFileSync(ca.caCertPath), 'addon-cert.test');
      const presented = new Cert(t.getPeerX509Certificate()!.raw);
      t.destroy();
      expect(presented.altnames).toEqual(['addon-cert.test']);
      expect(presented.issuer).toContainEqual(['CN', 'upstream']);
      // Other names still get the proxy's own leaves.
      const u = await connectTls(p.port, 'localhost', up.port, readFileSync(p.caCertPath), 'plain.test');
      const leaf = new Cert(u.getPeerX509Certificate()!.raw);
      u.destroy();
      expect(leaf.issuer).toContainEqual(['CN', 'mitmproxy']);
    } finally {
      await p.close();
    }
  });

  it('lets http_connect refuse a CONNECT', async () => {
    const { HTTPResponse } = await import('@mitmts/sdk');
    const p = await createProxy({
      addons: [{ name: 'no', http_connect: (f: HTTPFlow) => void (f.response = HTTPResponse.make(403, 'no tunnels')) }],
    });
    try {
      const r = await curl(['-i', '-x', p.url, `${up.url}/x`]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/403/);
    } finally {
      await p.close();
    }
  });
});
