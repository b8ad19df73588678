// Transparent mode for real, in network namespaces this test creates (root only):
//
//   client ns (curl) --veth-- proxy ns (mitmts --mode transparent, nftables) --veth-- server ns
//   10.99.1.2             10.99.1.1 | 10.99.2.1                                  10.99.2.5, .6
//
// The proxy namespace forwards between the two and its nftables rules steer the client's
// connections into mitmts: TPROXY for 10.99.2.5:80/443 (the listener has IP_TRANSPARENT), a nat
// REDIRECT for 10.99.2.6:80 (the original destination is read from /proc/net/nf_conntrack).
// mitmts runs from the command line inside the proxy namespace and saves its flows with -w.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, readFlowsFromPaths, type HTTPFlow } from '@mitmts/sdk';
import { ensureCommands } from '../../scripts/debian.mjs';
import { confdirWithCa } from '../helpers/cli.js';
import { FIXTURE_CA_CERT } from '../helpers/modes.js';
import { testCa } from '../helpers/servers.js';

const BIN = join(import.meta.dirname, '../../bin/mitmts.js');

function why(): string | null {
  if (process.platform !== 'linux') return `transparent mode needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces and nftables rules needs root';
  const tools = ensureCommands(
    { ip: 'iproute2', nft: 'nftables', curl: 'curl' },
    { log: (m: string) => console.warn(m) },
  ) as { missing?: string };
  return tools.missing ?? null;
}
const skip = why();
if (skip) console.warn(`transparent mode test skipped: ${skip}`);

const id = randomBytes(3).toString('hex');
const NS = { client: `mitmts-${id}-c`, proxy: `mitmts-${id}-p`, server: `mitmts-${id}-s` };

function sh(args: string[], input?: string): string {
  return execFileSync(args[0]!, args.slice(1), {
    encoding: 'utf8',
    ...(input ? { input } : {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}
const inNs = (ns: string, ...args: string[]): string[] => ['ip', 'netns', 'exec', ns, ...args];

/** Start a process in a namespace and wait for `ready` on its stdout. */
function start(args: string[], ready: RegExp, what: string): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 30_000);
    const check = (): void => {
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}):\n${out}`));
    });
  });
}

const SERVER = `
import http from 'node:http'; import https from 'node:https'; import fs from 'node:fs';
const handler = (req, res) => res.end(\`\${req.url} at \${req.socket.localAddress}:\${req.socket.localPort} from \${req.socket.remoteAddress}\`);
const [key, cert] = [fs.readFileSync(process.argv[2]), fs.readFileSync(process.argv[3])];
http.createServer(handler).listen(80, '0.0.0.0', () =>
  https.createServer({ key, cert }, handler).listen(443, '0.0.0.0', () => console.log('ready')));
`;

