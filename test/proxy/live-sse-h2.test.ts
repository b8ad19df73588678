// Live Server-Sent Events over HTTP/2, on either leg: curl --http2 -N and Node's http2 client
// through the proxy (CONNECT + TLS interception, and cleartext prior knowledge), against a
// node:http2 origin and an HTTP/1 origin; an HTTP/1 client against an HTTP/2-only origin. The
// origin sends the next event only once the client has printed the previous one (see
// test/helpers/live.ts), so a proxy that held the stream would never get the first event out.
// The flow records the whole body, sse_event and response_chunk hooks see it pass.
import type http from 'node:http';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy } from '@mitmts/sdk';
import { h2cThrough, h2Origin, h2Through } from '../helpers/h2.js';
import { child, LiveRecorder, originStream, reading, type RunningClient } from '../helpers/live.js';
import { httpServer, httpsServer, type Upstream } from '../helpers/servers.js';
import { CURL, ensureTools } from '../helpers/tools.js';

const missingCurl = ensureTools(CURL);
if (missingCurl) console.warn(`live SSE over HTTP/2 with curl skipped: ${missingCurl}`);

const live = new LiveRecorder();
const sseHead = (gzip: boolean): Record<string, string> => ({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  ...(gzip ? { 'content-encoding': 'gzip' } : {}),
});

/** HTTP/1 origins. Paths ending in -gzip answer gzip'd, flushed per event. */
const h1Handler: http.RequestListener = (req, res) => {
  const gzip = (req.url ?? '').endsWith('-gzip');
  res.writeHead(200, sseHead(gzip));
  res.flushHeaders();
  live.arrived(originStream(res, gzip));
};

let proxy: EmbeddedProxy;
let ca: string;
let h2: Awaited<ReturnType<typeof h2Origin>>;
let secure: Awaited<ReturnType<typeof httpsServer>>;
let plain: Upstream;

beforeAll(async () => {
  h2 = await h2Origin((stream, headers) => {
    const gzip = String(headers[':path']).endsWith('-gzip');
    stream.respond({ ':status': 200, ...sseHead(gzip) });
    live.arrived(originStream(stream, gzip));
  });
  secure = await httpsServer(h1Handler);
  plain = await httpServer(h1Handler);
  proxy = await createProxy({ addons: [live.addon], options: { ssl_verify_upstream_trusted_ca: h2.caCertPath } });
  ca = readFileSync(proxy.caCertPath, 'latin1');
});
afterAll(async () => {
  await proxy?.close();
  await h2?.close();
  await secure?.close();
  await plain?.close();
});

/** A Node http2 request on `session`, its body decoded when gzip'd (flushed per event). */
function h2Get(session: http2.ClientHttp2Session): (url: string) => Promise<RunningClient> {
  return (url) =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      const stream = session.request({
        ':method': 'GET',
        ':path': u.pathname,
        ':authority': u.host,
        ':scheme': u.protocol.slice(0, -1),
        'accept-encoding': 'gzip',
      });
      stream.on('response', (headers) => {
        if (headers[':status'] !== 200) return reject(new Error(`status ${headers[':status']}`));
        resolve(
          reading(
            headers['content-encoding'] === 'gzip'
              ? stream.pipe(zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH }))
              : stream,
          ),
        );
      });
      stream.on('error', reject);
    });
}

const curl =
  (...extra: string[]) =>
  (url: string): RunningClient =>
    child('curl', ['-sS', '-N', '--compressed', '--cacert', proxy.caCertPath, '-x', proxy.url, ...extra, url]);

describe('live Server-Sent Events over HTTP/2, recorded whole', () => {
  it.skipIf(missingCurl !== null)('curl --http2 -N to an HTTP/2 origin (h2 on both legs; plain and gzip)', async () => {
    const flow = await live.lockstep(`https://localhost:${h2.port}/curl`, curl('--http2'));
    expect([flow.request.httpVersion, flow.response!.httpVersion]).toEqual(['HTTP/2.0', 'HTTP/2.0']);
    await live.lockstep(`https://localhost:${h2.port}/curl-gzip`, curl('--http2'));
  });

  it('Node http2 client to an HTTP/2 origin and to an HTTP/1 origin (plain and gzip)', async () => {
    const toH2 = await h2Through(proxy.port, 'localhost', h2.port, ca);
    const toH1 = await h2Through(proxy.port, 'localhost', secure.port, ca);
    try {
      await live.lockstep(`https://localhost:${h2.port}/node`, h2Get(toH2));
      await live.lockstep(`https://localhost:${h2.port}/node-gzip`, h2Get(toH2));
      const flow = await live.lockstep(`https://localhost:${secure.port}/node-h1`, h2Get(toH1));
      expect([flow.request.httpVersion, flow.response!.httpVersion]).toEqual(['HTTP/2.0', 'HTTP/1.1']);
      await live.lockstep(`https://localhost:${secure.port}/node-h1-gzip`, h2Get(toH1));
    } finally {
      toH2.close();
      toH1.close();
    }
  });

  it('two live streams at once on one client connection, each forwarded as it comes', async () => {
    const session = await h2Through(proxy.port, 'localhost', h2.port, ca);
    try {
      // The first stream stays open (its origin waits) while the second runs in lockstep.
      const firstArrives = live.streamArrives();
      const first = await h2Get(session)(`https://localhost:${h2.port}/first`);
      const origin1 = await firstArrives;
      origin1.write('data: {"n":"first"}\n\n');
      await first.output.waitFor('"n":"first"');
      await live.lockstep(`https://localhost:${h2.port}/second`, h2Get(session));
      origin1.end();
      await first.done;
    } finally {
      session.close();
    }
  });

  it('cleartext HTTP/2 (prior knowledge) to an HTTP/1 origin', async () => {
    const session = await h2cThrough(proxy.port, plain.url);
    try {
      await live.lockstep(`${plain.url}/h2c`, h2Get(session));
    } finally {
      session.close();
    }
  });

  it.skipIf(missingCurl !== null)('curl --http1.1 -N to an HTTP/2-only origin (h2 to the server only)', async () => {
    const flow = await live.lockstep(`https://localhost:${h2.port}/curl-h1`, curl('--http1.1'));
    expect([flow.request.httpVersion, flow.response!.httpVersion]).toEqual(['HTTP/1.1', 'HTTP/2.0']);
  });
});
