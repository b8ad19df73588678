/**
 * Test support for the examples: a local upstream server, a real HTTP client that goes through
 * the proxy, and a proxy running an example exactly as `mitmts -s example.ts` does.
 */
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { createProxy, type EmbeddedProxy } from '@mitmts/sdk';
import { ScriptLoader } from '@mitmts/addon-script';

/** What the upstream saw: it answers every request with this, as JSON. */
export interface Echo {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface Upstream {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An HTTP server on loopback that echoes each request back as JSON (HTML for `/page`). */
export async function upstream(): Promise<Upstream> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/page') {
        res.setHeader('content-type', 'text/html');
        res.end('<html><head><title>t</title></head><body>page</body></html>');
        return;
      }
      const echo: Echo = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(echo));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, close: () => new Promise((r) => server.close(() => r())) };
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Send a request through the proxy with Node's HTTP client (absolute-form, as browsers do). */
export function send(
  proxy: EmbeddedProxy,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: proxy.host,
        port: proxy.port,
        method: init.method ?? 'GET',
        path: url,
        headers: { host: new URL(url).host, ...init.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A proxy running one example file as a script (`mitmts -s <file>`), with options. */
export function proxyWith(example: string, options: Record<string, unknown> = {}): Promise<EmbeddedProxy> {
  return createProxy({
    addons: [ScriptLoader],
    options: { scripts: [join(import.meta.dirname, example)], ...options },
  });
}

/** Messages logged so far, optionally at one level. */
export function messages(proxy: EmbeddedProxy, level?: string): string[] {
  return proxy.logs.filter((e) => level === undefined || e.level === level).map((e) => e.message);
}
