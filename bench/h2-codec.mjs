// The HTTP/2 codec alone, no sockets, no TLS: CPU per stream of a relay (codec on both legs,
// flow-like objects, two synchronous hooks) fed by an in-memory client and origin, and the cost
// of HPACK encoding and decoding a browser-like request head. What the codec leaves for the rest
// of the proxy; `node bench/h2-spike.mjs` measures the same relay on real sockets.
//
//   npx tsc -b && node bench/h2-codec.mjs [--streams 200000] [--batch 20]
//
// The relay's share is the CPU of a run through the relay minus the CPU of the same streams
// sent from the client straight to the origin (both ends are codec connections too).
import { Buffer } from 'node:buffer';
import { Flow, hook } from './lib/h2-flow.mjs';

const { Http2Connection } = await import('../core/dist/proxy/http2/index.js');
const { HpackDecoder } = await import('../core/dist/proxy/http2/hpack/decoder.js');
const { HpackEncoder } = await import('../core/dist/proxy/http2/hpack/encoder.js');
const { staticName } = await import('../core/dist/proxy/http2/hpack/static-table.js');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const STREAMS = arg('--streams', 200000);
const BATCH = arg('--batch', 20);
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const b = (s) => Buffer.from(s, 'latin1');

// ------------------------------------------------------------------ relay between two memory peers
const toRelayDown = [];
const toRelayUp = [];
const toClient = [];
const toOrigin = [];

class Sink {
  constructor(queue) {
    this.queue = queue;
  }
  write(buf) {
    this.queue.push(Buffer.from(buf)); // a socket would copy too
  }
}

// load generator: h2load-like GETs, counts completed responses
let done = 0;
class ClientEnd extends Sink {
  onHeaders() {}
  onData(id, chunk, end) {
    client.consume(id, chunk.length);
    if (end) done++;
  }
  onTrailers() {}
  onReset() {}
  onError(e) {
    throw e;
  }
}
// origin: 100-byte answers
const BODY = Buffer.alloc(100, 0x61);
const ORIGIN_HEADERS = [
  [b('server'), b('nghttpd nghttp2/1.52.0')],
  [b('content-length'), b('100')],
  [b('cache-control'), b('max-age=3600')],
  [b('date'), b('Mon, 21 Oct 2024 20:13:21 GMT')],
  [b('last-modified'), b('Mon, 21 Oct 2024 10:00:00 GMT')],
];
class OriginEnd extends Sink {
  onHeaders(id) {
    origin.sendHeaders(id, { status: 200, headers: ORIGIN_HEADERS }, false);
    origin.sendData(id, BODY, true);
  }
  onData() {}
  onTrailers() {}
  onReset() {}
  onError(e) {
    throw e;
  }
}

const flows = new Map();
const byUp = new Map();
class RelayDown extends Sink {
  onHeaders(id, head, end) {
    const flow = new Flow(id, head);
    flows.set(id, flow);
    if (end) {
      hook(flow, 'request');
      flow.upstreamId = up.openStream(flow.request, true);
      byUp.set(flow.upstreamId, flow);
    }
  }
  onData() {}
  onTrailers() {}
  onReset() {}
  onStreamClose(id) {
    flows.delete(id);
  }
  onError(e) {
    throw e;
  }
}
class RelayUp extends Sink {
  onHeaders(id, head) {
    byUp.get(id).response = head;
  }
  onData(id, chunk, end) {
    const flow = byUp.get(id);
    if (chunk.length > 0) flow.responseBody.push(chunk);
    up.consume(id, chunk.length);
    if (end) {
      hook(flow, 'response');
      down.sendHeaders(flow.id, flow.response, false);
      down.sendData(
        flow.id,
        flow.responseBody.length === 1 ? flow.responseBody[0] : Buffer.concat(flow.responseBody),
        true,
      );
    }
  }
  onTrailers() {}
  onReset() {}
  onStreamClose(id) {
    byUp.delete(id);
  }
  onError(e) {
    throw e;
  }
}

