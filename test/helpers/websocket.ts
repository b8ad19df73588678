// WebSocket peers for the end-to-end tests: `ws` servers (plain and TLS, signed by the test CA),
// `ws` clients through the proxy (a CONNECT tunnel for wss://, an absolute-form upgrade for
// ws://), and Debian's Python `websockets` (installed when missing, as CI must).
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer, type ClientOptions } from 'ws';
import type { Client, HTTPFlow } from '@mitmts/sdk';
import { canInstall, installDebianPackages } from '../../scripts/debian.mjs';
import { testCa } from './servers.js';

export const PYTHON = '/usr/bin/python3';
const PROXY_CLIENT_PY = fileURLToPath(new URL('../fixtures/websocket/proxy_client.py', import.meta.url));

/** A `ws` server on 127.0.0.1 (TLS with a test-CA certificate for localhost if `tls`). */
export interface WsServer {
  readonly wss: WebSocketServer;
  readonly port: number;
  /** `ws://127.0.0.1:port` or `wss://localhost:port`. */
  readonly url: string;
  /** The test CA that signed the TLS certificate (the proxy must trust it). */
  readonly caCertPath: string;
  close(): Promise<void>;
}

export async function wsServer(o: { tls?: boolean; deflate?: boolean; maxPayload?: number } = {}): Promise<WsServer> {
  const ca = await testCa();
  const server = o.tls ? https.createServer(ca.issue('localhost', '127.0.0.1')) : http.createServer();
  const wss = new WebSocketServer({
    server,
    perMessageDeflate: o.deflate ? { threshold: 0 } : false,
    maxPayload: o.maxPayload ?? 100 * 1024 * 1024,
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    wss,
    port,
    url: o.tls ? `wss://localhost:${port}` : `ws://127.0.0.1:${port}`,
    caCertPath: ca.caCertPath,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Echo every message back as it came (text as text, binary as binary). */
export function echo(s: WsServer): void {
  s.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
}

/** Open a CONNECT tunnel through the proxy to `host:port`. */
export function connectTunnel(proxyPort: number, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: `${host}:${port}` });
    req.on('connect', (res, socket) =>
      res.statusCode === 200 ? resolve(socket) : reject(new Error(`CONNECT answered ${res.statusCode}`)),
    );
    req.on('error', reject);
    req.end();
  });
}

/** An agent that reaches wss:// servers through a CONNECT tunnel, trusting `ca` (an HttpsProxyAgent of our own). */
class TunnelAgent extends http.Agent {
  readonly protocol = 'https:';
  constructor(
    private readonly proxyPort: number,
    private readonly ca: string,
  ) {
    super();
  }

  override createConnection(
    o: { host?: string; port?: number | string; servername?: string },
    cb: (err: Error | null, s?: Duplex) => void,
  ): undefined {
    const host = o.host ?? 'localhost';
    connectTunnel(this.proxyPort, host, Number(o.port)).then(
      (socket) => {
        const t = tls.connect({ socket, ca: this.ca, servername: o.servername ?? host });
        t.once('secureConnect', () => cb(null, t));
        t.once('error', (e) => cb(e));
      },
      (e: Error) => cb(e),
    );
    return undefined;
  }
}

/**
 * A `ws` client for `url` through the proxy: wss:// through a CONNECT tunnel (the proxy's CA
 * trusted), ws:// as an absolute-form upgrade request (`GET ws-url-as-http HTTP/1.1`).
 */
export function wsClient(
  proxy: { port: number; ca: string },
  url: string,
  opts: ClientOptions & { deflate?: boolean } = {},
): WebSocket {
  const { deflate, ...rest } = opts;
  const base: ClientOptions = {
    perMessageDeflate: deflate ? { threshold: 0 } : false,
    maxPayload: 100 * 1024 * 1024,
    ...rest,
  };
  if (url.startsWith('wss:')) return new WebSocket(url, { ...base, agent: new TunnelAgent(proxy.port, proxy.ca) });
  const u = new URL(url);
  return new WebSocket(url, {
    ...base,
    createConnection: () => net.connect(proxy.port, '127.0.0.1'),
    finishRequest: (req) => {
      req.path = `http://${u.host}${u.pathname}${u.search}`;
      req.end();
    },
  });
}

