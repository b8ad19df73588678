import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow, type TCPFlow } from '@mitmts/sdk';
import { confdirWithCa } from '../helpers/cli.js';
import { listenerPort } from '../helpers/modes.js';
import { curl, httpServer, httpsServer, rawExchange, tcpServer, type Upstream } from '../helpers/servers.js';

/** What the target servers saw. */
const seen: Array<{ host: string; url: string; auth: string | undefined }> = [];
const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
  seen.push({ host: req.headers.host ?? '', url: req.url ?? '', auth: req.headers.authorization });
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`${req.socket instanceof tls.TLSSocket ? 'https' : 'http'} ${req.url} for ${req.headers.host}`);
};

let plain: Upstream;
let secure: Awaited<ReturnType<typeof httpsServer>>;
let echo: Upstream;
let tlsEcho: net.Server & { port?: number };
let proxy: EmbeddedProxy;
const flows: HTTPFlow[] = [];
const tcpEvents: string[] = [];
let tcpEnded: (flow: TCPFlow) => void = () => undefined;

const port = (prefix: string): number => listenerPort(proxy, prefix);

beforeAll(async () => {
  plain = await httpServer(handler);
  secure = await httpsServer(handler);
  echo = await tcpServer((s) => s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d]))));
  const { key, cert } = secure.ca.issue('localhost');
  tlsEcho = tls.createServer({ key, cert }, (s) =>
    s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('tls-echo:'), d]))),
  );
  await new Promise<void>((r) => tlsEcho.listen(0, '127.0.0.1', r));
  const tlsEchoPort = (tlsEcho.address() as net.AddressInfo).port;
  proxy = await createProxy({
    confdir: confdirWithCa(),
    options: {
      ssl_verify_upstream_trusted_ca: secure.ca.caCertPath,
      mode: [
        `reverse:http://127.0.0.1:${plain.port}@0`,
        `reverse:https://localhost:${secure.port}@0`,
        `reverse:tcp://127.0.0.1:${echo.port}@0`,
        `reverse:tls://localhost:${tlsEchoPort}@0`,
        `reverse:http://127.0.0.1:1@0`,
      ],
    },
    addons: [
      {
        name: 'watch',
        response: (f: HTTPFlow) => void flows.push(f),
        error: (f: HTTPFlow) => void flows.push(f),
        tcp_start: (f: TCPFlow) => void tcpEvents.push(`start ${f.serverConn.address?.[1]}`),
        tcp_message: (f: TCPFlow) => {
          const m = f.messages.at(-1)!;
          tcpEvents.push(`${m.fromClient ? 'client' : 'server'} ${m.content.toString()}`);
          if (m.fromClient) m.content = Buffer.from(m.content.toString().toUpperCase());
        },
        tcp_end: (f: TCPFlow) => tcpEnded(f),
      },
    ],
  });
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all([plain?.close(), secure?.close(), echo?.close()]);
  await new Promise<void>((r) => (tlsEcho ? tlsEcho.close(() => r()) : r()));
});

