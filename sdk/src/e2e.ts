/**
 * Through-the-proxy test helpers, for end-to-end tests with real sockets on loopback: an origin
 * server, a request through a proxy (plain HTTP in absolute form, or HTTPS through a CONNECT
 * tunnel trusting the proxy's CA), and waiting for a flow to finish. Start the proxy itself with
 * `createProxy` (a free port on 127.0.0.1 and a fresh CA in a temporary confdir).
 *
 * ```ts
 * const origin = await startOrigin();
 * const proxy = await createProxy({ addons: [AntiCache], options: { anticache: true } });
 * const res = await requestVia(proxy, `${origin.url}/page`, { headers: { 'if-none-match': '"v1"' } });
 * const flow = await waitForFlow(proxy, '~u /page');
 * ```
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import { isIP, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { CertStore, parseFilter, type Flow, type HookName, type Kernel } from '@mitmts/core';

/** A request an origin received, body included. */
export interface OriginRequest {
  readonly method: string;
  /** `1.1` or `1.0`, as the request line said. */
  readonly httpVersion: string;
  /** The request target as received (`/path?query`). */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Header names and values as received (case, order and repeats kept), alternating. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/** Answers one request; the request's body has been read already. */
export type OriginHandler = (req: OriginRequest, res: ServerResponse) => void;

export interface OriginOptions {
  /** Serve HTTPS, with a certificate for `localhost` and `127.0.0.1` from a test CA (`caCertPath`). */
  readonly tls?: boolean;
}

/** A server on 127.0.0.1 standing for the internet. */
export interface Origin {
  /** `http://127.0.0.1:PORT`, or `https://localhost:PORT` for a TLS origin. */
  readonly url: string;
  readonly port: number;
  /** Every request received so far, in order. */
  readonly requests: readonly OriginRequest[];
  /** How many connections the origin accepted so far (TCP connections, TLS or not). */
  readonly connections: number;
  /** The CA that signed a TLS origin's certificate (PEM file; null for plain HTTP): give it to the proxy as `ssl_verify_upstream_trusted_ca`. */
  readonly caCertPath: string | null;
  close(): Promise<void>;
}

/** By default an origin answers `origin <METHOD> <target>` as text/plain. */
const echoTarget: OriginHandler = (req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' }).end(`origin ${req.method} ${req.url}`);
};

let testCa: Promise<{ store: CertStore; caCertPath: string }> | undefined;
/** One CA per process for TLS origins (creating a key pair is the slow part). */
function originCa(): Promise<{ store: CertStore; caCertPath: string }> {
  testCa ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-origin-ca-'));
    return {
      store: await CertStore.fromConfdir(dir, { basename: 'origin' }),
      caCertPath: join(dir, 'origin-ca-cert.pem'),
    };
  })();
  return testCa;
}

/** Start an origin server on 127.0.0.1 and a free port. */
export async function startOrigin(handler: OriginHandler = echoTarget, opts: OriginOptions = {}): Promise<Origin> {
  const requests: OriginRequest[] = [];
  const listener: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: OriginRequest = {
        method: req.method ?? '',
        httpVersion: req.httpVersion,
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
      };
      requests.push(r);
      handler(r, res);
    });
  };
  const ca = opts.tls ? await originCa() : null;
  let server: http.Server | https.Server;
  if (ca) {
    const cert = ca.store.getCert('localhost', ['localhost', '127.0.0.1']);
    server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, listener);
  } else {
    server = http.createServer(listener);
  }
  let connections = 0;
  server.on('connection', () => void connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: ca ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    port,
    requests,
    get connections() {
      return connections;
    },
    caCertPath: ca ? ca.caCertPath : null,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Where a proxy listens, and the CA its clients must trust for HTTPS (an `EmbeddedProxy` fits). */
export interface ProxyEndpoint {
  readonly host: string;
  readonly port: number;
  readonly caCertPath?: string;
}

export interface ProxiedRequestInit {
  /** Default GET. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** The client's own address (to connect from a given interface). */
  readonly localAddress?: string;
}

/** A response as the client received it. */
export interface ProxiedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body as UTF-8 text. */
  readonly text: string;
}

function read(req: http.ClientRequest, body: string | Buffer | undefined): Promise<ProxiedResponse> {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, text: all.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Send one request through a proxy with Node's HTTP client and read the whole response. An
 * `http:` URL goes in absolute form exactly as given (not normalised), as a client configured with a proxy sends it; an `https:`
 * URL opens a CONNECT tunnel and speaks TLS inside it, trusting the proxy's CA (a CONNECT the
 * proxy refuses resolves with the proxy's answer). Rejects with the socket error (e.g.
 * `ECONNRESET`) when the proxy closes the connection without an answer.
 */
