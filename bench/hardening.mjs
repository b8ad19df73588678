#!/usr/bin/env node
// Hardening figures of issue 16, each on a fresh mitmts process (`node bin/mitmts.js`, default
// options unless said): run after `npm run build` with `node bench/hardening.mjs [--quick]
// [--only download,idle,slowloris]`.
//
//  download   a 2 GiB download (Content-Length) with default options: peak RSS of the proxy
//             (VmHWM), time to the first body byte, MB/s; and a 256 MiB body buffered whole
//             (`max_buffered_body=` empty: mitmproxy's behaviour) to show one copy of the body.
//  idle       RSS per idle client connection: plain TCP (no request yet), HTTP after one
//             keep-alive request (its server connection stays pooled), HTTPS (CONNECT + TLS
//             interception, no request), HTTPS after one request.
//  slowloris  1,000 clients send a request head one byte per second; meanwhile normal requests
//             (a fresh connection each) are timed, against the same requests without them;
//             `request_head_timeout=5` so that the run is short: when the slow clients get
//             their 408 and close, relative to their connect.
// The origin and the clients run in this process; RSS and CPU are the proxy's, from /proc.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tls from 'node:tls';
import { installCleanup, stopAll } from './lib/children.mjs';
import { startProxy } from './lib/proxies.mjs';
import { cpuSecondsOf, memOf } from './lib/sys.mjs';

installCleanup();
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? new Set(args[onlyArg + 1].split(',')) : null;
/** The slow clients of the slowloris case run as a child of this script (`--slow-clients`). */
const childMode = args.includes('--slow-clients');
const dataDir = childMode ? '' : mkdtempSync(join(tmpdir(), 'mitmts-hardening-'));
const MiB = 1024 * 1024;
const KiB = 1024;

// --- the origin ---------------------------------------------------------------------------------

const SLICE = Buffer.alloc(256 * KiB, 0x78);
const origin = http.createServer((req, res) => {
  const m = /\/big\?bytes=(\d+)/.exec(req.url);
  if (!m) return void res.end('hello world\n');
  let left = Number(m[1]);
  res.writeHead(200, { 'Content-Length': left, 'Content-Type': 'application/octet-stream' });
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, SLICE.length);
      left -= n;
      if (!res.write(n === SLICE.length ? SLICE : SLICE.subarray(0, n)) && left > 0)
        return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
origin.keepAliveTimeout = 120_000;
if (!childMode) await new Promise((r) => origin.listen(0, '127.0.0.1', r));
const ORIGIN = childMode ? '' : `http://127.0.0.1:${origin.address().port}`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mib = (b) => `${(b / MiB).toFixed(1)} MiB`;

// --- download ------------------------------------------------------------------------------------

/** One GET through the proxy on a raw socket, the body counted and dropped. */
function download(port, bytes) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const t0 = performance.now();
    let first = null;
    let got = 0;
    let headEnd = -1;
    let head = '';
    s.on('data', (d) => {
      if (headEnd < 0) {
        head += d.toString('latin1');
        headEnd = head.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        got += head.length - headEnd - 4;
      } else {
        got += d.length;
      }
      if (first === null && got > 0) first = performance.now() - t0;
      if (got >= bytes) {
        s.destroy();
        resolve({ firstMs: first, totalMs: performance.now() - t0, got, status: head.slice(0, head.indexOf('\r\n')) });
      }
    });
    s.on('error', reject);
    s.on(
      'close',
      () => got < bytes && reject(new Error(`connection closed after ${got} of ${bytes} bytes (${head.slice(0, 80)})`)),
    );
    s.write(`GET ${ORIGIN}/big?bytes=${bytes} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

async function downloadCase(label, bytes, sets) {
  const p = await startProxy('mitmts', { dataDir, sets });
  try {
    const cpu0 = cpuSecondsOf(p.pid);
    const r = await download(p.port, bytes);
    const cpu = cpuSecondsOf(p.pid);
    const peak = memOf(p.pid).hwm;
    const mbps = bytes / 1e6 / (r.totalMs / 1000);
    const cpuPerGb = ((cpu - cpu0) / (bytes / 1e9)).toFixed(2);
    console.log(
      `  ${label}: peak RSS ${mib(peak)}, first body byte after ${r.firstMs.toFixed(1)} ms, ${r.totalMs.toFixed(0)} ms total (${mbps.toFixed(0)} MB/s, ${cpuPerGb} CPU s/GB), ${r.status}`,
    );
    return { peak, firstMs: r.firstMs };
  } finally {
    await p.stop();
  }
}

async function downloads() {
  console.log('download (Content-Length bodies, plain HTTP):');
  const big = quick ? 512 * MiB : 2048 * MiB;
  await downloadCase(`${mib(big)}, default options (streamed past max_buffered_body=64m)`, big, []);
  await downloadCase(`${mib(256 * MiB)}, buffered whole (max_buffered_body= empty)`, 256 * MiB, ['max_buffered_body=']);
}

// --- idle connections ----------------------------------------------------------------------------

/** Settle, then the proxy's RSS (the lowest of a few samples: a GC may run meanwhile). */
async function settledRss(pid) {
  await sleep(1500);
  let low = Infinity;
  for (let i = 0; i < 5; i++) {
    low = Math.min(low, memOf(pid).rss);
    await sleep(200);
  }
  return low;
}

function plainConn(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** One keep-alive request on a new connection; resolves with the socket once the body is in. */
function httpConn(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.endsWith('hello world\n')) resolve(s);
    });
    s.on('error', reject);
    s.write(`GET ${ORIGIN}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

/** CONNECT + TLS intercepted by the proxy (not verified: the CA is the proxy's); a request if asked. */
function httpsConn(port, request) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', reject);
    s.once('data', (d) => {
      if (!d.toString('latin1').startsWith('HTTP/1.1 200')) return reject(new Error(`CONNECT refused: ${d}`));
      const t = tls.connect(
        { socket: s, servername: 'bench.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] },
        () => {
          if (!request) return resolve(t);
          let buf = '';
          t.on('data', (x) => {
            buf += x.toString('latin1');
            if (buf.endsWith('hello world\n')) resolve(t);
          });
          t.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        },
      );
      t.on('error', reject);
    });
    s.write(`CONNECT 127.0.0.1:${TLS_PORT} HTTP/1.1\r\nHost: 127.0.0.1:${TLS_PORT}\r\n\r\n`);
  });
}

