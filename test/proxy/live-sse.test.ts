// Live Server-Sent Events: real clients (curl -N, Node fetch through undici's ProxyAgent, node:https
// through a CONNECT tunnel, Python requests with stream=True) read an event stream through the
// proxy from a real origin that sends the next event only once the client has printed the
// previous one. A proxy that held the response until it ended would never get the first event
// to the client, and the test would fail. The flow still records the whole body, the sse_event
// hooks see every event (decoded when gzip'd) before the response hook, which has the body.
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch, ProxyAgent } from 'undici';
import { createProxy, type EmbeddedProxy, type HTTPFlow, type SseEvent } from '@mitmts/sdk';
import { httpServer, httpsServer, type Upstream } from '../helpers/servers.js';
import { CURL, ensureTools, PYTHON_REQUESTS } from '../helpers/tools.js';

const missingCurl = ensureTools(CURL);
const missingPython = ensureTools(PYTHON_REQUESTS);
for (const m of [missingCurl, missingPython]) if (m) console.warn(`live SSE test skipped: ${m}`);

const EVENTS = Array.from({ length: 4 }, (_, i) => `id: ${i}\ndata: {"n":${i},"text":"part ${i}"}\n\n`);

/** The origin's side of one event stream: the test writes each event when it wants. */
interface OriginStream {
  write(text: string): void;
  end(): void;
}

let nextStream: ((s: OriginStream) => void) | null = null;
function streamArrives(): Promise<OriginStream> {
  return new Promise((resolve) => (nextStream = resolve));
}

/** Event streams; /ndjson... answers the same text as JSON lines. Paths ending in -gzip answer gzip'd, flushed after each event (as a compressing server does). */
const handler: http.RequestListener = (req, res) => {
  const gzip = (req.url ?? '').endsWith('-gzip');
  const type = (req.url ?? '').startsWith('/ndjson') ? 'application/x-ndjson' : 'text/event-stream';
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
  res.flushHeaders();
  let stream: OriginStream;
  if (gzip) {
    const z = zlib.createGzip();
    z.pipe(res);
    stream = { write: (t) => (z.write(t), z.flush(zlib.constants.Z_SYNC_FLUSH)), end: () => z.end() };
  } else {
    stream = { write: (t) => res.write(t), end: () => res.end() };
  }
  nextStream?.(stream);
};

/** What a client printed so far; waits for a text to appear (or the client to end without it). */
class Output {
  private text = '';
  private waiters: Array<() => void> = [];
  private ended = false;
  add(chunk: string): void {
    this.text += chunk;
    for (const w of this.waiters.splice(0)) w();
  }
  close(): void {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w();
  }
  async waitFor(needle: string): Promise<void> {
    while (!this.text.includes(needle)) {
      if (this.ended) throw new Error(`the client ended without printing ${needle}:\n${this.text}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  get all(): string {
    return this.text;
  }
}

interface RunningClient {
  readonly output: Output;
  readonly done: Promise<void>;
}

/** A child process whose standard output is the client's output. */
function child(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): RunningClient {
  const output = new Output();
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stdout.on('data', (c: Buffer) => output.add(c.toString()));
  p.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<void>((resolve, reject) =>
    p.on('close', (code) => {
      output.close();
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with ${code}: ${err}`));
    }),
  );
  return { output, done };
}

/** Reads a body stream into an Output. */
function reading(body: AsyncIterable<Uint8Array>): RunningClient {
  const output = new Output();
  const decoder = new TextDecoder();
  const done = (async () => {
    for await (const chunk of body) output.add(decoder.decode(chunk, { stream: true }));
    output.close();
  })();
  return { output, done };
}

let proxy: EmbeddedProxy;
let plain: Upstream;
let secure: Awaited<ReturnType<typeof httpsServer>>;
/** What the hooks saw, in order: `event <flow id> <data>` and `response <flow id>`. */
const seen: string[] = [];
/** Resolves with the flow once the response hook fired for a request path. */
const responded = new Map<string, (f: HTTPFlow) => void>();
const responseHook = (path: string): Promise<HTTPFlow> => new Promise((resolve) => responded.set(path, resolve));

beforeAll(async () => {
  plain = await httpServer(handler);
  secure = await httpsServer(handler);
  const recorder = {
    name: 'recorder',
    sse_event: (f: HTTPFlow, e: SseEvent) => void seen.push(`event ${f.id} ${e.id}:${e.data}`),
    response_chunk: (f: HTTPFlow, chunk: Buffer) => void seen.push(`chunk ${f.id} ${chunk.length}`),
    response: (f: HTTPFlow) => {
      seen.push(`response ${f.id}`);
      responded.get(f.request.path)?.(f);
    },
  };
  proxy = await createProxy({ addons: [recorder], options: { ssl_verify_upstream_trusted_ca: secure.ca.caCertPath } });
});
afterAll(async () => {
  await proxy?.close();
  await plain?.close();
  await secure?.close();
});

/**
 * Run a client against `url` in lockstep: event i+1 is sent only once the client printed event
 * i. Then check the recorded flow and the hooks.
 */
