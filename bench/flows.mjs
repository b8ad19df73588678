// Benchmark: read and filter a 50,000-flow file, mitmts against mitmproxy's own Python reader.
//
//   node bench/flows.mjs [--flows N] [--keep]       (npm run bench runs it with the defaults)
//
// Debian's mitmproxy 8.1.1 reads flow format 17 at most, so the comparison file is written at
// format 17 (FlowWriter's { format: 17 }: the layout mitmdump 8.1.1 writes). Both sides read
// that same file and apply the same filter; mitmts also migrates every record 17 -> 21 on the
// way, work the Python side does not have to do. Two comparisons:
// - in process: mitmts's FlowReader + filter against mitmproxy's FlowReader + flowfilter;
// - end to end: the `mitmts flows` command (process start included) printing one JSON line per
//   match, against a Python script doing the same with FlowReader + flowfilter; then the recon
//   outputs timed alone (--group endpoint, --schema, the default fields with bodies).
// Wall time, and CPU time of the child processes (bash's `times`: robust on a busy machine).
// Python runs once (it is slow); mitmts runs 3 times, best taken.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { FlowReader, FlowWriter, parseFilter } from '../core/dist/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const N = Number(argv[argv.indexOf('--flows') + 1] || 0) || 50_000;
const KEEP = argv.includes('--keep');
const PYTHON = '/usr/bin/python3';
// Lower-case data and patterns: mitmproxy 8.1.1 filters are case-sensitive, current ones are
// not; with this filter both give the same answer (checked below).
const FILTER = '~u /api/ & ~c 200 & !~h "cache-control: no-store" | ~m post & ~bq needle | ~e';

// A real server certificate (the fixture's), as mitmdump stores one per TLS server connection.
const [tlsFixture] = [...new FlowReader(join(HERE, '../test/fixtures/mitmproxy-8.1.1/flows.mitm'))].filter(
  (f) => f.serverConn.certificateList.length > 0,
);
const CERT = tlsFixture.serverConn.getState().certificate_list[0];

// ---------------------------------------------------------------------------------------------
// Deterministic, mixed, realistic flows.

let seed = 42;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const B = (s) => Buffer.from(s);
const hdrs = (pairs) => pairs.map(([k, v]) => [B(k), B(v)]);
const HOSTS = ['api.example.com', 'www.example.org', 'cdn.static.net', 'shop.example.com', 'auth.example.net'];
const AGENTS = ['mozilla/5.0 (x11; linux x86_64) firefox/120.0', 'curl/8.4.0', 'okhttp/4.12.0'];
const LOREM = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '.repeat(40);
const HTML_GZ = gzipSync(B(`<!doctype html><html><head><title>page</title></head><body>${LOREM}</body></html>`));
const PNG = Buffer.alloc(6000, 0x89);

function conn(i, tls, host, port, t) {
  const id = `00000000-0000-4000-8000-${String(Math.floor(i / 8)).padStart(12, '0')}`;
  const common = {
    id,
    transport_protocol: 'tcp',
    error: null,
    tls,
    alpn: tls ? B('http/1.1') : null,
    alpn_offers: tls ? [B('h2'), B('http/1.1')] : [],
    cipher: tls ? 'TLS_AES_256_GCM_SHA384' : null,
    cipher_list: [],
    tls_version: tls ? 'TLSv1.3' : null,
    sni: tls ? host : null,
    timestamp_start: t,
    timestamp_end: null,
    timestamp_tls_setup: tls ? t + 0.004 : null,
  };
  return {
    client: {
      ...common,
      peername: [`192.168.1.${(i % 200) + 2}`, 40000 + (i % 20000)],
      sockname: ['127.0.0.1', 8080],
      certificate_list: [],
      mitmcert: null,
      proxy_mode: 'regular',
    },
    server: {
      ...common,
      id: id.replace('4000', '4001'),
      peername: ['93.184.216.34', port],
      sockname: ['10.0.0.2', 50000 + (i % 10000)],
      certificate_list: tls ? [CERT] : [],
      address: [host, port],
      timestamp_tcp_setup: t + 0.002,
      via: null,
    },
  };
}