let TLS_PORT = 0;

async function idleCase(label, n, open, sets = []) {
  const p = await startProxy('mitmts', { dataDir, sets });
  const socks = [];
  try {
    // Warm up (first connection, first TLS leaf) before the baseline.
    for (let i = 0; i < 5; i++) socks.push(await open(p.port));
    const before = await settledRss(p.pid);
    for (let i = 0; i < n; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(n, i + 50); j++) batch.push(open(p.port));
      socks.push(...(await Promise.all(batch)));
    }
    const after = await settledRss(p.pid);
    console.log(
      `  ${label}: ${((after - before) / n / KiB).toFixed(1)} KiB per connection (${n} connections, RSS ${mib(before)} -> ${mib(after)})`,
    );
  } finally {
    for (const s of socks) s.destroy();
    await p.stop();
  }
}

async function idle() {
  // The HTTPS cases need a TLS origin: the proxy connects to it for the certificate's names.
  const { execFileSync } = await import('node:child_process');
  const keyDir = mkdtempSync(join(tmpdir(), 'mitmts-hardening-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(keyDir, 'k.pem'),
      '-out',
      join(keyDir, 'c.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=bench.test',
      '-addext',
      'subjectAltName=DNS:bench.test,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const { readFileSync } = await import('node:fs');
  const { createServer } = await import('node:https');
  const secure = createServer(
    { key: readFileSync(join(keyDir, 'k.pem')), cert: readFileSync(join(keyDir, 'c.pem')) },
    (_q, r) => r.end('hello world\n'),
  );
  secure.keepAliveTimeout = 120_000;
  await new Promise((r) => secure.listen(0, '127.0.0.1', r));
  TLS_PORT = secure.address().port;
  const n = quick ? 300 : 1000;
  console.log('idle client connections (RSS growth of the proxy / connections):');
  try {
    await idleCase('TCP, no request yet', n, plainConn);
    await idleCase('HTTP after one request (client side + pooled server side)', n, httpConn);
    const trust = [`ssl_verify_upstream_trusted_ca=${join(keyDir, 'c.pem')}`];
    await idleCase(
      'HTTPS intercepted, no request yet (client TLS; server TLS for the certificate)',
      n,
      (port) => httpsConn(port, false),
      trust,
    );
    await idleCase('HTTPS after one request', n, (port) => httpsConn(port, true), trust);
  } finally {
    secure.closeAllConnections();
    secure.close();
    rmSync(keyDir, { recursive: true, force: true });
  }
}

// --- slowloris -----------------------------------------------------------------------------------

/** `count` requests, one after another, each on a fresh connection: latencies in ms. */
async function timedRequests(port, count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      let buf = '';
      s.on('data', (d) => {
        buf += d.toString('latin1');
        if (buf.endsWith('hello world\n')) {
          s.destroy();
          resolve();
        }
      });
      s.on('error', reject);
      s.write(`GET ${ORIGIN}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    out.push(performance.now() - t0);
  }
  return out;
}

const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function slowloris() {
  const timeout = 5;
  const n = quick ? 300 : 1000;
  const p = await startProxy('mitmts', { dataDir, sets: [`request_head_timeout=${timeout}`] });
  try {
    await timedRequests(p.port, 20);
    const base = await timedRequests(p.port, 200);
    // The slow clients run in a child process, so that their writes do not delay the timed
    // requests in this one.
    const child = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--slow-clients', String(p.port), String(n), ORIGIN],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const ready = new Promise((r) => child.stdout.once('data', r));
    const finished = new Promise((r) => child.on('exit', r));
    await ready;
    const rssWith = memOf(p.pid).rss;
    const during = await timedRequests(p.port, 200);
    await finished;
    const { closed, with408 } = JSON.parse(out.slice(out.indexOf('{')));
    console.log(`slowloris (${n} clients, one header byte per second each; request_head_timeout=${timeout}):`);
    console.log(
      `  normal requests on fresh connections: p50 ${pct(base, 0.5).toFixed(2)} ms, p99 ${pct(base, 0.99).toFixed(2)} ms alone; p50 ${pct(during, 0.5).toFixed(2)} ms, p99 ${pct(during, 0.99).toFixed(2)} ms beside the slow clients (all 200 answered)`,
    );
    console.log(
      `  slow clients closed: ${closed.length}/${n} (${with408} with a 408), ${pct(closed, 0).toFixed(2)}-${pct(closed, 1).toFixed(2)} s after connecting (median ${pct(closed, 0.5).toFixed(2)} s); proxy RSS with them ${mib(rssWith)}`,
    );
  } finally {
    await p.stop();
  }
}

/** Child mode: `n` slow clients against the proxy; prints "ready", then their close times as JSON. */
async function slowClients(port, n, originUrl) {
  const slow = [];
  // In batches: a burst of 1,000 SYNs would overflow the listen backlog (a 1 s SYN retry).
  for (let i = 0; i < n; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 50); j++) {
      const s = net.connect(port, '127.0.0.1');
      const c = { s, t0: performance.now(), closedAfter: null, got: '' };
      s.on('error', () => undefined);
      s.on('data', (d) => (c.got += d.toString('latin1')));
      s.on('close', () => (c.closedAfter = (performance.now() - c.t0) / 1000));
      s.write(`GET ${originUrl}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
      slow.push(c);
      batch.push(new Promise((r) => s.once('connect', r)));
    }
    await Promise.all(batch);
  }
  process.stdout.write('ready\n');
  const drip = setInterval(() => {
    for (const c of slow) if (c.closedAfter === null && c.s.writable) c.s.write('X');
  }, 1000);
  const deadline = performance.now() + 60_000;
  while (slow.some((c) => c.closedAfter === null) && performance.now() < deadline) await sleep(100);
  clearInterval(drip);
  const closed = slow.filter((c) => c.closedAfter !== null).map((c) => c.closedAfter);
  process.stdout.write(
    JSON.stringify({ closed, with408: slow.filter((c) => c.got.startsWith('HTTP/1.1 408')).length }) + '\n',
  );
  for (const c of slow) c.s.destroy();
}

if (childMode) {
  const slowArg = args.indexOf('--slow-clients');
  await slowClients(Number(args[slowArg + 1]), Number(args[slowArg + 2]), args[slowArg + 3]);
  process.exit(0);
}

try {
  if (!only || only.has('download')) await downloads();
  if (!only || only.has('idle')) await idle();
  if (!only || only.has('slowloris')) await slowloris();
} finally {
  origin.closeAllConnections();
  origin.close();
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
}
