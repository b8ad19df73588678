// The Node load generator, run as its own process: `node loadgen.mjs '<json config>'`.
// Prints one JSON line with the result. Modes:
//   requests       N keep-alive connections, one small request at a time each (no pipelining),
//                  plain or TLS, direct or through a proxy (absolute-form, or CONNECT + TLS)
//   handshake      C parallel loops of: connect, [CONNECT], TLS handshake with a never-seen SNI,
//                  close. Counts handshakes/s.
//   handshake-seq  the same, one at a time, N times: latency of each first handshake per name
//   probe          one connection, one request: status, head, and the peer certificate
//   download       one request for a large body: bytes, seconds, time to first byte
//
// Config fields: proxy (port or null = direct), target {host, port} (the origin), tls
// ({ servername, caPath } or null), request (the request bytes as a string), and per mode:
// connections, concurrency, warmupMs, durationMs, count, namePrefix + nameSuffix (default
// '.test'; names are namePrefix + N + nameSuffix), timeoutMs.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { ResponseReader } from './http-reader.mjs';

const cfg = JSON.parse(process.argv[2]);
const ca = cfg.tls?.caPath ? readFileSync(cfg.tls.caPath) : undefined;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Send CONNECT on a fresh socket and wait for the proxy's 2xx. */
function connectTunnel(sock, target) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const idx = buf.indexOf(CRLFCRLF);
      if (idx < 0) return;
      sock.off('data', onData);
      sock.off('error', reject);
      sock.pause();
      const line = buf.toString('latin1', 0, buf.indexOf('\r\n'));
      if (!/^HTTP\/1\.[01] 2\d\d/.test(line)) return reject(new Error(`CONNECT refused: ${line}`));
      if (idx + 4 !== buf.length) return reject(new Error('bytes after the CONNECT response'));
      resolve();
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.write(`CONNECT ${target.host}:${target.port} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\n\r\n`);
  });
}

/** A connected socket ready for HTTP: plain, or TLS (through CONNECT when a proxy is set). */
async function openSocket(servername) {
  const viaProxy = cfg.proxy !== null && cfg.proxy !== undefined;
  const sock = net.connect(viaProxy ? cfg.proxy : cfg.target.port, '127.0.0.1');
  sock.setNoDelay(true);
  try {
    await once(sock, 'connect');
    if (!cfg.tls) return sock;
    if (viaProxy) await connectTunnel(sock, cfg.target);
    const t = tls.connect({
      socket: sock,
      servername,
      ca,
      rejectUnauthorized: ca !== undefined,
      ALPNProtocols: ['http/1.1'],
    });
    await once(t, 'secureConnect');
    t.setNoDelay(true);
    return t;
  } catch (err) {
    sock.destroy();
    throw err;
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function latencySummary(lat) {
  const s = Float64Array.from(lat).sort();
  return {
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1] : null,
  };
}

/**
 * Run `startOne` loops for warmupMs, then count for durationMs. `ctx.measuring` tells the loops
 * whether to count; they call `ctx.error(err)` on failures.
 */
async function timed(startOne, parallel) {
  const ctx = {
    measuring: false,
    stopped: false,
    errors: 0,
    warmupErrors: 0,
    lastError: null,
    count: 0,
    total: 0,
    bad: 0,
    lat: [],
    reconnects: 0,
  };
  ctx.error = (err) => {
    if (ctx.measuring) ctx.errors++;
    else ctx.warmupErrors++;
    ctx.lastError = err?.message ?? String(err);
  };
  for (let i = 0; i < parallel; i++) startOne(ctx, i);
  await new Promise((r) => setTimeout(r, cfg.warmupMs ?? 0));
  ctx.measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, cfg.durationMs));
  ctx.measuring = false;
  ctx.stopped = true;
  const seconds = (performance.now() - t0) / 1000;
  return { ctx, seconds };
}

async function requests() {
  const req = Buffer.from(cfg.request, 'latin1');
  const sockets = new Set();
  const startConn = (ctx) => {
    if (ctx.stopped) return;
    openSocket(cfg.tls?.servername).then(
      (sock) => {
        sockets.add(sock);
        let t0 = performance.now();
        let inFlight = true;
        const reader = new ResponseReader((status) => {
          const t = performance.now();
          inFlight = false;
          ctx.total++;
          if (ctx.measuring) {
            ctx.count++;
            if (status !== 200) ctx.bad++;
            ctx.lat.push(t - t0);
          }
          if (ctx.stopped) return void sock.destroy();
          t0 = t;
          inFlight = true;
          sock.write(req);
        });
        sock.on('data', (c) => {
          reader.feed(c);
          if (reader.error) {
            ctx.error(new Error(reader.error));
            sock.destroy();
          }
        });
        sock.on('error', (e) => ctx.error(e));
        sock.on('close', () => {
          sockets.delete(sock);
          if (ctx.stopped) return;
          if (inFlight) ctx.error(new Error('connection closed with a request in flight'));
          ctx.reconnects++;
          startConn(ctx);
        });
        sock.write(req);
      },
      (err) => {
        ctx.error(err);
        if (!ctx.stopped) setTimeout(() => startConn(ctx), 20);
      },
    );
  };
  const { ctx, seconds } = await timed(startConn, cfg.connections);
  for (const s of sockets) s.destroy();
  return {
    requests: ctx.count,
    // Including the warm-up: what the proxy's CPU time over the whole run is divided by.
    totalRequests: ctx.total,
    seconds,
    rps: ctx.count / seconds,
    non200: ctx.bad,
    errors: ctx.errors,
    warmupErrors: ctx.warmupErrors,
    reconnects: ctx.reconnects,
    lastError: ctx.lastError,
    latencyMs: latencySummary(ctx.lat),
  };
}

