// Live Server-Sent Events: real clients (curl -N, Node fetch through undici's ProxyAgent, node:https
// through a CONNECT tunnel, Python requests with stream=True) read an event stream through the
// proxy from a real origin that sends the next event only once the client has printed the
// previous one. A proxy that held the response until it ended would never get the first event
// to the client, and the test would fail. The flow still records the whole body, the sse_event
// hooks see every event (decoded when gzip'd) before the response hook, which has the body.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetch, ProxyAgent } from 'undici';
import { createProxy, type EmbeddedProxy } from '@mitmts/sdk';
import { child, EVENTS, LiveRecorder, originStream, reading, type RunningClient } from '../helpers/live.js';
import { httpServer, httpsServer, type Upstream } from '../helpers/servers.js';
import { CURL, ensureTools, PYTHON_REQUESTS } from '../helpers/tools.js';

const missingCurl = ensureTools(CURL);
const missingPython = ensureTools(PYTHON_REQUESTS);
for (const m of [missingCurl, missingPython]) if (m) console.warn(`live SSE test skipped: ${m}`);

const live = new LiveRecorder();
const lockstep = live.lockstep.bind(live);

/** Event streams; /ndjson... answers the same text as JSON lines. Paths ending in -gzip answer gzip'd, flushed after each event (as a compressing server does). */
const handler: http.RequestListener = (req, res) => {
  const gzip = (req.url ?? '').endsWith('-gzip');
  const type = (req.url ?? '').startsWith('/ndjson') ? 'application/x-ndjson' : 'text/event-stream';
  res.writeHead(200, {
    'content-type': type,
    'cache-control': 'no-cache',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  res.flushHeaders();
  live.arrived(originStream(res, gzip));
};

let proxy: EmbeddedProxy;
let plain: Upstream;
let secure: Awaited<ReturnType<typeof httpsServer>>;

beforeAll(async () => {
  plain = await httpServer(handler);
  secure = await httpsServer(handler);
  proxy = await createProxy({
    addons: [live.addon],
    options: { ssl_verify_upstream_trusted_ca: secure.ca.caCertPath },
  });
});
afterAll(async () => {
  await proxy?.close();
  await plain?.close();
  await secure?.close();
});

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
    agent.createConnection = ((
      opts: tls.ConnectionOptions & { host: string; port: number },
      cb: (e: Error | null, s?: net.Socket) => void,
    ) => {
      const s = net.connect(proxy.port, proxy.host, () =>
        s.write(`CONNECT ${opts.host}:${opts.port} HTTP/1.1\r\nhost: ${opts.host}:${opts.port}\r\n\r\n`),
      );
      s.once('data', () => cb(null, tls.connect({ ...opts, socket: s })));
      s.on('error', cb);
    }) as unknown as https.Agent['createConnection'];
    const nodeHttps = (url: string): Promise<RunningClient> =>
      new Promise((resolve, reject) => {
        const req = https.get(url, { agent, headers: { 'accept-encoding': 'gzip' } }, (res) => {
          resolve(
            reading(
              res.headers['content-encoding'] === 'gzip'
                ? res.pipe(zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH }))
                : res,
            ),
          );
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

  it('live_bodies_keep_size: a long stream keeps forwarding, the flow keeps its first bytes and says how many it left out', async () => {
    proxy.kernel.options.update({ live_bodies_keep_size: '100' });
    const logged = proxy.logs.length;
    try {
      const dispatcher = new ProxyAgent(proxy.url);
      const hooked = live.responseHook('/capped');
      const arrives = live.streamArrives();
      const client = reading((await fetch(`${plain.url}/capped`, { dispatcher })).body!);
      const stream = await arrives;
      for (let i = 0; i < EVENTS.length; i++) {
        stream.write(EVENTS[i]!);
        await client.output.waitFor(`"n":${i}`);
      }
      stream.end();
      await client.done;
      await dispatcher.close();
      const all = EVENTS.join('');
      expect(client.output.all).toBe(all);
      const flow = await hooked;
      expect(flow.response!.rawContent!.toString()).toBe(all.slice(0, 100));
      expect(flow.metadata.live_body_omitted).toEqual({ kept: 100, omitted: all.length - 100 });
      // The hooks still saw every event, past the cut too.
      expect(live.seen.filter((s) => s.startsWith(`event ${flow.id}`))).toHaveLength(EVENTS.length);
      const warnings = proxy.logs
        .slice(logged)
        .filter((e) => e.level === 'warn' && e.message.includes('live_bodies_keep_size'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toContain(`/capped passed live_bodies_keep_size (100 bytes)`);
    } finally {
      proxy.kernel.options.update({ live_bodies_keep_size: '64m' });
    }
  });

  it("with live_bodies '' the stream is held until it ends (mitmproxy's behaviour), and recorded", async () => {
    proxy.kernel.options.update({ live_bodies: '' });
    try {
      const hooked = live.responseHook('/held');
      const arrives = live.streamArrives();
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.get(
          { host: proxy.host, port: proxy.port, path: `${plain.url}/held`, headers: { host: new URL(plain.url).host } },
          resolve,
        );
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
      expect(live.seen.some((s) => s.startsWith(`event ${flow.id}`))).toBe(false);
    } finally {
      proxy.kernel.options.update({ live_bodies: '~ts text/event-stream' });
    }
  });
});
