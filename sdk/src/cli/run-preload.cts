/**
 * Preloaded into Node.js processes started by `mitmts run` (through NODE_OPTIONS=--require), so
 * that a program that knows nothing of proxies goes through the proxy:
 * - global `fetch`: Node's bundled undici ignores HTTP(S)_PROXY, so the global dispatcher becomes
 *   undici's `EnvHttpProxyAgent` on the first call (npm undici 7: its `setGlobalDispatcher` sets
 *   the global symbol `undici.globalDispatcher.1` that Node 20's bundled undici 6 reads, and
 *   its dispatchers accept the handlers of the bundled fetch). Programs that use npm undici
 *   directly get the proxy once the global fetch was called, or by using EnvHttpProxyAgent;
 * - `node:http` and `node:https` without an explicit agent: the global agents become agents
 *   that open a CONNECT tunnel through the proxy for each connection (TLS, when any, runs
 *   inside the tunnel, verified against Node's CAs plus NODE_EXTRA_CA_CERTS).
 * Both follow HTTPS_PROXY / HTTP_PROXY and NO_PROXY from the environment, and do nothing when no
 * proxy is set. An https:// proxy URL gets TLS to the proxy (undici does that itself). A CommonJS file on purpose: `--require` works in NODE_OPTIONS on every Node
 * version, where `--import` makes Node older than 18.19 refuse to start.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

const env = process.env;
const proxyFor = (secure: boolean): string | undefined =>
  secure
    ? (env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy)
    : (env.HTTP_PROXY ?? env.http_proxy);

/** NO_PROXY as curl reads it: `*`, or host names and domain suffixes, optionally with a port. */
function bypassed(host: string, port: number): boolean {
  const list = (env.NO_PROXY ?? env.no_proxy ?? '').split(/[\s,]+/).filter(Boolean);
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return list.some((entry) => {
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry.toLowerCase())!;
    const name = m[1]!.replace(/^\*?\./, '');
    if (m[2] !== undefined && Number(m[2]) !== port) return false;
    return h === name || h.endsWith(`.${name}`);
  });
}

interface TunnelTarget {
  host: string;
  port: number;
}

/** A CONNECT tunnel to `target` through the proxy at `proxyUrl`; the socket once the proxy said 2xx. */
function tunnel(proxyUrl: string, target: TunnelTarget, done: (err: Error | null, socket?: net.Socket) => void): void {
  const proxy = new URL(proxyUrl);
  const auth = proxy.username
    ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`
    : '';
  const hostport = `${target.host.includes(':') && !target.host.startsWith('[') ? `[${target.host}]` : target.host}:${target.port}`;
  const host = proxy.hostname.replace(/^\[|\]$/g, '');
  // An https:// proxy: TLS to the proxy first (verified against Node's CAs plus
  // NODE_EXTRA_CA_CERTS), then CONNECT inside it.
  const secure = proxy.protocol === 'https:';
  const socket = secure
    ? tls.connect({
        host,
        port: Number(proxy.port || 443),
        ALPNProtocols: ['http/1.1'],
        ...(net.isIP(host) ? {} : { servername: host }),
      })
    : net.connect(Number(proxy.port || 80), host);
  let head = Buffer.alloc(0);
  const fail = (err: Error): void => {
    socket.destroy();
    done(err);
  };
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > 16384)
        fail(new Error(`the proxy at ${proxy.host} sent an over-long answer to CONNECT ${hostport}`));
      return;
    }
    socket.off('data', onData);
    socket.off('error', fail);
    const status = head.toString('latin1', 0, head.indexOf('\r\n'));
    if (!/^HTTP\/1\.[01] 2\d\d/.test(status))
      return fail(new Error(`the proxy at ${proxy.host} refused CONNECT ${hostport}: ${status}`));
    if (end + 4 < head.length) socket.unshift(head.subarray(end + 4));
    done(null, socket);
  };
  socket.on('data', onData);
  socket.on('error', fail);
  socket.once(secure ? 'secureConnect' : 'connect', () =>
    socket.write(`CONNECT ${hostport} HTTP/1.1\r\nHost: ${hostport}\r\n${auth}\r\n`),
  );
}

type Callback = (err: Error | null, stream: Duplex) => void;

/** Where a request goes: Node passes the request options to `createConnection`. */
const targetOf = (o: http.ClientRequestArgs, defaultPort: number): TunnelTarget => ({
  host: o.host ?? o.hostname ?? 'localhost',
  port: Number(o.port) || defaultPort,
});

/** node:https's global agent, tunnelling through the proxy. */
class HttpsTunnelAgent extends https.Agent {
  override createConnection(options: https.RequestOptions, cb?: Callback): Duplex | null | undefined {
    const proxy = proxyFor(true);
    const target = targetOf(options, 443);
    const tlsOptions = options as tls.ConnectionOptions;
    if (proxy === undefined || bypassed(target.host, target.port) || cb === undefined)
      return super.createConnection(options, cb);
    tunnel(proxy, target, (err, socket) => {
      if (err) return cb(err, socket!);
      const servername = tlsOptions.servername ?? (net.isIP(target.host) ? undefined : target.host);
      cb(null, tls.connect({ ...tlsOptions, socket, ...(servername ? { servername } : {}) }));
    });
    return undefined;
  }
}

/** node:http's global agent: plain HTTP through a CONNECT tunnel too (the proxy sees it whole). */
class HttpTunnelAgent extends http.Agent {
  override createConnection(options: http.ClientRequestArgs, cb?: Callback): Duplex | null | undefined {
    const proxy = proxyFor(false);
    const target = targetOf(options, 80);
    if (proxy === undefined || bypassed(target.host, target.port) || cb === undefined)
      return super.createConnection(options, cb);
    tunnel(proxy, target, (err, socket) => cb(err, socket!));
    return undefined;
  }
}

/**
 * Route the global fetch: undici is loaded on the first call (loading it takes 100 ms or more,
 * which a process that never fetches should not pay). The dispatcher it installs is the
 * global one, used from then on by every fetch, also through references taken earlier.
 */
function routeFetchLazily(): void {
  const nativeFetch = globalThis.fetch;
  if (typeof nativeFetch !== 'function') return;
  let installed = false;
  const install = (): void => {
    installed = true;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const undici = require('undici') as typeof import('undici');
      undici.setGlobalDispatcher(new undici.EnvHttpProxyAgent());
    } catch (err) {
      process.stderr.write(
        `mitmts run: global fetch is not routed through the proxy in this process (${(err as Error).message.split('\n')[0]})\n`,
      );
    }
  };
  globalThis.fetch = function fetch(
    input: Parameters<typeof nativeFetch>[0],
    init?: Parameters<typeof nativeFetch>[1],
  ) {
    if (!installed) {
      install();
      globalThis.fetch = nativeFetch;
    }
    return nativeFetch(input, init);
  };
}

if (proxyFor(true) !== undefined || proxyFor(false) !== undefined) {
  http.globalAgent = new HttpTunnelAgent({ keepAlive: true });
  https.globalAgent = new HttpsTunnelAgent({ keepAlive: true });
  routeFetchLazily();
}
