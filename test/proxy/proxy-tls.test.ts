// TLS to the proxy itself (HTTPS_PROXY=https://...), as mitmproxy allows in regular mode: real
// clients (curl --proxy https://, undici's ProxyAgent with an https: proxy URL, Python requests)
// reach plain HTTP origins inside that TLS, and HTTPS origins through a CONNECT inside it (TLS
// inside TLS, intercepted). Clients in the clear keep working on the same port.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch, ProxyAgent } from 'undici';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { httpServer, httpsServer, tempFile, type Upstream } from '../helpers/servers.js';
import { CURL, ensureTools, PYTHON_REQUESTS } from '../helpers/tools.js';

const missingCurl = ensureTools(CURL);
const missingPython = ensureTools(PYTHON_REQUESTS);
for (const m of [missingCurl, missingPython]) if (m) console.warn(`TLS-to-the-proxy test skipped: ${m}`);

let proxy: EmbeddedProxy;
let plain: Upstream;
let secure: Awaited<ReturnType<typeof httpsServer>>;
/** The proxy's CA and the test origins' CA in one file (clients that take one bundle). */
let bundle: string;
let tlsProxyUrl: string;

beforeAll(async () => {
  plain = await httpServer((req, res) => res.end(`plain ${req.url}`));
  secure = await httpsServer((req, res) => res.end(`secure ${req.url}`));
  proxy = await createProxy({ options: { ssl_verify_upstream_trusted_ca: secure.ca.caCertPath } });
  tlsProxyUrl = `https://localhost:${proxy.port}`;
  bundle = tempFile(
    'bundle.pem',
    readFileSync(proxy.caCertPath, 'latin1') + readFileSync(secure.ca.caCertPath, 'latin1'),
  );
});
afterAll(async () => {
  await proxy?.close();
  await plain?.close();
  await secure?.close();
});

const sh = (cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> =>
  new Promise((resolve) =>
    execFile(cmd, args, { timeout: 60_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? 1 : 0, out: stdout, err: stderr }),
    ),
  );

/** The recorded flow for a path: the client spoke TLS to the proxy. */
function flowFor(path: string): HTTPFlow {
  const f = proxy.flows.all().find((x): x is HTTPFlow => x.type === 'http' && (x as HTTPFlow).request.path === path);
  expect(f, `no flow for ${path}`).toBeDefined();
  return f!;
}

describe('TLS to the proxy itself', () => {
  it.skipIf(missingCurl !== null)(
    'curl --proxy https://: an HTTP origin, and an HTTPS origin through CONNECT inside the TLS',
    async () => {
      const a = await sh('curl', [
        '-sS',
        '--proxy',
        tlsProxyUrl,
        '--proxy-cacert',
        proxy.caCertPath,
        `${plain.url}/curl`,
      ]);
      expect(a.err).toBe('');
      expect(a.out).toBe('plain /curl');
      expect(flowFor('/curl').clientConn.tls).toBe(true);
      const b = await sh('curl', [
        '-sS',
        '--proxy',
        tlsProxyUrl,
        '--proxy-cacert',
        proxy.caCertPath,
        '--cacert',
        proxy.caCertPath,
        `${secure.url}/curl-tls`,
      ]);
      expect(b.err).toBe('');
      expect(b.out).toBe('secure /curl-tls');
      expect(flowFor('/curl-tls').request.scheme).toBe('https');
    },
  );

  it('Node fetch through undici ProxyAgent with an https: proxy URL', async () => {
    const ca = readFileSync(proxy.caCertPath, 'latin1');
    const dispatcher = new ProxyAgent({ uri: tlsProxyUrl, proxyTls: { ca }, requestTls: { ca } });
    expect(await (await fetch(`${plain.url}/fetch`, { dispatcher })).text()).toBe('plain /fetch');
    expect(await (await fetch(`${secure.url}/fetch-tls`, { dispatcher })).text()).toBe('secure /fetch-tls');
    await dispatcher.close();
  });

  it.skipIf(missingPython !== null)('Python requests with an https:// proxy', async () => {
    const py = [
      'import sys, requests',
      "proxies = {'http': sys.argv[1], 'https': sys.argv[1]}",
      'print(requests.get(sys.argv[2], proxies=proxies, verify=sys.argv[4]).text)',
      'print(requests.get(sys.argv[3], proxies=proxies, verify=sys.argv[4]).text)',
    ].join('\n');
    const r = await sh('/usr/bin/python3', [
      '-c',
      py,
      tlsProxyUrl,
      `${plain.url}/python`,
      `${secure.url}/python-tls`,
      bundle,
    ]);
    // (Debian's requests 2.28 / urllib3 1.26 do not verify an HTTPS proxy for http:// URLs and
    // warn about it on stderr: a client limitation, not an error.)
    expect(r.err).not.toMatch(/Error|Traceback/);
    expect(r.out).toBe('plain /python\nsecure /python-tls\n');
  });

  it.skipIf(missingCurl !== null)('a client in the clear still works on the same port', async () => {
    const r = await sh('curl', ['-sS', '-x', proxy.url, `${plain.url}/clear`]);
    expect(r.out).toBe('plain /clear');
    expect(flowFor('/clear').clientConn.tls).toBe(false);
  });
});
