// The upstream origin, run as its own process: `node upstream.mjs KEY_PATH CERT_PATH`.
// One HTTP and one HTTPS server (any SNI is accepted: one certificate for every name):
//   GET /                 -> 200 "hello world\n" (Content-Length, keep-alive)
//   GET /big?bytes=N      -> 200 with N bytes of body, written in 256 KiB slices with backpressure
// Sends `{ http, https }` (the ports) to the parent over IPC once both listen.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

const [keyPath, certPath] = process.argv.slice(2);
const SMALL = Buffer.from('hello world\n');
const SLICE = Buffer.alloc(256 * 1024, 'x');

function handler(req, res) {
  const url = req.url;
  const q = url.indexOf('/big?bytes=');
  if (q >= 0) return sendBig(res, Number(url.slice(q + 11)));
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': SMALL.length });
  res.end(SMALL);
}

function sendBig(res, total) {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': total });
  let left = total;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, SLICE.length);
      left -= n;
      const ok = res.write(n === SLICE.length ? SLICE : SLICE.subarray(0, n));
      if (!ok && left > 0) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

function tune(server) {
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;
  server.on('connection', (s) => s.setNoDelay(true));
  return server;
}

const plain = tune(http.createServer(handler));
const secure = tune(https.createServer({ key: readFileSync(keyPath), cert: readFileSync(certPath) }, handler));
// Handshakes the load generators abort on purpose are not errors worth a log line.
secure.on('tlsClientError', () => undefined);

let ready = 0;
const ports = {};
const done = () => {
  if (++ready === 2) process.send({ ports });
};
plain.listen(0, '127.0.0.1', () => {
  ports.http = plain.address().port;
  done();
});
secure.listen(0, '127.0.0.1', () => {
  ports.https = secure.address().port;
  done();
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