async function lockstep(url: string, start: (url: string) => RunningClient | Promise<RunningClient>): Promise<void> {
  const path = new URL(url).pathname;
  const hooked = responseHook(path);
  const arrives = streamArrives();
  const client = await start(url);
  const stream = await arrives;
  for (let i = 0; i < EVENTS.length; i++) {
    stream.write(EVENTS[i]!);
    await client.output.waitFor(`"n":${i}`);
  }
  stream.end();
  await client.done;
  expect(client.output.all.replace(/\r/g, '')).toContain('"text":"part 3"');

  const flow = await hooked;
  expect(flow.response!.getText()).toBe(EVENTS.join(''));
  const mine = seen.filter((s) => s.includes(` ${flow.id}`));
  // Every chunk that went through, before the response hook.
  const chunks = mine.filter((s) => s.startsWith('chunk '));
  expect(chunks.length).toBeGreaterThanOrEqual(EVENTS.length);
  expect(chunks.reduce((n, s) => n + Number(s.split(' ')[2]), 0)).toBe(flow.response!.rawContent!.length);
  expect(mine.at(-1)).toBe(`response ${flow.id}`);
  const events = mine.filter((s) => s.startsWith('event '));
  if (flow.response!.headers.get('content-type') === 'text/event-stream') {
    expect(events).toEqual(EVENTS.map((_, i) => `event ${flow.id} ${i}:{"n":${i},"text":"part ${i}"}`));
  } else {
    expect(events).toEqual([]);
  }
}

describe('live Server-Sent Events through the proxy, recorded whole', () => {
  it.skipIf(missingCurl !== null)('curl -N (plain and gzip with --compressed)', async () => {
    const curl = (url: string): RunningClient => child('curl', ['-sS', '-N', '--compressed', '-x', proxy.url, url]);
    await lockstep(`${plain.url}/curl`, curl);
    await lockstep(`${plain.url}/curl-gzip`, curl);
  });

  it('Node fetch through undici ProxyAgent (plain and gzip)', async () => {
    const dispatcher = new ProxyAgent(proxy.url);
    const node = async (url: string): Promise<RunningClient> => reading((await fetch(url, { dispatcher })).body!);
    await lockstep(`${plain.url}/fetch`, node);
    await lockstep(`${plain.url}/fetch-gzip`, node);
    await dispatcher.close();
  });

  it('node:https through a CONNECT tunnel (TLS intercepted, plain and gzip)', async () => {
    const ca = readFileSync(proxy.caCertPath, 'latin1');
    const agent = new https.Agent({ ca });
    agent.createConnection = ((opts: tls.ConnectionOptions & { host: string; port: number }, cb: (e: Error | null, s?: net.Socket) => void) => {
      const s = net.connect(proxy.port, proxy.host, () => s.write(`CONNECT ${opts.host}:${opts.port} HTTP/1.1\r\nhost: ${opts.host}:${opts.port}\r\n\r\n`));
      s.once('data', () => cb(null, tls.connect({ ...opts, socket: s })));
      s.on('error', cb);
    }) as unknown as https.Agent['createConnection'];
    const nodeHttps = (url: string): Promise<RunningClient> =>
      new Promise((resolve, reject) => {
        const req = https.get(url, { agent, headers: { 'accept-encoding': 'gzip' } }, (res) => {
          resolve(reading(res.headers['content-encoding'] === 'gzip' ? res.pipe(zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH })) : res));
        });
        req.on('error', reject);
      });
    await lockstep(`${secure.url}/https`, nodeHttps);
    await lockstep(`${secure.url}/https-gzip`, nodeHttps);
    agent.destroy();
  });

  it.skipIf(missingPython !== null)('Python requests with stream=True (plain and gzip)', async () => {
    const py = [
      'import sys, requests',
      "r = requests.get(sys.argv[1], proxies={'http': sys.argv[2]}, stream=True)",
      'for line in r.iter_lines(chunk_size=None):',
      '    if line: print(line.decode(), flush=True)',
    ].join('\n');
    const python = (url: string): RunningClient => child('/usr/bin/python3', ['-c', py, url, proxy.url]);
    await lockstep(`${plain.url}/python`, python);
    await lockstep(`${plain.url}/python-gzip`, python);
  });

  it("live_bodies '~u /ndjson' makes a chunked JSON-lines response live too (response_chunk hooks, no events)", async () => {
    proxy.kernel.options.update({ live_bodies: '~ts text/event-stream | ~u /ndjson' });
    try {
      const dispatcher = new ProxyAgent(proxy.url);
      await lockstep(`${plain.url}/ndjson`, async (url) => reading((await fetch(url, { dispatcher })).body!));
      await dispatcher.close();
    } finally {
      proxy.kernel.options.update({ live_bodies: '~ts text/event-stream' });
    }
  });

  it("with live_bodies '' the stream is held until it ends (mitmproxy's behaviour), and recorded", async () => {
    proxy.kernel.options.update({ live_bodies: '' });
    try {
      const hooked = responseHook('/held');
      const arrives = streamArrives();
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.get({ host: proxy.host, port: proxy.port, path: `${plain.url}/held`, headers: { host: new URL(plain.url).host } }, resolve);
        req.on('error', reject);
        // The head comes with the body, once the origin ends: send everything before waiting.
        void arrives.then((s) => {
          for (const e of EVENTS) s.write(e);
          s.end();
        });
      });
      let body = '';
      for await (const c of res) body += (c as Buffer).toString();
      expect(body).toBe(EVENTS.join(''));
      const flow = await hooked;
      expect(flow.response!.getText()).toBe(EVENTS.join(''));
      expect(seen.some((s) => s.startsWith(`event ${flow.id}`))).toBe(false);
    } finally {
      proxy.kernel.options.update({ live_bodies: '~ts text/event-stream' });
    }
  });
});
