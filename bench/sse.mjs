// Live Server-Sent Events: the time from sending a request to the first event arriving, direct,
// through a bare TCP relay process (the cost of one more process on the path, nothing parsed),
// through mitmts (event streams are live by default, and recorded) and through mitmdump 8.1.1
// (default options: the response is held until it ends). The origin is its own process and
// sends EVENTS events SPACING_MS apart, then ends.
//
// HTTP: Node's http through the proxy (absolute-form GET) on a keep-alive connection, as API
// clients do, after WARMUP streams that are not counted. HTTPS through mitmts (CONNECT, TLS
// intercepted): warm on a kept tunnel; a new tunnel per stream to the same host (both TLS
// handshakes each time, the host's certificate already made); and cold, a new host name per
// stream (the proxy makes a certificate for each: the one-time cost per host of first contact).
// mitmts records (save_stream_file): every recorded body is checked against what the origin sent.
//   node bench/sse.mjs            (MITMTS_BENCH_QUICK=1: fewer runs)
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowReader } from '@mitmts/core';
import { Child, installCleanup, stopAll } from './lib/children.mjs';
import { table } from './lib/format.mjs';
import { mitmdumpAvailable, ROOT, startProxy } from './lib/proxies.mjs';
import { sseEvent } from './lib/sse-event.mjs';
import { cpuTimesOf, machineBusy } from './lib/sys.mjs';
import { upstreamCert } from './lib/upstream-cert.mjs';

const QUICK = process.env.MITMTS_BENCH_QUICK === '1';
const RUNS = QUICK ? 8 : 30;
const WARMUP = 3;
const EVENTS = 10;
const SPACING_MS = 50;
const BODY = Array.from({ length: EVENTS }, (_, i) => sseEvent(i)).join('');

installCleanup();

/** Start a helper process that prints one JSON line once it listens. */
async function helper(label, script, args) {
  const child = new Child(label, process.execPath, [join(ROOT, script), ...args]);
  const line = await new Promise((resolve, reject) => {
    let out = '';
    child.onOutput((s) => {
      out += s;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    void child.exited.then(() => reject(new Error(child.describe())));
  });
  return JSON.parse(line);
}

/** One stream: ms to the response head, the first event and the end; the body as received. */
function once(get, opts) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = null;
    let body = '';
    const req = get(opts, (res) => {
      const head = performance.now() - t0;
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
        if (first === null && body.includes('\n\n')) first = performance.now() - t0;
      });
      res.on('end', () => resolve({ head, first, total: performance.now() - t0, body }));
    });
    req.on('error', reject);
  });
}

/** A label as a path segment. */
const slug = (label) => label.replace(/[^A-Za-z0-9]+/g, '-');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The path of stream `i` of a series (negative: a warm-up stream, not counted or checked). */
const pathFor = (label, i) => `/${i < 0 ? 'warmup' : 'stream'}/${slug(label)}/${Math.abs(i)}`;

/**
 * Series of streams, interleaved (stream i of every series, then stream i + 1), so that each
 * meets the same load from the rest of the machine: WARMUP streams, then RUNS measured ones.
 * A target is `{ label, request(i) -> [get, opts], close() }`.
 */
async function interleaved(targets, measuring = () => undefined) {
  const acc = targets.map((t) => ({ label: t.label, heads: [], firsts: [], totals: [], ok: 0 }));
  try {
    for (let i = -WARMUP; i < RUNS; i++) {
      if (i === 0) measuring();
      for (let k = 0; k < targets.length; k++) {
        const r = await once(...targets[k].request(i));
        if (i < 0) continue;
        const a = acc[k];
        a.heads.push(r.head);
        a.firsts.push(r.first);
        a.totals.push(r.total);
        if (r.body === BODY) a.ok++;
      }
    }
  } finally {
    for (const t of targets) t.close();
  }
  return acc.map((a) => ({
    label: a.label,
    head: median(a.heads),
    first: median(a.firsts),
    total: median(a.totals),
    ok: a.ok,
  }));
}

/** Plain HTTP through `port` (null: straight to the origin) on one keep-alive connection. */
function httpTarget(label, port, originPort) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const request = (i) => {
    const path = pathFor(label, i);
    const url = `http://127.0.0.1:${originPort}${path}`;
    return [
      http.get,
      port === null
        ? { host: '127.0.0.1', port: originPort, path, agent }
        : { host: '127.0.0.1', port, path: url, headers: { host: `127.0.0.1:${originPort}` }, agent },
    ];
  };
  return { label, request, close: () => agent.destroy() };
}

/** An https agent whose connections are CONNECT tunnels through the proxy at `proxyPort`. */
function tunnelAgent(proxyPort, keepAlive) {
  const agent = new https.Agent({ keepAlive, maxSockets: 1, rejectUnauthorized: false });
  agent.createConnection = (opts, cb) => {
    const s = net.connect({ port: proxyPort, host: '127.0.0.1', noDelay: true }, () =>
      s.write(`CONNECT 127.0.0.1:${opts.port} HTTP/1.1\r\nhost: 127.0.0.1:${opts.port}\r\n\r\n`),
    );
    s.once('data', () => cb(null, tls.connect({ socket: s, servername: opts.servername, rejectUnauthorized: false })));
    s.on('error', cb);
  };
  return agent;
}

/**
 * HTTPS streams to the origin, through the proxy (`proxyPort`) or direct (null). `mode`: 'warm'
 * (one kept connection), 'new' (a new connection per stream, same host name), 'cold' (a new
 * connection and a new host name per stream).
 */