async function handshake() {
  let n = 0;
  const one = (ctx) => {
    if (ctx.stopped) return;
    const name = `${cfg.namePrefix}${n++}${cfg.nameSuffix ?? '.test'}`;
    const t0 = performance.now();
    openSocket(name).then(
      (sock) => {
        ctx.total++;
        if (ctx.measuring) {
          ctx.count++;
          ctx.lat.push(performance.now() - t0);
        }
        sock.on('error', () => undefined);
        // end(), not destroy(): the client's TLS Finished must reach the server, or the
        // server side never completes its handshake.
        sock.end();
        one(ctx);
      },
      (err) => {
        ctx.error(err);
        if (!ctx.stopped) setTimeout(() => one(ctx), 10);
      },
    );
  };
  const { ctx, seconds } = await timed(one, cfg.concurrency);
  return {
    handshakes: ctx.count,
    totalHandshakes: ctx.total,
    seconds,
    perSecond: ctx.count / seconds,
    names: n,
    errors: ctx.errors,
    warmupErrors: ctx.warmupErrors,
    lastError: ctx.lastError,
    latencyMs: latencySummary(ctx.lat),
  };
}

async function handshakeSeq() {
  const lat = [];
  for (let i = 0; i < cfg.count; i++) {
    const t0 = performance.now();
    const sock = await openSocket(`${cfg.namePrefix}${i}${cfg.nameSuffix ?? '.test'}`);
    lat.push(performance.now() - t0);
    sock.on('error', () => undefined);
    sock.end();
  }
  const rest = lat.slice(1);
  return { firstMs: lat[0], latencyMs: latencySummary(rest), all: lat };
}

async function probe() {
  const sock = await openSocket(cfg.tls?.servername);
  const peer = sock.getPeerCertificate ? sock.getPeerCertificate() : null;
  const result = await new Promise((resolve, reject) => {
    const reader = new ResponseReader((status, body, head) => resolve({ status, bodyBytes: body, head }));
    sock.on('data', (c) => {
      reader.feed(c);
      if (reader.error) reject(new Error(reader.error));
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error('connection closed before a response')));
    sock.write(Buffer.from(cfg.request, 'latin1'));
  });
  sock.destroy();
  return {
    ...result,
    peer:
      peer && Object.keys(peer).length
        ? {
            subject: peer.subject,
            issuer: peer.issuer?.CN ?? null,
            san: peer.subjectaltname ?? null,
            fingerprint: peer.fingerprint256,
          }
        : null,
  };
}

async function download() {
  const sock = await openSocket(cfg.tls?.servername);
  let bytes = 0;
  let ttfb = null;
  const t0 = performance.now();
  const result = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`download not finished after ${cfg.timeoutMs} ms (${bytes} bytes so far)`)),
      cfg.timeoutMs,
    );
    const reader = new ResponseReader(
      (status, body) => {
        clearTimeout(timer);
        resolve({ status, bytes: body, seconds: (performance.now() - t0) / 1000 });
      },
      (n) => (bytes += n),
    );
    sock.on('data', (c) => {
      if (ttfb === null) ttfb = performance.now() - t0;
      reader.feed(c);
      if (reader.error) reject(new Error(reader.error));
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`connection closed after ${bytes} body bytes`)));
    sock.write(Buffer.from(cfg.request, 'latin1'));
  });
  sock.destroy();
  return { ...result, ttfbMs: ttfb, mbPerSec: result.bytes / 1e6 / result.seconds };
}

const modes = { requests, handshake, 'handshake-seq': handshakeSeq, probe, download };
const run = modes[cfg.mode];
if (!run) {
  process.stderr.write(`loadgen: unknown mode ${cfg.mode}; one of ${Object.keys(modes).join(', ')}\n`);
  process.exit(2);
}
try {
  const result = await run();
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
} catch (err) {
  process.stdout.write(JSON.stringify({ failed: err?.message ?? String(err) }) + '\n');
  process.exit(1);
}
