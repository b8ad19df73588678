// Real clients that do not trust the proxy's CA: the proxy's log names the client, what failed
// and the exact fix. Node.js (https and fetch) and Java's HttpClient reject without a TLS alert;
// curl, Python and Java's HttpsURLConnection send one.
import { execFile } from 'node:child_process';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyAgent, fetch } from 'undici';
import { createProxy, type EmbeddedProxy, type LogEntry } from '@mitmts/sdk';
import { httpsServer, tempFile } from '../helpers/servers.js';
import { CURL, ensureTools, JAVA, PYTHON_REQUESTS } from '../helpers/tools.js';

const missingJava = ensureTools(JAVA);
const missingPython = ensureTools(PYTHON_REQUESTS);
const missingCurl = ensureTools(CURL);
for (const m of [missingJava, missingPython, missingCurl]) if (m) console.warn(`trust hint test skipped: ${m}`);

let proxy: EmbeddedProxy;
let up: Awaited<ReturnType<typeof httpsServer>>;

beforeAll(async () => {
  up = await httpsServer((_req, res) => res.end('secure'));
  proxy = await createProxy({ options: { ssl_verify_upstream_trusted_ca: up.ca.caCertPath } });
});
afterAll(async () => {
  await proxy?.close();
  await up?.close();
});

/** The next "Client TLS handshake failed" log entry, once `client` has run. */
async function hintFor(client: () => Promise<unknown>): Promise<LogEntry> {
  const seen = new Promise<LogEntry>((resolve) => {
    const off = proxy.kernel.log.onEntry((e) => {
      if (e.message.includes('Client TLS handshake failed')) {
        off();
        resolve(e);
      }
    });
  });
  await client();
  return seen;
}

const sh = (cmd: string, args: string[]): Promise<{ code: number; out: string }> =>
  new Promise((resolve) =>
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, out: stdout + stderr }),
    ),
  );

/** node:https through a CONNECT tunnel, with Node's own trust store (no mitmts CA). */
function nodeHttps(url: string): Promise<string> {
  const agent = new https.Agent();
  agent.createConnection = ((
    opts: tls.ConnectionOptions & { host: string; port: number },
    cb: (e: Error | null, s?: net.Socket) => void,
  ) => {
    const s = net.connect(proxy.port, proxy.host, () =>
      s.write(`CONNECT ${opts.host}:${opts.port} HTTP/1.1\r\nhost: ${opts.host}:${opts.port}\r\n\r\n`),
    );
    s.once('data', () => cb(null, tls.connect({ ...opts, socket: s })));
    s.on('error', cb);
  }) as unknown as https.Agent['createConnection'];
  return new Promise((resolve) =>
    https
      .get(url, { agent }, (r) => resolve(String(r.statusCode)))
      .on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message)),
  );
}

