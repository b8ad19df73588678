// Loopback throughput of a minimal keep-alive forwarder built from the HTTP/1 codec, against the
// same load sent directly to the server. Shows what the codec leaves for the rest of the proxy.
//
//   npx tsc -b && node bench/http1-loopback.mjs [--seconds 5] [--connections 32]
//
// Three processes: a Node http server answering "hello world", the forwarder (codec only: parse,
// re-serialize heads from the raw pairs, stream bodies; no flows, no hooks), and a load
// generator keeping N keep-alive connections busy with one small GET at a time (like wrk).
import { fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const role = process.argv[2];
const self = fileURLToPath(import.meta.url);

async function codec() {
  return import('../core/dist/proxy/http1/index.js');
}

if (role === 'server') {
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end('hello world\n');
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else if (role === 'forwarder') {
  const { RequestParser, ResponseParser, serializeRequestHead, serializeResponseHead, encodeChunk, encodeLastChunk } =
    await codec();
  const upstreamPort = Number(process.argv[3]);
  const validate = process.argv[4] !== 'novalidate';
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    upstream.setNoDelay(true);
    let reqChunked = false;
    let resChunked = false;
    let trailersSent = false;
    const reqParser = new RequestParser({
      onHead(h) {
        reqChunked = h.bodyKind === 'chunked';
        resParser.next(h.method);
        upstream.write(serializeRequestHead(h, { validate }));
      },
      onData: (c) => upstream.write(reqChunked ? encodeChunk(c) : c),
      onTrailers: (t) => upstream.write(encodeLastChunk(t)),
      onEnd() {
        if (reqChunked) upstream.write(encodeLastChunk());
      },
      onError: (e) => client.end(`HTTP/1.1 ${e.status} Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`),
    });
    const resParser = new ResponseParser({
      onInformational: (h) => client.write(serializeResponseHead(h, { validate })),
      onHead(h) {
        resChunked = h.bodyKind === 'chunked';
        // head and body of a small response leave in one write (uncorked at the end)
        if (h.bodyKind !== 'none') client.cork();
        client.write(serializeResponseHead(h, { validate }));
      },
      onData(c) {
        client.write(resChunked ? encodeChunk(c) : c);
        if (client.writableCorked) client.uncork(); // stream what arrived, one write per read
      },
      onTrailers(t) {
        trailersSent = true;
        client.write(encodeLastChunk(t));
      },
      onEnd() {
        if (resChunked && !trailersSent) client.write(encodeLastChunk());
        trailersSent = false;
        if (client.writableCorked) client.uncork();
        reqParser.next();
      },
      onError: () => client.destroy(),
    });
    client.on('data', (c) => reqParser.push(c));
    upstream.on('data', (c) => resParser.push(c));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
  process.on('SIGINT', () => process.exit(0)); // lets --cpu-prof write its profile
} else if (role === 'load') {
  const { ResponseParser } = await codec();
  const [port, seconds, connections] = process.argv.slice(3).map(Number);
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n`);
  let done = 0;
  let running = true;
  const sockets = [];
  for (let i = 0; i < connections; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    const parser = new ResponseParser({
      onInformational() {},
      onHead() {},
      onData() {},
      onTrailers() {},
      onEnd() {
        done++;
        parser.next('GET');
        if (running) s.write(request);
      },
      onError(e) {
        console.error(e);
        process.exit(1);
      },
    });
    parser.next('GET');
    s.on('data', (c) => parser.push(c));
    s.on('connect', () => s.write(request));
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 500)); // warm-up
  const start = done;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const rate = (done - start) / ((performance.now() - t0) / 1000);
  running = false;
  for (const s of sockets) s.destroy();
  process.send(rate);
} else {
  // Rounds alternate the three paths and the best round of each is reported: on a shared
  // machine other load only ever makes a round slower.
  const seconds = arg('--seconds', 3);
  const connections = arg('--connections', 32);
  const rounds = arg('--rounds', 3);
  const profile = process.argv.includes('--cpu-prof-forwarder'); // writes CPU-*.cpuprofile of the forwarders
  const start = async (...args) => {
    const execArgv = profile && args[0] === 'forwarder' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/fwdprof'] : [];
    const child = fork(self, args, { stdio: 'inherit', execArgv });
    const [msg] = await once(child, 'message');
    return { child, msg };
  };
  const server = await start('server');
  const fwd = await start('forwarder', String(server.msg));
  const fwdNoValidate = await start('forwarder', String(server.msg), 'novalidate');
  const load = async (port) => (await start('load', String(port), String(seconds), String(connections))).msg;
  const paths = [
    ['direct (load -> Node http server)', server.msg],
    ['through codec forwarder', fwd.msg],
    ['through codec forwarder, validate: false', fwdNoValidate.msg],
  ];
  const best = paths.map(() => 0);
  const all = paths.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < paths.length; i++) {
      const rate = await load(paths[i][1]);
      all[i].push(Math.round(rate));
      best[i] = Math.max(best[i], rate);
    }
  }
  for (const c of [server, fwd, fwdNoValidate]) c.child.kill('SIGINT');
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  console.table(
    paths.map(([name], i) => ({
      path: name,
      'best req/s': fmt(best[i]),
      'vs direct': `${Math.round((best[i] / best[0]) * 100)}%`,
      rounds: all[i].map(fmt).join(' '),
    })),
  );
  void http;
}