describe.skipIf(skip !== null)('transparent mode in network namespaces', () => {
  let server: { child: ChildProcess };
  let proxy: { child: ChildProcess; output: () => string };
  const dir = mkdtempSync(join(tmpdir(), 'mitmts-transparent-'));
  const flowsFile = join(dir, 'flows.mitm');

  beforeAll(async () => {
    for (const ns of Object.values(NS)) {
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    sh(['ip', '-n', NS.proxy, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'c0', 'netns', NS.client]);
    sh(['ip', '-n', NS.proxy, 'link', 'add', 'p1', 'type', 'veth', 'peer', 'name', 's0', 'netns', NS.server]);
    const addr = (ns: string, dev: string, ...cidrs: string[]): void => {
      for (const c of cidrs) sh(['ip', '-n', ns, 'addr', 'add', c, 'dev', dev]);
      sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    };
    addr(NS.client, 'c0', '10.99.1.2/24');
    addr(NS.proxy, 'p0', '10.99.1.1/24');
    addr(NS.proxy, 'p1', '10.99.2.1/24');
    addr(NS.server, 's0', '10.99.2.5/24', '10.99.2.6/24');
    sh(['ip', '-n', NS.client, 'route', 'add', 'default', 'via', '10.99.1.1']);
    sh(['ip', '-n', NS.server, 'route', 'add', 'default', 'via', '10.99.2.1']);
    sh(inNs(NS.proxy, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'));
    // TPROXY: marked packets are delivered locally (to the IP_TRANSPARENT listener).
    sh(['ip', '-n', NS.proxy, 'rule', 'add', 'fwmark', '1', 'lookup', '100']);
    sh(['ip', '-n', NS.proxy, 'route', 'add', 'local', '0.0.0.0/0', 'dev', 'lo', 'table', '100']);
    sh(
      inNs(NS.proxy, 'nft', '-f', '-'),
      [
        'table ip mitmts {',
        '  chain divert {',
        '    type filter hook prerouting priority mangle; policy accept;',
        '    ip daddr 10.99.2.5 tcp dport { 80, 443 } tproxy to :8080 meta mark set 1 accept',
        '  }',
        '  chain to_proxy {',
        '    type nat hook prerouting priority dstnat; policy accept;',
        '    ip daddr 10.99.2.6 tcp dport 80 redirect to :8080',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    const ca = await testCa();
    const { key, cert } = ca.issue('server.test', '10.99.2.5');
    writeFileSync(join(dir, 'server.mjs'), SERVER);
    writeFileSync(join(dir, 'server.key'), key);
    writeFileSync(join(dir, 'server.crt'), cert);
    server = await start(
      inNs(NS.server, process.execPath, join(dir, 'server.mjs'), join(dir, 'server.key'), join(dir, 'server.crt')),
      /ready/,
      'the server',
    );
    proxy = await start(
      inNs(
        NS.proxy,
        process.execPath,
        BIN,
        '--mode',
        'transparent@0.0.0.0:8080',
        '--set',
        `confdir=${confdirWithCa()}`,
        '--set',
        `ssl_verify_upstream_trusted_ca=${ca.caCertPath}`,
        '-w',
        flowsFile,
      ),
      /Transparent proxy listening at 0\.0\.0\.0:8080\./,
      'mitmts',
    );
  }, 120_000);

  afterAll(async () => {
    for (const p of [proxy?.child, server?.child]) p?.kill('SIGTERM');
    for (const ns of Object.values(NS)) {
      try {
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        // not created
      }
    }
  });

  const curlIn = (...args: string[]): string => sh(inNs(NS.client, 'curl', '-sS', '--max-time', '10', ...args));

  it('TPROXY: curl in the client namespace reaches the server through mitmts, which records the original destination', async () => {
    expect(curlIn('http://10.99.2.5/tproxy')).toBe('/tproxy at 10.99.2.5:80 from 10.99.2.1');
    // HTTPS: intercepted with a certificate for the SNI, the server verified by its own CA.
    expect(
      curlIn('--cacert', FIXTURE_CA_CERT, '--resolve', 'server.test:443:10.99.2.5', 'https://server.test/tproxy-tls'),
    ).toBe('/tproxy-tls at 10.99.2.5:443 from 10.99.2.1');
  });

  it('REDIRECT: the original destination comes from the conntrack table', () => {
    expect(curlIn('http://10.99.2.6/redirect')).toBe('/redirect at 10.99.2.6:80 from 10.99.2.1');
  });

  it('a loopback listener is warned about: routed traffic cannot reach it', async () => {
    const p = await createProxy({ confdir: confdirWithCa(), options: { mode: ['transparent@127.0.0.1:0'] } });
    try {
      const warnings = p.logs.filter((e) => e.level === 'warn').map((e) => e.message);
      expect(warnings).toContain(
        "Transparent proxy (transparent@127.0.0.1:0) listens on loopback (127.0.0.1): only this machine's own programs, through an OUTPUT REDIRECT rule, can reach it. " +
          'For traffic routed through this machine, listen on every address: --mode transparent@0.0.0.0:PORT. See docs/modes.md.',
      );
    } finally {
      await p.close();
    }
  });

  it('the saved flows name the original destinations and the mode', async () => {
    proxy.child.kill('SIGTERM');
    await new Promise((r) => proxy.child.once('exit', r));
    const flows = (await readFlowsFromPaths([flowsFile])) as HTTPFlow[];
    const byPath = new Map(flows.map((f) => [f.request.path, f]));
    const plain = byPath.get('/tproxy')!;
    expect([plain.request.scheme, plain.request.host, plain.request.port]).toEqual(['http', '10.99.2.5', 80]);
    expect(plain.serverConn.address).toEqual(['10.99.2.5', 80]);
    expect(plain.clientConn.peername?.[0]).toBe('10.99.1.2');
    expect(plain.clientConn.proxyMode).toBe('transparent@0.0.0.0:8080');
    const secure = byPath.get('/tproxy-tls')!;
    expect([secure.request.scheme, secure.request.host, secure.request.port, secure.clientConn.sni]).toEqual([
      'https',
      '10.99.2.5',
      443,
      'server.test',
    ]);
    expect(secure.serverConn.sni).toBe('server.test');
    expect(byPath.get('/redirect')!.serverConn.address).toEqual(['10.99.2.6', 80]);
    expect(proxy.output()).not.toMatch(/TPROXY is off/);
  });
});
