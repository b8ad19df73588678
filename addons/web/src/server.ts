/**
 * The web UI's HTTP server (node:http + ws): the page and its static files, the REST API and
 * the `/updates` WebSocket, behind mitmweb's token auth, XSRF check and a Host check. Loaded
 * only when the `web` option is on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Kernel, Logger } from '@mitmts/sdk';
import { WebSocketServer } from 'ws';
import { loadAssets, type Assets } from './assets.js';
import { Auth } from './auth.js';
import type { FlowBackend } from './backend.js';
import { EventLog } from './events.js';
import { HttpError, sendText } from './http-util.js';
import { loginPage } from './login.js';
import type { WebState } from './protocol.js';
import { optionsJson, route, type ApiContext } from './routes.js';
import { UpdateHub } from './updates.js';

export interface WebServerOptions {
  readonly host: string;
  readonly port: number;
  /** The access token (`web_password`, or a random one). */
  readonly token: string;
  readonly log: Logger;
  /** Unsent bytes after which a WebSocket client is dropped (default 16 MiB). */
  readonly maxBuffered?: number;
  /** Longest wait before flow changes go out (default 30 ms). */
  readonly frameMs?: number;
  state(): WebState;
}

const READ_ONLY = new Set(['GET', 'HEAD', 'OPTIONS']);

export class WebServer {
  readonly hub: UpdateHub;
  readonly events = new EventLog();
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
  private readonly auth: Auth;
  private readonly ctx: ApiContext;
  private assets: Assets | null = null;
  private port = 0;

  private constructor(
    private readonly kernel: Kernel,
    private backend_: FlowBackend,
    private readonly opts: WebServerOptions,
  ) {
    const backend = backend_;
    this.hub = new UpdateHub(backend, {
      log: opts.log,
      maxBuffered: opts.maxBuffered ?? 16 << 20,
      frameMs: opts.frameMs ?? 30,
    });
    this.auth = new Auth(opts.token, opts.host);
    this.ctx = { kernel, backend, hub: this.hub, events: this.events, state: opts.state };
    this.http = createServer((req, res) => void this.handle(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.http.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Listen; rejects with the socket error (e.g. EADDRINUSE). */
  static async start(kernel: Kernel, backend: FlowBackend, opts: WebServerOptions): Promise<WebServer> {
    const s = new WebServer(kernel, backend, opts);
    s.assets = await loadAssets();
    await new Promise<void>((resolve, reject) => {
      s.http.once('error', reject);
      s.http.listen(opts.port, opts.host, () => {
        s.http.off('error', reject);
        resolve();
      });
    });
    s.port = (s.http.address() as AddressInfo).port;
    return s;
  }

  /** The backend the API and the views read. */
  get backend(): FlowBackend {
    return this.backend_;
  }

  /** Read `backend` from now on (the API at once, the pages' views from their next update). */
  useBackend(backend: FlowBackend): void {
    this.backend_ = backend;
    this.ctx.backend = backend;
    this.hub.useBackend(backend);
  }

  get address(): { host: string; port: number } {
    return { host: this.opts.host, port: this.port };
  }

  /** The URL to open, token included. */
  get url(): string {
    const h = this.opts.host;
    const host = h === '' || h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
    return `http://${host}:${this.port}/?token=${encodeURIComponent(this.opts.token)}`;
  }

  /** Options changed: tell the pages. */
  optionsChanged(names: ReadonlySet<string>): void {
    this.hub.broadcast({ type: 'options/update', payload: optionsJson(this.kernel, names) });
  }

  async close(): Promise<void> {
    this.hub.close();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.dispatch(req, res);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) sendText(res, err.status, err.message);
      else {
        this.opts.log.error(`Web UI request ${req.method} ${req.url} failed: ${(err as Error)?.stack ?? String(err)}`);
        sendText(res, 500, `Internal error: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    if (!this.auth.hostOk(req))
      throw new HttpError(
        403,
        'Invalid Host header: open the web UI by its loopback address (127.0.0.1 or localhost).',
      );
    const url = new URL(req.url ?? '/', 'http://web.invalid');
    const path = url.pathname;
    if (path === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'max-age=86400' }).end();
      return;
    }
    const asset = method === 'GET' && path.startsWith('/static/') ? this.assets?.files.get(path.slice(8)) : undefined;
    if (asset) {
      // The page's code and styles hold no data: served without the token so the login page can use them.
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': asset.body.length,
        'cache-control': 'no-cache',
        etag: asset.etag,
        'x-content-type-options': 'nosniff',
      });
      res.end(req.headers['if-none-match'] === asset.etag ? undefined : asset.body);
      return;
    }
    const auth = this.auth.check(req, url);
    const page = method === 'GET' && (path === '/' || path === '/index.html');
    if (auth === 'wrong')
      throw new HttpError(403, 'Invalid token: use the URL printed when mitmts started, or web_password.');
    if (auth === 'missing') {
      if (page)
        sendText(res, 401, loginPage(), 'text/html; charset=utf-8', {
          'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'",
        });
      else
        throw new HttpError(
          401,
          'Authentication required: pass ?token=... or an "Authorization: Bearer ..." header (the token is printed when mitmts starts).',
        );
      return;
    }
    const explicitToken = url.searchParams.has('token') || req.headers.authorization !== undefined;
    // XSRF matters only for the cookie a browser sends by itself; a request that names the token is not forgeable.
    if (!READ_ONLY.has(method) && !explicitToken && !this.auth.xsrfOk(req)) {
      throw new HttpError(
        403,
        'XSRF check failed: send the value of the _mitmproxy_xsrf cookie in an X-XSRFToken header.',
      );
    }
    if (page) {
      this.servePage(req, res, explicitToken);
      return;
    }
    const r = route(method, path);
    if (r === 'not-found') throw new HttpError(404, `No such API route: ${method} ${path}.`);
    if (r === 'bad-method') throw new HttpError(405, `${method} is not allowed on ${path}.`);
    await r.handler(this.ctx, req, res, r.params, url);
  }

  private servePage(req: IncomingMessage, res: ServerResponse, login: boolean): void {
    const index = this.assets?.index;
    if (!index)
      throw new HttpError(503, 'The web UI page is not built: run `npm run build` (the API works without it).');
    const cookies: string[] = [];
    if (login) cookies.push(this.auth.authCookie());
    if (!/(?:^|;\s*)_mitmproxy_xsrf=/.test(req.headers.cookie ?? '')) cookies.push(Auth.xsrfCookie());
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': index.length,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'content-security-policy':
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-src 'none'",
      ...(cookies.length ? { 'set-cookie': cookies } : {}),
    });
    res.end(index);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    const url = new URL(req.url ?? '/', 'http://web.invalid');
    if (url.pathname !== '/updates') return refuse(404, 'Not Found');
    if (!this.auth.hostOk(req) || !this.auth.originOk(req)) return refuse(403, 'Forbidden');
    const auth = this.auth.check(req, url);
    if (auth !== 'ok') return refuse(auth === 'missing' ? 401 : 403, auth === 'missing' ? 'Unauthorized' : 'Forbidden');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.hub.attach(ws));
  }
}
