/**
 * Trust hints: when a client's TLS handshake with the proxy fails because it does not trust the
 * proxy's certificate, say which client it is, what happened and the exact fix.
 *
 * How clients reject an untrusted certificate, seen from the proxy (measured with the clients
 * on this project's test machine):
 * - curl, Python (urllib, requests), Java's HttpsURLConnection and browsers send a TLS alert:
 *   48 unknown_ca, 46 certificate_unknown or 42 bad_certificate.
 * - Node.js (`https`, undici's `fetch`) and Java's `HttpClient` send no alert: the client
 *   verifies the chain once it has it and closes the connection, so the handshake ends with a
 *   close (or a reset) before it completes.
 * The client is guessed from its ClientHello (cipher suite order, extensions, ALPN, GREASE) or,
 * when the caller has it, from the User-Agent of its CONNECT request.
 */
import type { ClientHello } from '../../hooks/data.js';

/** The kinds of client a hint can name. */
export type TlsClientKind = 'node' | 'python' | 'curl' | 'openssl' | 'java' | 'go' | 'chromium' | 'firefox' | 'unknown';

export interface TlsClientGuess {
  readonly kind: TlsClientKind;
  /** For messages: "Node.js", "Python (requests)", "a Chromium-based browser", ... */
  readonly name: string;
  /** What gave it away, for messages: "its User-Agent curl/8.4.0", "its TLS ClientHello". */
  readonly evidence: string;
}

/** A client known to reject a certificate by closing without an alert. */
const SILENT_REJECTERS: ReadonlySet<TlsClientKind> = new Set(['node', 'java']);

/** TLS alerts that mean "I do not trust this certificate" (RFC 8446 §6.2). */
const DISTRUST_ALERTS: Readonly<Record<number, string>> = {
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  48: 'unknown_ca',
};

