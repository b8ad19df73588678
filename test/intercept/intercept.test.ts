// Interception on the wire: real clients (curl and Node) through the proxy; the held flow is
// resumed and killed through commands, as the web UI does; a second client is served while one
// flow is held; a client that gives up while its flow is held ends it cleanly.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import Core from '@mitmts/addon-corecommands';
import { Intercept } from '@mitmts/addon-intercept';
import { httpServer, type Upstream } from '../helpers/servers.js';

let upstream: Upstream;
let proxy: EmbeddedProxy;
const seen: string[] = [];
/** Flows the error hook saw, with their error then. */
const errors: string[] = [];

beforeAll(async () => {
  upstream = await httpServer((req, res) => {
    seen.push(req.url!);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`served ${req.url}`);
  });
  const errorHook = { name: 'errors', error: (f: HTTPFlow) => void errors.push(`${f.request.path}: ${f.error?.msg}`) };
  proxy = await createProxy({ addons: [...Core, Intercept, errorHook], options: { intercept: '~u /hold' } });
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

/** A GET through the proxy with Node's http client; `abort` ends the socket early. */
function nodeGet(path: string): { done: Promise<{ status: number; body: string }>; abort: () => void } {
  const req = request({ host: proxy.host, port: proxy.port, path: `${upstream.url}${path}`, agent: false });
  const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.end();
  return { done, abort: () => req.destroy() };
}

function curlGet(path: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const c = spawn('curl', ['-sS', '-x', proxy.url, `${upstream.url}${path}`]);
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.stderr.on('data', (d: Buffer) => (out += d));
    c.on('exit', (code) => resolve({ code: code ?? -1, out }));
  });
}

/** Wait (polling the event loop, no fixed sleep) until `test` holds; fail after 10 s. */
async function until(test: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The flow for `path` once it is held at `stage`. */
async function heldAt(path: string, stage: 'request' | 'response'): Promise<HTTPFlow> {
  const find = (): HTTPFlow | undefined =>
    proxy.flows
      .all()
      .find(
        (f): f is HTTPFlow =>
          f.intercepted &&
          (f as HTTPFlow).request.path === path &&
          ((f as HTTPFlow).response !== null) === (stage === 'response'),
      ) as HTTPFlow | undefined;
  await until(() => find() !== undefined, `${path} held at ${stage}`);
  return find()!;
}

describe('intercept on the wire', () => {
  it('holds a curl request at request and at response until flow.resume; another client is served meanwhile', async () => {
    const curl = curlGet('/hold/1');
    const flow = await heldAt('/hold/1', 'request');
    expect(seen).not.toContain('/hold/1');
    // A second connection is not blocked by the held one.
    expect(await nodeGet('/free').done).toEqual({ status: 200, body: 'served /free' });

    await proxy.command('flow.resume', '~u /hold/1');
    await heldAt('/hold/1', 'response');
    expect(seen).toContain('/hold/1');
    expect(flow.response?.text).toBe('served /hold/1');

    // Edited while held, as a user does in the UI, then let go.
    flow.response!.text = 'edited while held';
    await proxy.command('flow.resume', [flow]);
    expect(await curl).toEqual({ code: 0, out: 'edited while held' });
  });

  it('flow.kill ends a held request: the server never sees it, the client is cut off', async () => {
    const client = nodeGet('/hold/2');
    await heldAt('/hold/2', 'request');
    await proxy.command('flow.kill', '~u /hold/2');
    await expect(client.done).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(seen).not.toContain('/hold/2');
    expect(errors).toContain('/hold/2: Connection killed.');
  });

  it('a client that disconnects while its flow is held ends that flow cleanly, as "Client disconnected." (mitmproxy\'s error)', async () => {
    const client = nodeGet('/hold/3');
    client.done.catch(() => undefined);
    const flow = await heldAt('/hold/3', 'request');
    client.abort();
    await until(() => errors.some((e) => e.startsWith('/hold/3')), 'the error hook');
    expect(flow.intercepted).toBe(false);
    expect(flow.live).toBe(false);
    expect(flow.error!.msg).toBe('Client disconnected.');
    expect(errors.filter((e) => e.startsWith('/hold/3'))).toEqual(['/hold/3: Client disconnected.']);
    expect(seen).not.toContain('/hold/3');
    // Nothing stays behind: the connection is gone, no flow is held.
    let open = -1;
    await until(
      () => (void proxy.command('proxyserver.active_connections').then((n) => (open = n)), open === 0),
      'the connection to close',
    );
    expect(proxy.flows.all().filter((f) => f.intercepted)).toEqual([]);
    expect(proxy.logs.some((e) => /intercept: client .* disconnected; killed 1 intercepted flow/.test(e.message))).toBe(
      true,
    );
  });
});
