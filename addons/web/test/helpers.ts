// A proxy with the web UI on (ephemeral ports), an upstream server, and small clients for both.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxy, type AddonInput, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { Web } from '@mitmts/addon-web';
import WebSocket from 'ws';
import type { FlowRow, ServerMessage, ViewDelta } from '../src/protocol.js';

export interface WebRig {
  readonly proxy: EmbeddedProxy;
  readonly web: Web;
  /** `http://127.0.0.1:port` of the web server. */
  readonly base: string;
  readonly token: string;
  /** `http://127.0.0.1:port` of the upstream server (echoes method, path, headers and body). */
  readonly upstream: string;
  /** The last request the upstream saw. */
  last: { method: string; path: string; headers: http.IncomingHttpHeaders; body: string } | null;
  close(): Promise<void>;
}

/**
 * Holds requests whose path starts with /hold (what the intercept addon does for its filter);
 * `held(path)` resolves once such a flow is waiting.
 */
export class HoldAddon {
  readonly name = 'test.hold';
  private readonly waiting = new Map<string, Array<(f: HTTPFlow) => void>>();
  private readonly seen = new Map<string, HTTPFlow>();

  request(f: HTTPFlow): void {
    const path = f.request.path;
    if (!path.startsWith('/hold')) return;
    f.intercept();
    this.seen.set(path, f);
    for (const w of this.waiting.get(path) ?? []) w(f);
    this.waiting.delete(path);
  }

  held(path: string): Promise<HTTPFlow> {
    const f = this.seen.get(path);
    if (f) return Promise.resolve(f);
    return new Promise((resolve) => this.waiting.set(path, [...(this.waiting.get(path) ?? []), resolve]));
  }
}

export async function startWeb(addons: AddonInput[] = [], options: Record<string, unknown> = {}): Promise<WebRig> {
  const rig = { last: null } as { -readonly [K in keyof WebRig]: WebRig[K] };
  const upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      rig.last = { method: req.method!, path: req.url!, headers: req.headers, body };
      const type = req.url!.startsWith('/json') ? 'application/json' : 'text/plain';
      const out = type === 'application/json' ? JSON.stringify({ path: req.url, body }) : `hello ${req.url}`;
      res.writeHead(200, { 'content-type': type }).end(out);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const proxy = await createProxy({
    addons: [Web, ...addons],
    options: { web: true, web_port: 0, web_open_browser: false, ...options },
    keepFlows: 100,
  });
  const web = proxy.kernel.get<Web>('web')!;
  await web.settled();
  const url = new URL(web.server!.url);
  rig.proxy = proxy;
  rig.web = web;
  rig.base = url.origin;
  rig.token = url.searchParams.get('token')!;
  rig.upstream = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  rig.close = async () => {
    await proxy.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  };
  return rig;
}

/** A request through the proxy (absolute-form, as a proxied client sends it). */
export function viaProxy(
  rig: WebRig,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const host = new URL(rig.upstream).host;
    const req = http.request(
      {
        host: rig.proxy.host,
        port: rig.proxy.port,
        method,
        path: `${rig.upstream}${path}`,
        headers: { host, ...headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A request to the web API with the token (Bearer) unless `headers` say otherwise. */
export async function api(
  rig: WebRig,
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<{ status: number; text: string; json: () => unknown; headers: Headers }> {
  const h: Record<string, string> = headers ?? { authorization: `Bearer ${rig.token}` };
  let payload: string | Buffer | undefined;
  if (Buffer.isBuffer(body)) payload = body;
  else if (body !== undefined) {
    h['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${rig.base}${path}`, { method, headers: h, body: payload, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as unknown, headers: res.headers };
}

/** A WebSocket client that queues messages and waits for one that passes a test. */
export class UiClient {
  readonly ws: WebSocket;
  private readonly queue: ServerMessage[] = [];
  private waiter: (() => void) | null = null;
  rows: FlowRow[] = [];
  count = 0;

  constructor(url: string, headers: Record<string, string>) {
    this.ws = new WebSocket(url, { headers });
    this.ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'view/update') this.apply(m.payload);
      this.queue.push(m);
      this.waiter?.();
    });
  }

  static async open(r: WebRig): Promise<UiClient> {
    const c = new UiClient(`${r.base.replace('http', 'ws')}/updates`, { authorization: `Bearer ${r.token}` });
    await new Promise((resolve, reject) => {
      c.ws.once('open', resolve);
      c.ws.once('error', reject);
    });
    return c;
  }

  send(m: unknown): void {
    this.ws.send(JSON.stringify(m));
  }

  /** The next message (from now on) that passes `test`. */
  async next(test: (m: ServerMessage) => boolean): Promise<ServerMessage> {
    for (;;) {
      const i = this.queue.findIndex(test);
      if (i >= 0) return this.queue.splice(0, i + 1).pop()!;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** Wait until the window shows these paths. */
  async until(test: () => boolean): Promise<void> {
    while (!test()) await this.next((m) => m.type === 'view/update');
  }

  paths(): string[] {
    return this.rows.map((r) => new URL(r.url).pathname);
  }

  private apply(d: ViewDelta): void {
    this.count = d.count;
    const removed = new Set(d.ops.filter((o) => o[0] === 'r').map((o) => o[1] as string));
    const rows = this.rows.filter((r) => !removed.has(r.id));
    for (const o of d.ops) if (o[0] === 'i') rows.splice(o[1], 0, o[2]);
    for (const o of d.ops) if (o[0] === 'u') rows[rows.findIndex((r) => r.id === o[1].id)] = o[1];
    this.rows = rows;
  }
}
