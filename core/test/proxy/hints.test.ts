/** Trust hints: which client, what failed, the exact fix. ClientHellos as recorded from the real clients. */
import { describe, expect, it } from 'vitest';
import type { ClientHello } from '../../src/hooks/data.js';
import { clientDistrustsCert } from '../../src/proxy/tls/accept.js';
import {
  alertOf,
  closedDuringHandshake,
  describeClientTlsFailure,
  guessTlsClient,
  trustFix,
  type TlsClientKind,
} from '../../src/proxy/tls/hints.js';

const hex = (s: string): number[] => s.split(',').map((x) => parseInt(x, 16));
const hello = (ciphers: string, exts: number[], alpn: string[] = []): ClientHello => ({
  sni: 'localhost',
  alpnProtocols: alpn,
  cipherSuites: hex(ciphers),
  extensions: exts.map((t) => [t, Buffer.alloc(0)] as const),
  raw: Buffer.alloc(0),
});

/** Recorded on Debian 12 (Node 20.20, Python 3.11, requests 2.28 / urllib3 1.26, curl 7.88, OpenJDK 17). */
const HELLOS: Record<string, ClientHello> = {
  nodeHttps: hello(
    '1302,1303,1301,c02f,c02b,c030,c02c,9e,c027,67,c028,6b,a3,9f,cca9,cca8,ccaa,c0af,ff',
    [0, 11, 10, 35, 22, 23, 13, 43, 45, 51],
  ),
  nodeFetch: hello(
    '1302,1303,1301,c02f,c02b,c030,c02c,9e,c027,67,c028,6b,a3,9f,cca9,cca8,ccaa,ff',
    [0, 11, 10, 35, 16, 22, 23, 13, 43, 45, 51],
    ['http/1.1'],
  ),
  requests: hello(
    '1302,1303,1301,c02c,c030,c02b,c02f,cca9,cca8,9f,9e,ccaa,c0af,ff',
    [0, 11, 10, 16, 22, 23, 49, 13, 43, 45, 51, 21],
    ['http/1.1'],
  ),
  urllib: hello(
    '1302,1303,1301,c02c,c030,9f,cca9,cca8,ccaa,c02b,c02f,9e,ff',
    [0, 11, 10, 35, 16, 22, 23, 49, 13, 43, 45, 51, 21],
    ['http/1.1'],
  ),
  curl: hello(
    '1302,1303,1301,c02c,c030,9f,cca9,cca8,ccaa,c02b,c02f,9e,ff',
    [0, 11, 10, 16, 22, 23, 49, 13, 43, 45, 51, 21],
    ['h2', 'http/1.1'],
  ),
  javaUrlConnection: hello(
    '1302,1301,1303,c02c,c02b,cca9,c030,cca8,c02f,9f,ccaa,ff',
    [5, 10, 11, 17, 23, 35, 13, 43, 45, 50, 51],
  ),
  javaHttpClient: hello(
    '1302,1301,1303,c02c,c02b,cca9,c030,cca8,c02f,9f,ccaa,ff',
    [0, 5, 10, 11, 16, 17, 23, 35, 13, 43, 45, 50, 51],
    ['h2', 'http/1.1'],
  ),
  chromium: hello(
    '7a7a,1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8',
    [0xdada, 0, 23, 65281, 10, 11, 35, 16, 5, 13, 18, 51, 45, 43, 27, 17513, 0x1a1a],
  ),
};

const err = (message: string, code?: string): Error => Object.assign(new Error(message), code ? { code } : {});
const ALERT_48 = err(
  '805CE60DC37F0000:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 48\n',
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
);
const ALERT_46 = err(
  'error:0A000416:SSL routines::sslv3 alert certificate unknown:SSL alert number 46',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
);
const CLOSED = err('the client closed the connection during the TLS handshake');
const RESET = err('read ECONNRESET', 'ECONNRESET');
const CA = '/home/u/.mitmproxy/mitmproxy-ca-cert.pem';

describe('guessing the client', () => {
  it.each([
    ['nodeHttps', 'node'],
    ['nodeFetch', 'node'],
    ['requests', 'python'],
    ['urllib', 'openssl'],
    ['curl', 'curl'],
    ['javaUrlConnection', 'java'],
    ['javaHttpClient', 'java'],
    ['chromium', 'chromium'],
  ] as Array<[string, TlsClientKind]>)('%s ClientHello -> %s', (name, kind) => {
    expect(guessTlsClient(HELLOS[name]!).kind).toBe(kind);
  });

  it('prefers the User-Agent of the CONNECT request when there is one', () => {
    expect(guessTlsClient(HELLOS.urllib!, 'curl/7.88.1')).toMatchObject({
      kind: 'curl',
      evidence: 'its User-Agent "curl/7.88.1"',
    });
    expect(guessTlsClient(HELLOS.urllib!, 'python-requests/2.28.1').kind).toBe('python');
    expect(guessTlsClient(null, 'Java/17.0.15').kind).toBe('java');
    expect(guessTlsClient(null, 'Go-http-client/1.1').kind).toBe('go');
    expect(guessTlsClient(HELLOS.curl!, 'SomethingElse/1.0').kind).toBe('curl');
    expect(guessTlsClient(null).kind).toBe('unknown');
  });
});