function makeState(i) {
  const t = 1700000000 + i * 0.25 + rnd() * 0.1;
  const host = pick(HOSTS);
  const tls = rnd() < 0.8;
  const port = tls ? 443 : 80;
  const { client, server } = conn(i, tls, host, port, t);
  const kind = rnd();
  let method = 'GET';
  let path = `/api/v1/items/${i % 997}?page=${i % 7}&sort=desc`;
  let reqBody = B('');
  let reqHeaders = [
    ['host', host],
    ['user-agent', pick(AGENTS)],
    ['accept', '*/*'],
    ['accept-encoding', 'gzip, deflate, br'],
    ['cookie', `sid=${(i * 7919) % 100000}; theme=dark`],
  ];
  let status = 200;
  let respHeaders = [
    ['content-type', 'application/json'],
    ['cache-control', i % 5 ? 'max-age=60' : 'no-store'],
    ['server', 'nginx'],
    ['date', 'mon, 20 nov 2023 10:00:00 gmt'],
  ];
  let respBody = B(
    JSON.stringify({ id: i, items: Array.from({ length: 8 }, (_, k) => ({ k, name: `item-${k}`, price: k * 3.5 })) }),
  );
  if (kind < 0.15) {
    method = 'POST';
    path = '/api/v1/orders';
    reqBody = B(`product=${i % 50}&qty=${1 + (i % 3)}&note=${i % 10 === 0 ? 'needle' : 'hay'}`);
    reqHeaders.push(['content-type', 'application/x-www-form-urlencoded'], ['content-length', String(reqBody.length)]);
    status = 201;
  } else if (kind < 0.35) {
    path = `/articles/${i % 301}.html`;
    respHeaders = [
      ['content-type', 'text/html; charset=utf-8'],
      ['content-encoding', 'gzip'],
      ['vary', 'accept-encoding'],
    ];
    respBody = HTML_GZ;
  } else if (kind < 0.5) {
    path = `/img/${i % 113}.png`;
    respHeaders = [
      ['content-type', 'image/png'],
      ['cache-control', 'max-age=86400'],
    ];
    respBody = PNG.subarray(0, 500 + (i % 5500));
  } else if (kind < 0.55) {
    path = `/api/v1/missing/${i}`;
    status = 404;
  }
  respHeaders.push(['content-length', String(respBody.length)]);
  const failed = kind > 0.985;
  return {
    version: 21,
    type: 'http',
    id: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    error: failed ? { msg: 'Connection killed.', timestamp: t + 0.05 } : null,
    client_conn: client,
    server_conn: server,
    intercepted: false,
    is_replay: null,
    marked: i % 50 === 0 ? ':default:' : '',
    metadata: {},
    comment: '',
    timestamp_created: t,
    backup: null,
    request: {
      http_version: B('HTTP/1.1'),
      headers: hdrs(reqHeaders),
      content: reqBody,
      trailers: null,
      timestamp_start: t,
      timestamp_end: t + 0.001,
      host,
      port,
      method: B(method),
      scheme: B(tls ? 'https' : 'http'),
      authority: B(''),
      path: B(path),
    },
    response: failed
      ? null
      : {
          http_version: B('HTTP/1.1'),
          headers: hdrs(respHeaders),
          content: respBody,
          trailers: null,
          timestamp_start: t + 0.03,
          timestamp_end: t + 0.035,
          status_code: status,
          reason: B(status === 200 ? 'OK' : status === 201 ? 'Created' : 'Not Found'),
        },
    websocket: null,
  };
}

// ---------------------------------------------------------------------------------------------

function mitmtsRun(path, filter) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let n = 0;
  let matched = 0;
  for (const f of new FlowReader(path)) {
    n++;
    if (filter.match(f)) matched++;
  }
  const c = process.cpuUsage(c0);
  return { flows: n, matched, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 };
}

/** Best of `runs` (after a warm-up run for the JIT), by wall clock and by CPU time separately. */
function best(path, filter, runs = 3) {
  mitmtsRun(path, filter);
  let b;
  for (let i = 0; i < runs; i++) {
    const r = mitmtsRun(path, filter);
    b = b ? { ...b, seconds: Math.min(b.seconds, r.seconds), cpu: Math.min(b.cpu, r.cpu) } : r;
  }
  return b;
}

const PY = `
import json, sys, time
from mitmproxy import flowfilter, io
flt = flowfilter.parse(sys.argv[2])
t0 = time.perf_counter()
c0 = time.process_time()
n = matched = 0
with open(sys.argv[1], "rb") as fp:
    for f in io.FlowReader(fp).stream():
        n += 1
        if flt(f):
            matched += 1
print(json.dumps({"flows": n, "matched": matched, "seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}))
`;