describe('trust hints from real clients', () => {
  it('Node.js https: names Node.js and NODE_EXTRA_CA_CERTS', async () => {
    let clientSaw = '';
    const e = await hintFor(async () => (clientSaw = await nodeHttps(`${up.url}/x`)));
    expect(clientSaw).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(e.level).toBe('warn');
    expect(e.message).toContain(
      "The client (Node.js, from Node.js's default cipher order in its TLS ClientHello) does not trust the proxy's certificate for localhost",
    );
    expect(e.message).toContain(`NODE_EXTRA_CA_CERTS=${proxy.caCertPath}`);
  });

  it('Node.js fetch (undici): the same', async () => {
    const e = await hintFor(() =>
      fetch(`${up.url}/x`, { dispatcher: new ProxyAgent(proxy.url) }).catch((err: Error) => err),
    );
    expect(e.level).toBe('warn');
    expect(e.message).toMatch(
      /The client \(Node\.js, .*\) does not trust the proxy's certificate for localhost: it closed the connection during the handshake without a TLS alert/,
    );
  });

  it.skipIf(missingPython !== null)('Python requests: names it, the alert and REQUESTS_CA_BUNDLE', async () => {
    const py = `import requests\ntry:\n  requests.get('${up.url}/x', proxies={'https': '${proxy.url}'})\nexcept requests.exceptions.SSLError: print('ssl error')`;
    const e = await hintFor(() => sh('/usr/bin/python3', ['-c', py]));
    expect(e.level).toBe('warn');
    expect(e.message).toContain(
      "The client (Python (requests/urllib3), from urllib3's cipher order in its TLS ClientHello) does not trust the proxy's certificate for localhost (TLS alert 48 unknown_ca)",
    );
    expect(e.message).toContain(`REQUESTS_CA_BUNDLE=${proxy.caCertPath}`);
  });

  it.skipIf(missingPython !== null)('Python urllib: an OpenSSL client, SSL_CERT_FILE', async () => {
    const py = `import urllib.request\nurllib.request.install_opener(urllib.request.build_opener(urllib.request.ProxyHandler({'https': '${proxy.url}'})))\ntry:\n  urllib.request.urlopen('${up.url}/x')\nexcept Exception: pass`;
    const e = await hintFor(() => sh('/usr/bin/python3', ['-c', py]));
    expect(e.message).toContain('(TLS alert 48 unknown_ca)');
    expect(e.message).toContain(`SSL_CERT_FILE=${proxy.caCertPath}`);
  });

  it.skipIf(missingCurl !== null)('curl: names curl and --cacert', async () => {
    const e = await hintFor(() => sh('curl', ['-sS', '-x', proxy.url, `${up.url}/x`]));
    expect(e.message).toContain('(curl (or another OpenSSL-based client), from');
    expect(e.message).toContain(`curl --cacert ${proxy.caCertPath}`);
  });

  it.skipIf(missingCurl !== null)(
    'curl speaking TLS to the proxy itself (an https:// proxy): names --proxy-cacert',
    async () => {
      // Trusts the sites behind the proxy (--cacert) but not the proxy (no --proxy-cacert).
      const proxyTls = proxy.url.replace(/^http:/, 'https:');
      const e = await hintFor(() => sh('curl', ['-sS', '--cacert', proxy.caCertPath, '-x', proxyTls, `${up.url}/x`]));
      expect(e.message).toContain(
        "does not trust the proxy's own certificate (TLS to the proxy, an https:// proxy URL) for 127.0.0.1",
      );
      expect(e.message).toContain(`curl --proxy-cacert ${proxy.caCertPath}`);
      expect(e.message).not.toContain('curl --cacert');
      // With --proxy-cacert it goes through.
      expect(
        await sh('curl', [
          '-sS',
          '--proxy-cacert',
          proxy.caCertPath,
          '--cacert',
          proxy.caCertPath,
          '-x',
          proxyTls,
          `${up.url}/x`,
        ]),
      ).toEqual({ code: 0, out: 'secure' });
    },
  );

  it.skipIf(missingJava !== null)(
    'Java (HttpsURLConnection and HttpClient): names Java and keytool, alert or not',
    { timeout: 120_000 },
    async () => {
      const conn = tempFile(
        'Conn.java',
        `public class Conn { public static void main(String[] a) throws Exception { try { ((javax.net.ssl.HttpsURLConnection) new java.net.URL("${up.url}/x").openConnection()).getResponseCode(); } catch (javax.net.ssl.SSLException e) { System.out.println("ssl"); } } }`,
      );
      const e1 = await hintFor(() =>
        sh('java', [
          '-Dhttp.nonProxyHosts=',
          `-Dhttps.proxyHost=${proxy.host}`,
          `-Dhttps.proxyPort=${proxy.port}`,
          conn,
        ]),
      );
      expect(e1.message).toContain(
        "The client (Java, from its TLS ClientHello) does not trust the proxy's certificate for localhost (TLS alert 46 certificate_unknown)",
      );
      expect(e1.message).toContain(`keytool -importcert -noprompt -alias mitmts -file ${proxy.caCertPath}`);
      const client = tempFile(
        'Client.java',
        `import java.net.*; import java.net.http.*; public class Client { public static void main(String[] a) throws Exception { try { HttpClient.newBuilder().proxy(ProxySelector.of(new InetSocketAddress("${proxy.host}", ${proxy.port}))).build().send(HttpRequest.newBuilder(URI.create("${up.url}/x")).build(), HttpResponse.BodyHandlers.ofString()); } catch (java.io.IOException e) { System.out.println("io"); } } }`,
      );
      const e2 = await hintFor(() => sh('java', [client]));
      expect(e2.level).toBe('warn');
      expect(e2.message).toContain(
        "The client (Java, from its TLS ClientHello) does not trust the proxy's certificate for localhost: it closed the connection during the handshake without a TLS alert",
      );
    },
  );
});