describe('reading the failure', () => {
  it('finds the alert a client sent, by number or by code', () => {
    expect(alertOf(ALERT_48)).toBe(48);
    expect(alertOf(err('x', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'))).toBe(42);
    expect(alertOf(CLOSED)).toBeNull();
  });
  it('tells a close during the handshake from other failures', () => {
    expect(closedDuringHandshake(CLOSED)).toBe(true);
    expect(closedDuringHandshake(RESET)).toBe(true);
    expect(closedDuringHandshake(ALERT_48)).toBe(false);
    expect(closedDuringHandshake(err('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'))).toBe(false);
  });
  it('counts a silent close as distrust only for clients known to reject that way', () => {
    expect(clientDistrustsCert(CLOSED, HELLOS.nodeHttps)).toBe(true);
    expect(clientDistrustsCert(RESET, HELLOS.javaHttpClient)).toBe(true);
    expect(clientDistrustsCert(CLOSED, HELLOS.curl)).toBe(false);
    expect(clientDistrustsCert(CLOSED)).toBe(false);
    expect(clientDistrustsCert(ALERT_48)).toBe(true);
  });
});

describe('the hint', () => {
  const hint = (error: Error, h: keyof typeof HELLOS, ua?: string): ReturnType<typeof describeClientTlsFailure> =>
    describeClientTlsFailure({
      error,
      clientHello: HELLOS[h]!,
      serverName: 'api.example.com',
      caCertPath: CA,
      ...(ua ? { userAgent: ua } : {}),
    });

  it('names Node.js and NODE_EXTRA_CA_CERTS when a Node client closes silently', () => {
    expect(hint(CLOSED, 'nodeFetch')).toEqual({
      level: 'warn',
      distrust: true,
      client: { kind: 'node', name: 'Node.js', evidence: "Node.js's default cipher order in its TLS ClientHello" },
      message:
        "Client TLS handshake failed. The client (Node.js, from Node.js's default cipher order in its TLS ClientHello) does not trust the proxy's certificate for api.example.com: " +
        'it closed the connection during the handshake without a TLS alert, which is how Node.js rejects an untrusted certificate. ' +
        `Fix: start it with NODE_EXTRA_CA_CERTS=${CA} in its environment, or start it under 'mitmts run -- <command>', which sets all of this for one process.`,
    });
  });

  it('names the alert and the fix for clients that send one', () => {
    expect(hint(ALERT_48, 'requests').message).toBe(
      "Client TLS handshake failed. The client (Python (requests/urllib3), from urllib3's cipher order in its TLS ClientHello) does not trust the proxy's certificate for api.example.com (TLS alert 48 unknown_ca). " +
        `Fix: ${trustFix('python', CA)}.`,
    );
    expect(hint(ALERT_48, 'curl', 'curl/7.88.1').message).toContain(
      `(curl, from its User-Agent "curl/7.88.1") does not trust the proxy's certificate for api.example.com (TLS alert 48 unknown_ca). Fix: curl --cacert ${CA}`,
    );
    expect(hint(ALERT_46, 'javaUrlConnection').message).toContain(
      '(TLS alert 46 certificate_unknown). Fix: import the CA into a trust store: keytool -importcert',
    );
  });

  it('hedges on a silent close from a client that usually sends an alert, and stays quiet on other failures', () => {
    expect(hint(CLOSED, 'curl')).toMatchObject({ level: 'info', distrust: false });
    expect(hint(CLOSED, 'curl').message).toMatch(
      /^Client TLS handshake failed for api\.example\.com: the client closed the connection during the handshake, without a TLS alert\. If it does not trust/,
    );
    expect(hint(err('no shared cipher', 'ERR_SSL_NO_SHARED_CIPHER'), 'nodeHttps')).toMatchObject({
      level: 'info',
      distrust: false,
      message: 'Client TLS handshake failed for api.example.com: no shared cipher',
    });
  });

  it('has an exact fix for every kind of client', () => {
    const fixes: Record<TlsClientKind, RegExp> = {
      node: /NODE_EXTRA_CA_CERTS=\/home/,
      python: /REQUESTS_CA_BUNDLE=\/home.*SSL_CERT_FILE=\/home/,
      curl: /--cacert \/home.*CURL_CA_BUNDLE=/,
      openssl: /SSL_CERT_FILE=\/home/,
      java: /keytool -importcert .*-file \/home.*-Djavax\.net\.ssl\.trustStore=/,
      go: /SSL_CERT_FILE=\/home/,
      chromium: /certutil -d sql:\$HOME\/\.pki\/nssdb -A -t C,, -n mitmts -i \/home/,
      firefox: /import \/home.*Authorities/,
      unknown: /install \/home.*mitmts run/,
    };
    for (const [kind, re] of Object.entries(fixes)) expect(trustFix(kind as TlsClientKind, CA), kind).toMatch(re);
  });
});
