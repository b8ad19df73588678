// Flow filter micro-benchmark (not a test): matches per second on 50,000 varied HTTP flows.
// Run after building: npx tsc -b && node bench/filter.mjs
import zlib from 'node:zlib';
import { Client, HTTPFlow, Headers, Request, Response, Server, parseFilter } from '../core/dist/index.js';

const N = 50_000;
const hosts = ['example.com', 'api.example.com', 'cdn.example.net', 'tracker.ads.test', 'mitmproxy.org'];
const paths = [
  '/',
  '/api/v1/users',
  '/api/v1/orders?id=42',
  '/static/app.js',
  '/img/logo.png',
  '/login',
  '/search?q=mitm',
];
const types = ['text/html; charset=utf-8', 'application/json', 'application/javascript', 'image/png', 'text/css'];
const codes = [200, 200, 200, 301, 404, 500];

function makeFlow(i) {
  const client = new Client({
    peername: ['10.0.0.' + (i % 250), 40000 + (i % 20000)],
    sockname: ['0.0.0.0', 8080],
    timestampStart: 1,
  });
  const server = new Server({ address: [hosts[i % hosts.length], 443] });
  const f = new HTTPFlow(client, server, false);
  const host = hosts[i % hosts.length];
  const body = Buffer.from(i % 7 === 0 ? `{"user": ${i}, "token": "secret-${i}"}` : `payload ${i} `.repeat(20));
  f.request = new Request({
    host,
    port: 443,
    method: i % 5 === 0 ? 'POST' : 'GET',
    scheme: 'https',
    authority: '',
    path: Buffer.from(paths[i % paths.length]),
    httpVersion: 'HTTP/1.1',
    headers: Headers.fromRaw([
      [Buffer.from('Host'), Buffer.from(host)],
      [Buffer.from('User-Agent'), Buffer.from('bench/1.0')],
      [Buffer.from('Accept'), Buffer.from('*/*')],
      [Buffer.from('Content-Type'), Buffer.from(i % 7 === 0 ? 'application/json' : 'text/plain')],
      [Buffer.from('Content-Length'), Buffer.from(String(body.length))],
    ]),
    content: body,
    timestampStart: 1,
    timestampEnd: 2,
  });
  const gz = i % 3 === 0;
  const respBody = Buffer.from(`<html><body>response ${i} ${'lorem ipsum '.repeat(30)}</body></html>`);
  f.response = new Response({
    httpVersion: 'HTTP/1.1',
    statusCode: codes[i % codes.length],
    reason: 'OK',
    headers: Headers.fromRaw([
      [Buffer.from('Content-Type'), Buffer.from(types[i % types.length])],
      [Buffer.from('Server'), Buffer.from('bench')],
      ...(gz ? [[Buffer.from('Content-Encoding'), Buffer.from('gzip')]] : []),
    ]),
    content: gz ? zlib.gzipSync(respBody) : respBody,
    timestampStart: 2,
    timestampEnd: 3,
  });
  return f;
}

let t0 = performance.now();
const flows = Array.from({ length: N }, (_, i) => makeFlow(i));
const buildMs = performance.now() - t0;
console.log(
  `built ${N} flows in ${buildMs.toFixed(0)} ms (${Math.round(N / (buildMs / 1000)).toLocaleString('en-US')} flows/s)`,
);

const exprs = [
  '~c 404',
  '~u /api/',
  '~d example\\.com & ~m POST',
  '~q | ~s & ~c 200',
  '!(~u \\.png$ | ~a ) & ~t json',
  '~h "content-type: application/json"',
  '~hq user-agent:\\s*bench',
  '~bq secret',
  '~bs "response 4999"',
  '~src ^10\\.0\\.0\\.1: & ~dst example',
  // Repeated groups: run by the linear-time engine (re2js), not V8's.
  '~u "(/[a-z0-9]+)+\\?"',
  '~b "(payload [0-9]+ )+payload"',
];

for (const e of exprs) {
  t0 = performance.now();
  const f = parseFilter(e, { caseSensitive: false });
  const parseUs = (performance.now() - t0) * 1000;
  let hits = 0;
  for (const fl of flows) if (f(fl)) hits++; // warm-up
  const rounds = 3;
  t0 = performance.now();
  for (let r = 0; r < rounds; r++) for (const fl of flows) if (f(fl)) hits++;
  const ms = performance.now() - t0;
  const rate = Math.round((rounds * N) / (ms / 1000));
  console.log(
    `${e.padEnd(40)} ${rate.toLocaleString('en-US').padStart(12)} matches/s  (${hits / (rounds + 1)} hits, parsed in ${parseUs.toFixed(0)} µs)`,
  );
}