function httpsTarget(label, proxyPort, originPort, mode) {
  const kept =
    proxyPort === null
      ? new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false })
      : tunnelAgent(proxyPort, true);
  const agents = [kept];
  const request = (i) => {
    const host = mode === 'cold' ? `s${i + WARMUP}-${process.pid}.bench.test` : 'api.bench.test';
    let agent = kept;
    if (mode !== 'warm')
      agents.push(
        (agent =
          proxyPort === null
            ? new https.Agent({ keepAlive: false, rejectUnauthorized: false })
            : tunnelAgent(proxyPort, false)),
      );
    return [
      https.get,
      { host: '127.0.0.1', port: originPort, servername: host, path: pathFor(label, i), headers: { host }, agent },
    ];
  };
  return { label, request, close: () => agents.forEach((a) => a.destroy()) };
}

const dir = mkdtempSync(join(tmpdir(), 'mitmts-bench-sse-'));
const rows = [];
let busy = null;
try {
  const cert = upstreamCert(dir);
  const origin = await helper('sse-origin', 'bench/lib/sse-origin.mjs', [
    cert.keyPath,
    cert.certPath,
    String(EVENTS),
    String(SPACING_MS),
  ]);
  const relay = await helper('tcp-relay', 'bench/lib/tcp-relay.mjs', [String(origin.http)]);
  busy = await machineBusy(500);

  const saved = join(dir, 'sse.mitm');
  const mitmts = await startProxy('mitmts', {
    dataDir: dir,
    sets: [`save_stream_file=${saved}`, 'ssl_insecure=true'],
    quiet: true,
  });
  let cpu0 = null;
  const cpuStart = () => (cpu0 = cpuTimesOf(mitmts.pid));
  rows.push(
    ...(await interleaved(
      [
        httpTarget('direct', null, origin.http),
        httpTarget('TCP relay process', relay.port, origin.http),
        httpTarget('mitmts', mitmts.port, origin.http),
      ],
      cpuStart,
    )),
  );
  const cpu1 = cpuTimesOf(mitmts.pid);
  const m = rows.at(-1);
  m.cpu = cpu0 && cpu1 ? ((cpu1.user + cpu1.sys - cpu0.user - cpu0.sys) * 1000) / RUNS : null;
  rows.push(
    ...(await interleaved([
      httpsTarget('HTTPS direct, kept connection', null, origin.https, 'warm'),
      httpsTarget('HTTPS mitmts, kept tunnel', mitmts.port, origin.https, 'warm'),
      httpsTarget('HTTPS direct, new connection', null, origin.https, 'new'),
      httpsTarget('HTTPS mitmts, new tunnel, known host', mitmts.port, origin.https, 'new'),
      httpsTarget('HTTPS mitmts, new tunnel, new host (cold)', mitmts.port, origin.https, 'cold'),
    ])),
  );
  await mitmts.stop();
  const recorded = [...new FlowReader(saved)].filter(
    (f) => f.type === 'http' && /^\/stream\/(mitmts|HTTPS-mitmts)/.test(f.request.path),
  );
  const complete = recorded.filter((f) => f.response?.getText() === BODY).length;
  const streams = rows.filter((r) => r.label.includes('mitmts')).length * RUNS;
  m.recorded = `${complete}/${streams}`;
  if (mitmdumpAvailable()) {
    const dump = await startProxy('mitmdump', { dataDir: dir, sets: [], quiet: true });
    rows.splice(3, 0, ...(await interleaved([httpTarget('mitmdump', dump.port, origin.http)])));
  } else {
    console.log('mitmdump not found: its row is left out.');
  }
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}

const baseline = (r) =>
  rows.find(
    (x) =>
      x.label ===
      (r.label.startsWith('HTTPS')
        ? r.label.includes('kept')
          ? 'HTTPS direct, kept connection'
          : 'HTTPS direct, new connection'
        : 'direct'),
  );
console.log(
  `Live SSE: ${EVENTS} events ${SPACING_MS} ms apart, ${RUNS} streams each, medians (ms); first event: request sent to the first complete event. ` +
    `Machine ${(100 * busy).toFixed(0)}% busy with other work before the runs.`,
);
console.log(
  table([
    [
      '',
      'response head',
      'first event',
      'minus head',
      'minus direct',
      'whole stream',
      'bodies as sent',
      'recorded whole',
      'proxy CPU/stream',
    ],
    ...rows.map((r) => {
      const b = baseline(r);
      return [
        r.label,
        r.head.toFixed(1),
        r.first.toFixed(1),
        (r.first - r.head).toFixed(1),
        r === b ? '-' : (r.first - b.first).toFixed(1),
        r.total.toFixed(1),
        `${r.ok}/${RUNS}`,
        r.recorded ?? '-',
        r.cpu != null ? `${r.cpu.toFixed(2)} ms` : '-',
      ];
    }),
  ]),
);
const direct = rows.find((r) => r.label === 'direct');
const relayRow = rows.find((r) => r.label === 'TCP relay process');
const m = rows.find((r) => r.label === 'mitmts');
console.log(
  `target: mitmts first event - direct < 5 ms: ${m.first - direct.first < 5 ? 'PASS' : 'FAIL'} (${(m.first - direct.first).toFixed(1)} ms; of it, ${(relayRow.first - direct.first).toFixed(1)} ms is what a bare relay process costs on this machine); ` +
    `recorded whole 100%: ${m.recorded.split('/')[0] === m.recorded.split('/')[1] ? 'PASS' : 'FAIL'}`,
);