/** Messages a peer sends: text and binary alternately, up to ~3 KB, some compressible, some not. */
export function testMessages(n: number): Array<string | Buffer> {
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  return Array.from({ length: n }, (_, i) => {
    if (i % 2 === 0) return `text ${i} ` + 'é€𝄞'.repeat(Math.floor(rnd() * 40)) + 'x'.repeat(Math.floor(rnd() * 2000));
    const b = Buffer.alloc(Math.floor(rnd() * 3000));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
    return b;
  });
}

/** Bytes of a message as sent. */
export const bytesOf = (m: string | Buffer): Buffer => (typeof m === 'string' ? Buffer.from(m) : m);

/** Send every message (without waiting), check each echo byte for byte and in order; then close with 4000. */
export async function echoRoundTrips(ws: WebSocket, msgs: Array<string | Buffer>): Promise<void> {
  if (ws.readyState !== WebSocket.OPEN) await once(ws, 'open');
  const echoed = new Promise<void>((resolve, reject) => {
    let i = 0;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const m = msgs[i]!;
      if (isBinary !== (typeof m !== 'string') || !data.equals(bytesOf(m)))
        reject(new Error(`echo ${i} differs (${data.length} bytes, binary ${isBinary})`));
      if (++i === msgs.length) resolve();
    });
  });
  for (const m of msgs) ws.send(m);
  await echoed;
  ws.close(4000, 'done');
  const [code] = (await once(ws, 'close')) as [number];
  if (code !== 4000) throw new Error(`closed with ${code}`);
}

/**
 * Debian's python3-websockets: null when importable (installed if missing where packages can
 * be installed), else why not.
 */
export function pythonWebsockets(): string | null {
  const check = (): boolean => {
    try {
      execFileSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (existsSync(PYTHON) && check()) return null;
  if (!canInstall()) return 'python3-websockets is missing and this process cannot install Debian packages';
  return (
    installDebianPackages(['python3', 'python3-websockets']) ??
    (check() ? null : 'python3-websockets did not import after installing')
  );
}

/** Result line of the Python client. */
export interface PythonResult {
  ok: boolean;
  count?: number;
  extensions?: string | null;
  close_code?: number;
  error?: string;
}

/**
 * Python `websockets` through the proxy (a CONNECT tunnel for wss://, an absolute-form upgrade
 * for ws://): `n` echo round trips like {@link testMessages} (some fragmented), a ping, close 4000.
 */
export function pythonClient(
  proxyPort: number,
  url: string,
  deflate: boolean,
  n: number,
  caCertPath: string,
): Promise<PythonResult> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [PROXY_CLIENT_PY, String(proxyPort), url, deflate ? 'deflate' : 'plain', String(n), caCertPath],
      { timeout: 120_000 },
      (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(last) as PythonResult);
        } catch {
          reject(new Error(`python client failed: ${err?.message ?? ''}\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

/** An addon recording the WebSocket hooks in order, with the flow's state when each fired. */
export class HookLog {
  readonly name = 'hooklog';
  readonly events: string[] = [];
  private waiters: Array<{ path: string | undefined; resolve: (f: HTTPFlow) => void }> = [];
  private gone: Array<(c: Client) => void> = [];
  websocket_start(f: HTTPFlow): void {
    this.events.push(`start ${f.websocket !== null}`);
  }
  websocket_message(): void {
    this.events.push('message');
  }
  websocket_end(f: HTTPFlow): void {
    this.events.push(`end ${f.websocket!.closeCode} live=${f.live}`);
    this.waiters = this.waiters.filter((w) =>
      w.path === undefined || w.path === f.request.path ? void w.resolve(f) : true,
    );
  }
  response(f: HTTPFlow): void {
    if (f.response?.statusCode === 101) this.events.push(`response websocket=${f.websocket !== null}`);
  }
  client_disconnected(c: Client): void {
    for (const w of this.gone.splice(0)) w(c);
  }
  /** The next flow (with this request path, if given) whose `websocket_end` fires. */
  nextEnd(path?: string): Promise<HTTPFlow> {
    return new Promise((resolve) => this.waiters.push({ path, resolve }));
  }
  /** The next client connection to end (after everything on it). */
  nextDisconnect(): Promise<Client> {
    return new Promise((resolve) => this.gone.push(resolve));
  }
  count(prefix: string): number {
    return this.events.filter((e) => e.startsWith(prefix)).length;
  }
}