export async function requestVia(
  proxy: ProxyEndpoint,
  url: string,
  init: ProxiedRequestInit = {},
): Promise<ProxiedResponse> {
  const u = new URL(url);
  const method = init.method ?? 'GET';
  const headers = { host: u.host, ...init.headers };
  const local = init.localAddress !== undefined ? { localAddress: init.localAddress } : {};
  if (u.protocol === 'http:') {
    return read(
      http.request({ host: proxy.host, port: proxy.port, method, path: url, headers, agent: false, ...local }),
      init.body,
    );
  }
  if (!proxy.caCertPath) throw new Error(`requestVia ${url}: an HTTPS request needs the proxy's CA (caCertPath).`);
  const port = u.port || '443';
  const connect = http.request({
    host: proxy.host,
    port: proxy.port,
    method: 'CONNECT',
    path: `${u.hostname}:${port}`,
    headers: { host: `${u.hostname}:${port}`, ...init.headers },
    agent: false,
    ...local,
  });
  connect.end();
  const tunnel = await new Promise<{ socket: Socket } | ProxiedResponse>((resolve, reject) => {
    // Node reports every answer to a CONNECT here, whatever its status, with the bytes after the head.
    connect.on('connect', (res, socket, head) => {
      if (res.statusCode === 200) return resolve({ socket });
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: head, text: head.toString('utf8') });
    });
    connect.on('error', reject);
  });
  if (!('socket' in tunnel)) return tunnel;
  const secure = tls.connect({
    socket: tunnel.socket,
    ca: readFileSync(proxy.caCertPath),
    ...(isIP(u.hostname) ? {} : { servername: u.hostname }),
  });
  await once(secure, 'secureConnect');
  return read(
    http.request({ createConnection: () => secure, method, path: `${u.pathname}${u.search}`, headers }),
    init.body,
  );
}

/** Hooks after which a flow is finished: its response or error is final. */
const FINISHING: readonly HookName[] = [
  'response',
  'error',
  'tcp_end',
  'tcp_error',
  'udp_end',
  'udp_error',
  'dns_response',
  'dns_error',
  'websocket_end',
];

/** An HTTP flow already holding its whole response, or any flow with an error. */
function finishedEarlier(flow: Flow): boolean {
  if (flow.error !== null) return true;
  const response =
    flow.type === 'http' ? (flow as Flow & { response: { timestampEnd: number | null } | null }).response : null;
  return response !== null && response.timestampEnd !== null;
}

let watchers = 0;

/**
 * Resolve with the first finished flow that matches `match`, a filter expression
 * (`'~u /login & ~s'`) or a predicate: one whose `response`, `error`, `*_end` or `*_error` hook
 * has run. HTTP flows that already hold a whole response or an error count too, so the call may
 * come after the client got its answer; for TCP, UDP and DNS flows call it before they end. The
 * wait is on the proxy's own hooks, never a timer loop: it rejects only after `timeout` ms
 * (default 10 s), listing the flows it saw.
 */
export async function waitForFlow(
  proxy: { readonly kernel: Kernel },
  match: string | ((flow: Flow) => boolean) = () => true,
  opts: { timeout?: number } = {},
): Promise<Flow> {
  const test = typeof match === 'string' ? parseFilter(match) : match;
  const timeout = opts.timeout ?? 10_000;
  let settle: (flow: Flow) => void = () => undefined;
  const found = new Promise<Flow>((resolve) => (settle = resolve));
  const check = (flow: Flow): void => {
    if (test(flow)) settle(flow);
  };
  const watcher: Record<string, unknown> = { name: `waitForFlow#${++watchers}` };
  for (const hook of FINISHING) watcher[hook] = check;
  await proxy.kernel.add(watcher);
  const earlier = proxy.kernel.flows.all().find((f) => finishedEarlier(f) && test(f));
  if (earlier) settle(earlier);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const seen = proxy.kernel.flows
        .all()
        .map(
          (f) =>
            `${f.type} ${'request' in f ? (f as Flow & { request: { prettyUrl: string } }).request.prettyUrl : f.id}`,
        );
      reject(
        new Error(
          `waitForFlow: no finished flow matching ${typeof match === 'string' ? match : 'the predicate'} within ${timeout} ms (flows seen: ${seen.join(', ') || 'none'}).`,
        ),
      );
    }, timeout);
  });
  try {
    return await Promise.race([found, expired]);
  } finally {
    clearTimeout(timer);
    if (proxy.kernel.state === 'running') await proxy.kernel.remove(watcher);
  }
}
