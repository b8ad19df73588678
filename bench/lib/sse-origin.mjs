// The event-stream origin of bench/sse.mjs, as its own process (as an API server is):
//   node bench/lib/sse-origin.mjs KEY CERT EVENTS SPACING_MS
// HTTP and HTTPS (any SNI: one certificate); every request gets EVENTS events of text/event-stream,
// SPACING_MS apart, then the end. Prints {"http": N, "https": N} once both listen.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { sseEvent } from './sse-event.mjs';

const [keyPath, certPath, eventsArg, spacingArg] = process.argv.slice(2);
const EVENTS = Number(eventsArg);
const SPACING_MS = Number(spacingArg);

function handler(req, res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const next = () => {
    res.write(sseEvent(i++));
    if (i === EVENTS) res.end();
    else setTimeout(next, SPACING_MS);
  };
  next();
}

const servers = {
  http: http.createServer(handler),
  https: https.createServer({ key: readFileSync(keyPath), cert: readFileSync(certPath) }, handler),
};
const ports = {};
for (const [name, s] of Object.entries(servers)) {
  s.keepAliveTimeout = 120_000;
  s.on('connection', (c) => c.setNoDelay(true));
  s.listen(0, '127.0.0.1', () => {
    ports[name] = s.address().port;
    if (Object.keys(ports).length === 2) process.stdout.write(`${JSON.stringify(ports)}\n`);
  });
}
process.on('SIGTERM', () => process.exit(0));