function pythonRun(path) {
  const probe = spawnSync(PYTHON, ['-c', 'import mitmproxy.version as v; print(v.VERSION)'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: `mitmproxy is not importable with ${PYTHON}` };
  const r = spawnSync(PYTHON, ['-c', PY, path, FILTER], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) return { skipped: `the Python reader failed: ${r.stderr.trim().split('\n').pop()}` };
  return { ...JSON.parse(r.stdout), version: probe.stdout.trim() };
}

// ---------------------------------------------------------------------------------------------
// End to end: whole processes, as a user (or a model's tool call) runs them.

const BIN = join(HERE, '../bin/mitmts.js');
const LIST_FIELDS = 'id,request.method,request.url,response.status_code';
const PY_E2E = `
import json, sys
from mitmproxy import flowfilter, io
flt = flowfilter.parse(sys.argv[2])
out = sys.stdout
with open(sys.argv[1], "rb") as fp:
    for f in io.FlowReader(fp).stream():
        if flt(f):
            out.write(json.dumps({"id": f.id, "request.method": f.request.method, "request.url": f.request.url,
                                  "response.status_code": f.response.status_code if f.response else None}) + "\\n")
`;

/** Run argv under bash, output discarded: wall seconds, CPU seconds of the process, output lines. */
function timed(argv) {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', `${quoted} | wc -l; times`], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  const [lines, , children] = r.stdout.trim().split('\n');
  const [user, sys] = children
    .trim()
    .split(/\s+/)
    .map((x) => {
      const m = /(\d+)m([\d.]+)s/.exec(x);
      return Number(m[1]) * 60 + Number(m[2]);
    });
  return { seconds, cpu: user + sys, lines: Number(lines) };
}

function bestOf(argv, runs = 3) {
  let b;
  for (let i = 0; i < runs; i++) {
    const r = timed(argv);
    b = b ? { ...b, seconds: Math.min(b.seconds, r.seconds), cpu: Math.min(b.cpu, r.cpu) } : r;
  }
  return b;
}

function endToEnd(file, pyVersion) {
  const mitmts = (...args) => [process.execPath, BIN, 'flows', file, ...args];
  const e2eLine = (r) => `${r.seconds.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s CPU, ${fmt(r.lines)} lines`;
  console.log(`end to end (whole processes, ${fmt(N)} flows, output discarded):`);
  const list = bestOf(mitmts(FILTER, '--fields', LIST_FIELDS, '--max-line', '0'));
  console.log(`  mitmts flows FILE FILTER --fields ${LIST_FIELDS}: ${e2eLine(list)}`);
  if (pyVersion) {
    const py = timed([PYTHON, '-c', PY_E2E, file, FILTER]);
    console.log(`  mitmproxy ${pyVersion} FlowReader + flowfilter script, same lines:     ${e2eLine(py)}`);
    if (py.lines !== list.lines) {
      console.log(
        `  WARNING: the outputs differ (mitmproxy ${py.lines} lines, mitmts ${list.lines}); the comparison is not fair`,
      );
      process.exitCode = 1;
    }
    console.log(
      `  ratio end to end: ${(py.seconds / list.seconds).toFixed(1)}x by wall clock, ${(py.cpu / list.cpu).toFixed(1)}x by CPU time  (target: at least 10x)`,
    );
  }
  for (const [label, args] of [
    ['--group endpoint', ['--group', 'endpoint']],
    ['--group endpoint --schema', ['--schema']],
    ['default fields (bodies as values, redacted)', []],
    ['--summary', ['--summary']],
  ]) {
    console.log(`  mitmts flows FILE ${label}: ${e2eLine(bestOf(mitmts(...args)))}`);
  }
}

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const dir = mkdtempSync(join(tmpdir(), 'mitmts-bench-'));
try {
  const f21 = join(dir, 'flows-21.mitm');
  const f17 = join(dir, 'flows-17.mitm');
  const w21 = new FlowWriter(f21);
  const w17 = new FlowWriter(f17, { format: 17 });
  for (let i = 0; i < N; i++) {
    const s = makeState(i);
    w21.add(s);
    w17.add(s);
  }
  await w21.close();
  await w17.close();

  const filter = parseFilter(FILTER);
  console.log(
    `flows benchmark: ${fmt(N)} mixed HTTP flows (JSON API, form POSTs, gzip HTML, images, 404s, errors; 80% TLS)`,
  );
  console.log(`filter: ${FILTER}`);
  console.log(
    `file: format 17 ${(statSync(f17).size / 1e6).toFixed(1)} MB (what mitmproxy 8.1.1 reads), format 21 ${(statSync(f21).size / 1e6).toFixed(1)} MB`,
  );
  const m17 = best(f17, filter);
  const m21 = best(f21, filter);
  const py = existsSync(PYTHON) ? pythonRun(f17) : { skipped: `${PYTHON} not found` };
  const rate = (r) => r.flows / r.seconds;
  const cpuRate = (r) => r.flows / r.cpu;
  const line = (r) =>
    `${fmt(rate(r))} flows/s wall, ${fmt(cpuRate(r))} flows/s CPU  (${r.seconds.toFixed(3)} s, ${r.matched} matched)`;
  console.log(
    `load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs (CPU-time rates are the robust ones on a busy machine)`,
  );
  console.log(`mitmts   read+filter format 17 (migrating to 21): ${line(m17)}`);
  console.log(`mitmts   read+filter format 21:                   ${line(m21)}`);
  if (py.skipped) {
    console.log(`mitmproxy: skipped (${py.skipped}); no ratio`);
  } else {
    console.log(`mitmproxy ${py.version} FlowReader+flowfilter, same format 17 file: ${line(py)}`);
    if (py.matched !== m17.matched || py.flows !== m17.flows) {
      console.log(
        `WARNING: the readers disagree (mitmproxy ${py.flows}/${py.matched}, mitmts ${m17.flows}/${m17.matched}); the comparison is not fair`,
      );
      process.exitCode = 1;
    }
    console.log(
      `ratio mitmts / mitmproxy (same file, same filter): ${(cpuRate(m17) / cpuRate(py)).toFixed(1)}x by CPU time, ` +
        `${(rate(m17) / rate(py)).toFixed(1)}x by wall clock  (target: at least 10x)`,
    );
  }
  endToEnd(f17, py.skipped ? null : py.version);
  if (KEEP) console.log(`files kept in ${dir}`);
} finally {
  if (!KEEP) rmSync(dir, { recursive: true, force: true });
}