// `direct`: the client's bytes go to the origin and back without the relay
let direct = false;
let client, down, up, origin;
function connect() {
  client = new Http2Connection('client', new ClientEnd(toRelayDown), { maxConcurrentStreams: 1000 });
  down = new Http2Connection('server', new RelayDown(toClient), { maxConcurrentStreams: 1000 });
  up = new Http2Connection('client', new RelayUp(toOrigin));
  origin = new Http2Connection('server', new OriginEnd(toRelayUp), { maxConcurrentStreams: 1000 });
  client.start();
  if (!direct) down.start();
  if (!direct) up.start();
  origin.start();
  pump();
}

function pump() {
  for (;;) {
    let moved = false;
    if (toRelayDown.length) {
      up.cork();
      for (const c of toRelayDown.splice(0)) (direct ? origin : down).receive(c);
      up.uncork();
      moved = true;
    }
    if (toRelayUp.length) {
      down.cork();
      for (const c of toRelayUp.splice(0)) (direct ? client : up).receive(c);
      down.uncork();
      moved = true;
    }
    if (toClient.length) {
      for (const c of toClient.splice(0)) client.receive(c);
      moved = true;
    }
    if (toOrigin.length) {
      for (const c of toOrigin.splice(0)) origin.receive(c);
      moved = true;
    }
    if (!moved) return;
  }
}

const REQ_HEADERS = [[b('user-agent'), b('h2load nghttp2/1.52.0')]];
function run(n) {
  const startDone = done;
  while (done - startDone < n) {
    client.cork();
    for (let i = 0; i < BATCH; i++)
      client.openStream(
        { method: 'GET', scheme: 'https', authority: '127.0.0.1:8443', path: '/f', headers: REQ_HEADERS },
        true,
      );
    client.uncork();
    pump();
  }
}

function measure(viaRelay) {
  direct = !viaRelay;
  connect();
  run(20000); // warm-up
  const t = cpu();
  run(STREAMS);
  return (cpu() - t) / STREAMS;
}
const rounds = [];
for (let i = 0; i < 3; i++) rounds.push(measure(true) - measure(false));
rounds.sort((a, b) => a - b);
console.log(
  `h2 codec relay (no sockets, no TLS), ${BATCH} streams per read: ${rounds[1].toFixed(2)} us CPU per stream (median of ${rounds.map((r) => r.toFixed(2)).join(', ')}; ${STREAMS} streams each)`,
);

// ------------------------------------------------------------------ HPACK alone
const CHROME = [
  [
    'user-agent',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  ],
  ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'],
  ['accept-encoding', 'gzip, deflate, br'],
  ['accept-language', 'en-US,en;q=0.9'],
  ['cookie', 'session=0123456789abcdef; theme=dark; consent=yes'],
  ['sec-fetch-dest', 'document'],
  ['sec-fetch-mode', 'navigate'],
  ['sec-fetch-site', 'none'],
  ['upgrade-insecure-requests', '1'],
].map(([n, v]) => [b(n), b(v)]);
const M = staticName(':method');
const S = staticName(':scheme');
const A = staticName(':authority');
const P = staticName(':path');
const enc = new HpackEncoder();
const dec = new HpackDecoder(4096, 65536);
const out = { buf: Buffer.alloc(1 << 16), pos: 0 };
const sink = {
  n: 0,
  field() {
    this.n++;
  },
};
let path = 0;
function encodeHead(paths) {
  out.pos = 0;
  enc.beginBlock(out);
  enc.fieldString(out, M, 'GET', false);
  enc.fieldString(out, S, 'https', false);
  enc.fieldString(out, A, 'www.example.com', false);
  enc.fieldString(out, P, paths[path++ % paths.length], false);
  for (const [n, v] of CHROME) enc.field(out, n, v, 0, v.length, false);
  return out.pos;
}
const paths = Array.from({ length: 64 }, (_, i) => `/assets/app-${i}.js?v=12345`);
for (let i = 0; i < 20000; i++) dec.decode(out.buf, 0, encodeHead(paths), sink);
const N = 200000;
let t = cpu();
for (let i = 0; i < N; i++) encodeHead(paths);
const encUs = (cpu() - t) / N;
const len = encodeHead(paths);
t = cpu();
for (let i = 0; i < N; i++) dec.decode(out.buf, 0, len, sink);
const decUs = (cpu() - t) / N;
console.log(
  `HPACK, a Chrome-like request head (13 fields, repeated, new path each time): encode ${encUs.toFixed(2)} us, decode ${decUs.toFixed(2)} us (block ${len} bytes)`,
);