describe('reverse mode', () => {
  it('logs one line per listener naming the mode, as mitmproxy', () => {
    const lines = proxy.logs
      .filter((e) => e.message.includes(' listening at '))
      .map((e) => e.message.replace(/:\d+\.$/, ''));
    expect(lines).toEqual([
      `Reverse proxy to http://127.0.0.1:${plain.port} listening at 127.0.0.1`,
      `Reverse proxy to https://localhost:${secure.port} listening at 127.0.0.1`,
      `Reverse proxy to tcp://127.0.0.1:${echo.port} listening at 127.0.0.1`,
      `Reverse proxy to tls://localhost:${(tlsEcho.address() as net.AddressInfo).port} listening at 127.0.0.1`,
      'Reverse proxy to http://127.0.0.1:1 listening at 127.0.0.1',
    ]);
  });

  it('curl to reverse:http: the request goes to the target with its Host header rewritten', async () => {
    const p = port('reverse:http://127.0.0.1:' + plain.port);
    const r = await curl([`http://127.0.0.1:${p}/hello?x=1`, '-H', 'Host: public.example']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`http /hello?x=1 for 127.0.0.1:${plain.port}`);
    const f = flows.find((x) => x.request.path === '/hello?x=1')!;
    expect([f.request.scheme, f.request.host, f.request.port]).toEqual(['http', '127.0.0.1', plain.port]);
    expect(f.clientConn.proxyMode).toBe(`reverse:http://127.0.0.1:${plain.port}@0`);
    expect(f.serverConn.address).toEqual(['127.0.0.1', plain.port]);
  });

  it("HTTP/2 to reverse:http (h2c prior knowledge): HTTP/1.1 to the target, Host rewritten; curl --http2 to reverse:https gets the target's HTTP/1.1", async () => {
    const h2c = await curl([
      '--http2-prior-knowledge',
      `http://127.0.0.1:${port('reverse:http://127.0.0.1:' + plain.port)}/h2c`,
    ]);
    expect(h2c.stderr).toBe('');
    expect(h2c.stdout).toBe(`http /h2c for 127.0.0.1:${plain.port}`);
    const h2 = await curl([
      '--http2',
      '--cacert',
      proxy.caCertPath,
      `https://localhost:${port('reverse:https://localhost:' + secure.port)}/h2`,
    ]);
    expect(h2.stderr).toBe('');
    expect(h2.stdout).toBe(`https /h2 for localhost:${secure.port}`);
    expect(flows.find((x) => x.request.path === '/h2c')!.request.httpVersion).toBe('HTTP/2.0');
    // eager: the target (HTTP/1.1 only) was connected first; its protocol is passed on to the client
    expect(flows.find((x) => x.request.path === '/h2')!.request.httpVersion).toBe('HTTP/1.1');
  });

  it('an absolute-form request still goes to the target', async () => {
    const p = port('reverse:http://127.0.0.1:' + plain.port);
    const r = await rawExchange(
      p,
      'GET http://elsewhere.example/abs HTTP/1.1\r\nHost: elsewhere.example\r\nConnection: close\r\n\r\n',
    );
    expect(r.response).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.response).toContain(`http /abs for 127.0.0.1:${plain.port}`);
  });

  it('curl to reverse:https over TLS: a certificate for the name asked for, the target over verified TLS', async () => {
    const p = port('reverse:https://');
    const r = await curl([
      '--cacert',
      proxy.caCertPath,
      '--resolve',
      `api.example:${p}:127.0.0.1`,
      `https://api.example:${p}/secure`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`https /secure for localhost:${secure.port}`);
    const f = flows.find((x) => x.request.path === '/secure')!;
    expect([f.request.scheme, f.request.host, f.request.port]).toEqual(['https', 'localhost', secure.port]);
    expect(f.clientConn.sni).toBe('api.example');
    expect(f.serverConn.sni).toBe('localhost');
  });

  it('curl speaking plain HTTP to a reverse:https listener is served too (TLS is sniffed)', async () => {
    const r = await curl([`http://127.0.0.1:${port('reverse:https://')}/plain-to-tls`]);
    expect(r.stdout).toBe(`https /plain-to-tls for localhost:${secure.port}`);
  });

  it('keep_host_header keeps the client Host header (and its SNI towards the server)', async () => {
    proxy.kernel.options.update({ keep_host_header: true });
    try {
      const r = await curl([
        `http://127.0.0.1:${port('reverse:http://127.0.0.1:' + plain.port)}/keep`,
        '-H',
        'Host: public.example',
      ]);
      expect(r.stdout).toBe('http /keep for public.example');
    } finally {
      proxy.kernel.options.update({ keep_host_header: false });
    }
  });

  it('an unreachable target: 502 with the reason, and the flow records it', async () => {
    const r = await curl(['-i', `http://127.0.0.1:${port('reverse:http://127.0.0.1:1')}/down`]);
    expect(r.stdout).toMatch(/^HTTP\/1\.1 502 /);
    expect(r.stdout).toContain('Failed to connect to 127.0.0.1:1: connection refused');
    expect(flows.find((x) => x.request.path === '/down')?.error?.msg).toContain('connection refused');
  });

  it('reverse:tcp relays raw TCP with tcp_* hooks (an addon changes the client bytes)', async () => {
    const ended = new Promise<TCPFlow>((r) => (tcpEnded = r));
    const got = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port('reverse:tcp://'), '127.0.0.1', () => s.write('ping'));
      s.on('data', (d: Buffer) => {
        resolve(d.toString());
        s.end();
      });
      s.on('error', reject);
    });
    expect(got).toBe('echo:PING');
    const f = await ended;
    expect(f.clientConn.proxyMode).toBe(`reverse:tcp://127.0.0.1:${echo.port}@0`);
    expect(tcpEvents).toContain(`start ${echo.port}`);
    expect(f.messages.map((m) => `${m.fromClient ? '>' : '<'}${m.content.toString()}`)).toEqual([
      '>PING',
      '<echo:PING',
    ]);
  });

  it('reverse:tls terminates the client TLS and relays TCP over TLS to the target', async () => {
    const ended = new Promise<TCPFlow>((r) => (tcpEnded = r));
    const got = await new Promise<string>((resolve, reject) => {
      const s = tls.connect(
        {
          port: port('reverse:tls://'),
          host: '127.0.0.1',
          servername: 'db.example',
          ca: readFileSync(proxy.caCertPath),
        },
        () => s.write('hello'),
      );
      s.on('data', (d: Buffer) => {
        resolve(d.toString());
        s.end();
      });
      s.on('error', reject);
    });
    expect(got).toBe('tls-echo:HELLO');
    const f = await ended;
    expect(f.clientConn.tls).toBe(true);
    expect(f.serverConn.tls).toBe(true);
    expect(f.serverConn.sni).toBe('localhost');
  });
});