const isGrease = (v: number): boolean => (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
const startsWith = (list: readonly number[], prefix: readonly number[]): boolean =>
  prefix.every((v, i) => list[i] === v);

/** Cipher suite orders that identify a client library's defaults. */
const NODE_CIPHERS = [0x1302, 0x1303, 0x1301, 0xc02f, 0xc02b, 0xc030, 0xc02c];
const URLLIB3_CIPHERS = [0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0xc02b, 0xc02f, 0xcca9, 0xcca8];
const OPENSSL_DEFAULT_CIPHERS = [0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa];

/** Extension types by their use here. */
const EXT = {
  encryptThenMac: 22,
  statusRequestV2: 17,
  sct: 18,
  recordSizeLimit: 28,
  delegatedCredentials: 34,
  renegotiationInfo: 0xff01,
} as const;

function fromUserAgent(ua: string): TlsClientGuess | null {
  const g = (kind: TlsClientKind, name: string): TlsClientGuess => ({
    kind,
    name,
    evidence: `its User-Agent ${JSON.stringify(ua)}`,
  });
  if (/^curl\//i.test(ua)) return g('curl', 'curl');
  if (/python-requests/i.test(ua)) return g('python', 'Python (requests)');
  if (/python|aiohttp|httpx|urllib3/i.test(ua)) return g('python', 'Python');
  if (/^Java\/|Apache-HttpClient|okhttp/i.test(ua)) return g('java', 'Java');
  if (/Go-http-client/i.test(ua)) return g('go', 'Go');
  if (/^node|undici|axios|node-fetch|got\b/i.test(ua)) return g('node', 'Node.js');
  if (/Firefox\//.test(ua)) return g('firefox', 'Firefox');
  if (/Chrome\/|Chromium\//.test(ua)) return g('chromium', 'a Chromium-based browser');
  return null;
}

function fromClientHello(h: ClientHello): TlsClientGuess {
  const g = (kind: TlsClientKind, name: string, how = 'its TLS ClientHello'): TlsClientGuess => ({
    kind,
    name,
    evidence: how,
  });
  const ext = new Set(h.extensions.map(([t]) => t));
  const cs = h.cipherSuites;
  if (cs.some(isGrease))
    return g(
      'chromium',
      'a Chromium-based browser (or another BoringSSL client)',
      'the GREASE values in its TLS ClientHello',
    );
  if (ext.has(EXT.statusRequestV2)) return g('java', 'Java');
  if (ext.has(EXT.recordSizeLimit) && ext.has(EXT.delegatedCredentials)) return g('firefox', 'Firefox');
  if (startsWith(cs, NODE_CIPHERS))
    return g('node', 'Node.js', "Node.js's default cipher order in its TLS ClientHello");
  if (startsWith(cs, URLLIB3_CIPHERS))
    return g('python', 'Python (requests/urllib3)', "urllib3's cipher order in its TLS ClientHello");
  if (startsWith(cs, OPENSSL_DEFAULT_CIPHERS)) {
    return h.alpnProtocols.includes('h2')
      ? g(
          'curl',
          'curl (or another OpenSSL-based client)',
          "OpenSSL's default cipher order and ALPN h2 in its TLS ClientHello",
        )
      : g(
          'openssl',
          'an OpenSSL-based client (Python, curl, Ruby, PHP, ...)',
          "OpenSSL's default cipher order in its TLS ClientHello",
        );
  }
  // Go's crypto/tls: no encrypt-then-MAC (every OpenSSL client sends it), asks for SCTs.
  if (!ext.has(EXT.encryptThenMac) && ext.has(EXT.renegotiationInfo) && ext.has(EXT.sct))
    return g('go', 'Go (probably)');
  return g('unknown', 'the client', 'nothing recognisable in its TLS ClientHello');
}

/**
 * Which client sent this ClientHello (and User-Agent, when known: it wins, being explicit).
 * A guess by design: client libraries change their defaults between versions.
 */
export function guessTlsClient(hello: ClientHello | null, userAgent?: string | null): TlsClientGuess {
  const byUa = userAgent ? fromUserAgent(userAgent) : null;
  if (byUa) return byUa;
  return hello ? fromClientHello(hello) : { kind: 'unknown', name: 'the client', evidence: 'no ClientHello' };
}

/** The TLS alert a client sent, read from Node's handshake error (`SSL alert number 48`). */
export function alertOf(err: Error): number | null {
  const m = /alert number (\d+)/i.exec(err.message);
  if (m) return Number(m[1]);
  const code = String((err as NodeJS.ErrnoException).code ?? '');
  const byName = Object.entries(DISTRUST_ALERTS).find(([, name]) => code.endsWith(`ALERT_${name.toUpperCase()}`));
  return byName ? Number(byName[0]) : null;
}

/** Did the client end the handshake by closing (or resetting) the connection, without an alert? */
export function closedDuringHandshake(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    /closed the connection during the TLS handshake|socket hang up/i.test(err.message)
  );
}

/**
 * The exact fix for a client of this kind that does not trust the proxy's CA at `ca`; `toProxy`:
 * the certificate was the proxy's own (TLS to the proxy, an https:// proxy URL), which curl
 * trusts only through `--proxy-cacert` (`--cacert`, CURL_CA_BUNDLE and SSL_CERT_FILE are for
 * the sites behind it).
 */
export function trustFix(kind: TlsClientKind, ca: string, toProxy = false): string {
  const run = "or start it under 'mitmts run -- <command>', which sets all of this for one process";
  switch (kind) {
    case 'node':
      return `start it with NODE_EXTRA_CA_CERTS=${ca} in its environment, ${run}`;
    case 'python':
      return `set REQUESTS_CA_BUNDLE=${ca} (requests) or SSL_CERT_FILE=${ca} (urllib, httpx, aiohttp) in its environment; both replace the system CAs, which is fine for traffic through the proxy; ${run}`;
    case 'curl':
      return toProxy
        ? `curl --proxy-cacert ${ca} (the CA of an https:// proxy; --cacert or CURL_CA_BUNDLE=${ca} for the sites behind it), ${run}`
        : `curl --cacert ${ca} (or CURL_CA_BUNDLE=${ca} in its environment), ${run}`;
    case 'openssl':
      // curl sends no ALPN h2 to a proxy, so it looks like any OpenSSL client there.
      return toProxy
        ? `for curl: curl --proxy-cacert ${ca} (the CA of an https:// proxy; --cacert is for the sites behind it); other OpenSSL clients: SSL_CERT_FILE=${ca} in their environment (REQUESTS_CA_BUNDLE for Python requests); ${run}`
        : `set SSL_CERT_FILE=${ca} in its environment (OpenSSL clients; REQUESTS_CA_BUNDLE for Python requests, --cacert for curl), ${run}`;
    case 'java':
      return (
        `import the CA into a trust store: keytool -importcert -noprompt -alias mitmts -file ${ca} -keystore mitmts-truststore.p12 -storetype PKCS12 -storepass changeit, ` +
        'then start it with -Djavax.net.ssl.trustStore=mitmts-truststore.p12 -Djavax.net.ssl.trustStorePassword=changeit (or put these flags in JAVA_TOOL_OPTIONS)'
      );
    case 'go':
      return `set SSL_CERT_FILE=${ca} in its environment (Go reads it on Linux and BSD; it replaces the system CAs), ${run}`;
    case 'chromium':
      return `add the CA to the browser's certificate store (Linux: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n mitmts -i ${ca}; elsewhere the system's store)`;
    case 'firefox':
      return `import ${ca} in Settings > Privacy & Security > Certificates > View Certificates > Authorities, trusted to identify websites`;
    case 'unknown':
      return `install ${ca} in the client's trust store (https://docs.mitmproxy.org/stable/concepts-certificates/), ${run}`;
  }
}

/** What the proxy knows about a failed client handshake. */
export interface ClientTlsFailure {
  readonly error: Error;
  readonly clientHello: ClientHello | null;
  /** The name the certificate was for (SNI, else the CONNECT host). */
  readonly serverName: string;
  /** The CA certificate file clients must trust. */
  readonly caCertPath: string;
  /** User-Agent of the client's CONNECT request, when the caller has it. */
  readonly userAgent?: string | null;
  /** The handshake was TLS to the proxy itself (an https:// proxy URL), not to a site through it. */
  readonly toProxy?: boolean;
}

/** The log line for a failed client handshake. */
export interface TlsFailureReport {
  readonly level: 'warn' | 'info';
  /** True when the failure means the client does not trust the proxy's certificate. */
  readonly distrust: boolean;
  readonly client: TlsClientGuess;
  /** One line, without the connection's address. */
  readonly message: string;
}

/** Say what a failed client handshake means, and how to fix it when it is a trust problem. */
export function describeClientTlsFailure(f: ClientTlsFailure): TlsFailureReport {
  const client = guessTlsClient(f.clientHello, f.userAgent);
  const who = client.kind === 'unknown' ? 'The client' : `The client (${client.name}, from ${client.evidence})`;
  const toProxy = f.toProxy ?? false;
  const fix = `Fix: ${trustFix(client.kind, f.caCertPath, toProxy)}.`;
  const cert = toProxy
    ? `the proxy's own certificate (TLS to the proxy, an https:// proxy URL) for ${f.serverName}`
    : `the proxy's certificate for ${f.serverName}`;
  const alert = alertOf(f.error);
  if (alert !== null && alert in DISTRUST_ALERTS) {
    return {
      level: 'warn',
      distrust: true,
      client,
      message: `Client TLS handshake failed. ${who} does not trust ${cert} (TLS alert ${alert} ${DISTRUST_ALERTS[alert]}). ${fix}`,
    };
  }
  if (closedDuringHandshake(f.error)) {
    if (SILENT_REJECTERS.has(client.kind)) {
      return {
        level: 'warn',
        distrust: true,
        client,
        message:
          `Client TLS handshake failed. ${who} does not trust ${cert}: ` +
          `it closed the connection during the handshake without a TLS alert, which is how ${client.name} rejects an untrusted certificate. ${fix}`,
      };
    }
    return {
      level: 'info',
      distrust: false,
      client,
      message:
        `Client TLS handshake failed for ${f.serverName}: the client closed the connection during the handshake, without a TLS alert. ` +
        `If it does not trust the proxy's certificate (Node.js and Java clients close like this): ${trustFix(client.kind, f.caCertPath, toProxy)}.`,
    };
  }
  return {
    level: 'info',
    distrust: false,
    client,
    message: `Client TLS handshake failed for ${f.serverName}: ${f.error.message.trim()}`,
  };
}
