// HTTP/1 codec micro-benchmark: parse + serialize of small keep-alive messages, in messages per
// second, next to Node's own llhttp (the native parser behind `http`) on the same bytes.
//
//   npx tsc -b && node bench/http1.mjs [--seconds 1]
//
// Numbers are per process on one core. The llhttp column drives the native parser with the same
// JS callbacks Node's http module installs (method, URL and headers handed to JS as strings), so
// it is the parse cost `http.createServer` pays before building an IncomingMessage.
import { createRequire } from 'node:module';
import {
  RequestParser,
  ResponseParser,
  serializeRequestHead,
  serializeResponseHead,
} from '../core/dist/proxy/http1/index.js';

const require = createRequire(import.meta.url);
const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 1;

const MINIMAL_GET = Buffer.from('GET / HTTP/1.1\r\nHost: localhost:8080\r\nConnection: keep-alive\r\n\r\n');
const BROWSER_GET = Buffer.from(
  'GET /api/items?page=2&sort=desc HTTP/1.1\r\n' +
    'Host: localhost:8080\r\n' +
    'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n' +
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n' +
    'Accept-Language: en-US,en;q=0.5\r\n' +
    'Accept-Encoding: gzip, deflate, br, zstd\r\n' +
    'Connection: keep-alive\r\n' +
    'Cookie: session=0123456789abcdef; theme=dark\r\n' +
    'Upgrade-Insecure-Requests: 1\r\n' +
    'Sec-Fetch-Dest: document\r\n' +
    'Sec-Fetch-Mode: navigate\r\n' +
    '\r\n',
);
const RESPONSE_200 = Buffer.from(
  'HTTP/1.1 200 OK\r\n' +
    'Content-Type: text/plain\r\n' +
    'Date: Sun, 22 Nov 2026 00:00:00 GMT\r\n' +
    'Connection: keep-alive\r\n' +
    'Keep-Alive: timeout=5\r\n' +
    'Content-Length: 12\r\n' +
    '\r\n' +
    'hello world\n',
);

/** Runs `fn` in batches for `seconds`, returns operations per second. */
function measure(fn, batch = 10_000) {
  for (let i = 0; i < batch * 5; i++) fn(); // warm-up
  let ops = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  do {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < limit);
  return ops / (Number(elapsed) / 1e9);
}

// --- our codec --------------------------------------------------------------------------
let lastReq = null;
let lastRes = null;
let sink = 0;
const reqParser = new RequestParser({
  onHead(h) {
    lastReq = h;
  },
  onData(c) {
    sink += c.length;
  },
  onTrailers() {},
  onEnd() {
    reqParser.next();
  },
  onError(e) {
    throw e;
  },
});
const resParser = new ResponseParser({
  onInformational() {},
  onHead(h) {
    lastRes = h;
  },
  onData(c) {
    sink += c.length;
  },
  onTrailers() {},
  onEnd() {
    resParser.next('GET');
  },
  onError(e) {
    throw e;
  },
});
resParser.next('GET');

// Each iteration pushes a fresh Buffer object over the same bytes, as a socket would.
const fresh = (b) => () => Buffer.from(b.buffer, b.byteOffset, b.length);

function parseReq(buf) {
  const f = fresh(buf);
  return () => reqParser.push(f());
}
function parseRes(buf) {
  const f = fresh(buf);
  return () => resParser.push(f());
}

// --- llhttp through Node's binding ----------------------------------------------------------
function llhttp(kind, buf) {
  const { HTTPParser } = require('_http_common');
  const parser = new HTTPParser();
  const type = kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE;
  parser.initialize(type, {});
  parser[HTTPParser.kOnHeaders] = () => {};
  parser[HTTPParser.kOnHeadersComplete] = (
    versionMajor,
    versionMinor,
    headers,
    method,
    url,
    statusCode,
    statusMessage,
    upgrade,
    shouldKeepAlive,
  ) => {
    sink += headers.length + (url ? url.length : 0) + statusCode + (shouldKeepAlive ? 1 : 0);
    return 0;
  };
  parser[HTTPParser.kOnBody] = (b) => {
    sink += b.length;
  };
  parser[HTTPParser.kOnMessageComplete] = () => {};
  parser[HTTPParser.kOnExecute] = () => {};
  const f = fresh(buf);
  return () => {
    const r = parser.execute(f());
    if (r instanceof Error) throw r;
  };
}

// --- run ----------------------------------------------------------------------------------
reqParser.push(MINIMAL_GET);
const minimalHead = lastReq;
reqParser.push(BROWSER_GET);
const browserHead = lastReq;
resParser.push(RESPONSE_200);
const responseHead = lastRes;

const rows = [];
const row = (name, fn, note = '') => {
  const rate = measure(fn);
  rows.push({
    benchmark: name,
    'msgs/s': Math.round(rate).toLocaleString('en-US'),
    'ns/msg': Math.round(1e9 / rate),
    note,
  });
};

row('parse minimal GET (3 lines)', parseReq(MINIMAL_GET));
row('  llhttp, same bytes', llhttp('request', MINIMAL_GET));
row('parse browser GET (11 headers)', parseReq(BROWSER_GET));
row('  llhttp, same bytes', llhttp('request', BROWSER_GET));
row('parse 200 response + 12 B body', parseRes(RESPONSE_200));
row('  llhttp, same bytes', llhttp('response', RESPONSE_200));
row('serialize minimal GET head', () => serializeRequestHead(minimalHead));
row('serialize browser GET head', () => serializeRequestHead(browserHead));
row('  same, validate: false', () => serializeRequestHead(browserHead, { validate: false }));
row('serialize 200 response head', () => serializeResponseHead(responseHead));
{
  const req = fresh(MINIMAL_GET);
  const res = fresh(RESPONSE_200);
  row(
    'proxy exchange, minimal GET',
    () => {
      reqParser.push(req());
      serializeRequestHead(lastReq);
      resParser.push(res());
      serializeResponseHead(lastRes);
    },
    'parse+serialize request and response',
  );
}
{
  const req = fresh(BROWSER_GET);
  const res = fresh(RESPONSE_200);
  row('proxy exchange, browser GET', () => {
    reqParser.push(req());
    serializeRequestHead(lastReq);
    resParser.push(res());
    serializeResponseHead(lastRes);
  });
}
console.table(rows);
if (sink === -1) console.log(sink);
