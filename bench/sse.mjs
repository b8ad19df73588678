// Live Server-Sent Events: the time from sending a request to the first event arriving, direct,
// through mitmts (event streams are live by default, and recorded) and through mitmdump 8.1.1
// (default options: the response is held until it ends). The origin sends EVENTS events,
// SPACING_MS apart, then ends; the client is Node's http through the proxy (absolute-form GET) on
// a keep-alive connection (as API clients do), after WARMUP streams that are not counted.
// mitmts records (save_stream_file): every recorded body is checked against what the origin sent.
//   node bench/sse.mjs            (MITMTS_BENCH_QUICK=1: fewer runs)
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowReader } from '@mitmts/core';
import { installCleanup, stopAll } from './lib/children.mjs';
import { table } from './lib/format.mjs';
import { mitmdumpAvailable, startProxy } from './lib/proxies.mjs';
import { cpuTimesOf } from './lib/sys.mjs';

const QUICK = process.env.MITMTS_BENCH_QUICK === '1';
const RUNS = QUICK ? 8 : 30;
const WARMUP = 3;
const EVENTS = 10;
const SPACING_MS = 50;
const event = (i) => `id: ${i}\ndata: {"n":${i},"delta":"${'x'.repeat(40)}"}\n\n`;
const BODY = Array.from({ length: EVENTS }, (_, i) => event(i)).join('');

installCleanup();

const origin = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const next = () => {
    res.write(event(i++));
    if (i === EVENTS) res.end();
    else setTimeout(next, SPACING_MS);
  };
  next();
});
await new Promise((r) => origin.listen(0, '127.0.0.1', r));
const originPort = origin.address().port;

/** One stream: ms to the first event and to the end; the body as received. */
function once(proxyPort, path, agent) {
  const url = `http://127.0.0.1:${originPort}${path}`;
  const opts = proxyPort === null ? { host: '127.0.0.1', port: originPort, path } : { host: '127.0.0.1', port: proxyPort, path: url, headers: { host: `127.0.0.1:${originPort}` } };
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = null;
    let head = null;
    let body = '';
    const req = http.get({ ...opts, agent }, (res) => {
      head = performance.now() - t0;
      res.on('data', (c) => {
        body += c;
        if (first === null && body.includes('\n\n')) first = performance.now() - t0;
      });
      res.on('end', () => resolve({ head, first, total: performance.now() - t0, body }));
    });
    req.on('error', reject);
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function series(label, port, measuring = () => undefined) {
  const heads = [];
  const firsts = [];
  const totals = [];
  let ok = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < WARMUP; i++) await once(port, `/warmup/${label}/${i}`, agent);
  measuring();
  for (let i = 0; i < RUNS; i++) {
    const r = await once(port, `/stream/${label}/${i}`, agent);
    heads.push(r.head);
    firsts.push(r.first);
    totals.push(r.total);
    if (r.body === BODY) ok++;
  }
  agent.destroy();
  return { label, head: median(heads), first: median(firsts), total: median(totals), ok };
}

const dir = mkdtempSync(join(tmpdir(), 'mitmts-bench-sse-'));
const rows = [];
try {
  const direct = await series('direct', null);
  rows.push(direct);
  const saved = join(dir, 'sse.mitm');
  const mitmts = await startProxy('mitmts', { dataDir: dir, sets: [`save_stream_file=${saved}`], quiet: true });
  let cpu0 = null;
  const cpuStart = () => (cpu0 = cpuTimesOf(mitmts.pid));
  rows.push(await series('mitmts', mitmts.port, cpuStart));
  const cpu1 = cpuTimesOf(mitmts.pid);
  await mitmts.stop();
  const recorded = [...new FlowReader(saved)].filter((f) => f.type === 'http' && f.request.path.startsWith('/stream/mitmts/'));
  const complete = recorded.filter((f) => f.response?.getText() === BODY).length;
  rows.at(-1).recorded = `${complete}/${RUNS}`;
  rows.at(-1).cpu = cpu0 && cpu1 ? ((cpu1.user + cpu1.sys - cpu0.user - cpu0.sys) * 1000) / RUNS : null;
  if (mitmdumpAvailable()) {
    const dump = await startProxy('mitmdump', { dataDir: dir, sets: [], quiet: true });
    rows.push(await series('mitmdump', dump.port));
  } else {
    console.log('mitmdump not found: its row is left out.');
  }
} finally {
  await stopAll();
  origin.close();
  rmSync(dir, { recursive: true, force: true });
}

const direct = rows[0];
console.log(`Live SSE: ${EVENTS} events ${SPACING_MS} ms apart, ${RUNS} streams each, medians (ms); first event: request sent to the first complete event.`);
console.log(
  table([
    ['', 'response head', 'first event', 'minus head', 'minus direct', 'whole stream', 'bodies as sent', 'recorded whole', 'proxy CPU/stream'],
    ...rows.map((r) => [r.label, r.head.toFixed(1), r.first.toFixed(1), (r.first - r.head).toFixed(1), r === direct ? '-' : (r.first - direct.first).toFixed(1), r.total.toFixed(1), `${r.ok}/${RUNS}`, r.recorded ?? '-', r.cpu != null ? `${r.cpu.toFixed(2)} ms` : '-']),
  ]),
);
const m = rows.find((r) => r.label === 'mitmts');
console.log(`target: mitmts first event - direct < 5 ms: ${m.first - direct.first < 5 ? 'PASS' : 'FAIL'}; recorded whole 100%: ${m.recorded === `${RUNS}/${RUNS}` ? 'PASS' : 'FAIL'}`);
