// The HTTP/2 spike of issue 10: what our own socket-free HTTP/2 codec costs per stream when it
// runs both legs of a proxy, measured with h2load, next to the same h2load straight at the server.
//
//   npx tsc -b && node bench/h2-spike.mjs [--n 100000] [--clients 4] [--streams 20] [--upstream nghttpd|node]
//                                         [--relay-only] [--profile] [--body 100]
//
// Processes: an h2 origin over TLS (nghttpd, or node:http2 with --upstream node) serving a
// 100-byte file; the relay (this file with role `relay`); h2load (`-n N -c 4 -m 20 -t 1`).
// The relay is a minimal proxy built from the codec on both legs, shaped like the real pipeline:
// client-facing TLS on a leaf from our CA (CertStore, a `tls.TLSSocket` on the accepted socket as
// the proxy does), ALPN h2; one upstream TLS h2 connection per client connection; each stream
// becomes a flow-like object (request and response heads as header pairs, buffered bodies) and
// passes one synchronous hook on the request and one on the response; upstream streams wait in
// a queue when the server's MAX_CONCURRENT_STREAMS is reached. `--relay-only` skips the hooks
// and flow objects (heads and DATA forwarded as they come): the codec's share.
//
// Printed: req/s direct and through the relay, the relay's CPU per stream (user + sys from
// /proc/PID/stat, which moves little when other work shares the machine), and the machine's
// load. The gate of issue 10: <= 50 us of proxy CPU per stream for the whole pipeline.
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fork } from 'node:child_process';
import { Child, installCleanup, runToEnd, stopAll } from './lib/children.mjs';
import { freePort, waitForPort, withCpu, perUnit, machineBusy } from './lib/sys.mjs';
import { summarizeProfile, formatProfile } from './lib/profile.mjs';
import { Flow, hook } from './lib/h2-flow.mjs';

const self = fileURLToPath(import.meta.url);
const root = join(self, '..', '..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};

// ------------------------------------------------------------------------------------- relay

async function relay() {
  const { Http2Connection } = await import('../core/dist/proxy/http2/index.js');
  const { CertStore } = await import('../core/dist/certs/index.js');
  const [upPort, confdir, mode] = argv.slice(1);
  const plain = mode === 'relay-only';
  const store = await CertStore.fromConfdir(confdir);
  const entry = store.getCert('127.0.0.1', ['127.0.0.1', 'localhost']);
  const ctx = store.secureContext(entry);

  const stats = { downReads: 0, upReads: 0, downWrites: 0, upWrites: 0 };
  const concat = (parts) => (parts.length === 0 ? null : parts.length === 1 ? parts[0] : Buffer.concat(parts));

  /** The client-facing leg's events. */
  class ClientSide {
    constructor(s) {
      this.s = s;
    }
    write(b) {
      stats.downWrites++;
      this.s.down.write(b);
    }
    onHeaders(id, head, end) {
      const s = this.s;
      if (plain) return s.forwardRequestHead(id, head, end);
      const flow = new Flow(id, head);
      s.flows.set(id, flow);
      if (end) s.requestDone(flow);
    }
    onData(id, chunk, end) {
      const s = this.s;
      if (plain) return s.forwardRequestData(id, chunk, end);
      const flow = s.flows.get(id);
      if (flow === undefined) return;
      if (chunk.length > 0) flow.requestBody.push(chunk);
      s.client.consume(id, chunk.length);
      if (end) s.requestDone(flow);
    }
    onTrailers(id) {
      const flow = this.s.flows.get(id);
      if (flow) this.s.requestDone(flow);
    }
    onReset(id, code) {
      const flow = this.s.flows.get(id);
      if (flow && flow.upstreamId) this.s.server.reset(flow.upstreamId, code);
    }
    onStreamClose(id) {
      this.s.flows.delete(id);
    }
    onError() {
      this.s.down.end();
    }
  }

  /** The upstream leg's events. */
  class ServerSide {
    constructor(s) {
      this.s = s;
    }
    write(b) {
      stats.upWrites++;
      this.s.up.write(b);
    }
    onHeaders(upId, head, end) {
      const s = this.s;
      const flow = s.byUp.get(upId);
      if (flow === undefined) return;
      if (plain) {
        s.client.sendHeaders(flow.id, head, end);
        return;
      }
      flow.response = head;
      if (end) s.responseDone(flow);
    }
    onInformational(upId, head) {
      const flow = this.s.byUp.get(upId);
      if (flow) this.s.client.sendHeaders(flow.id, head, false);
    }
    onData(upId, chunk, end) {
      const s = this.s;
      const flow = s.byUp.get(upId);
      if (flow === undefined) return;
      if (plain) {
        s.client.sendData(flow.id, chunk, end);
        s.server.consume(upId, chunk.length);
        return;
      }
      if (chunk.length > 0) flow.responseBody.push(chunk);
      s.server.consume(upId, chunk.length);
      if (end) s.responseDone(flow);
    }
    onTrailers(upId) {
      const flow = this.s.byUp.get(upId);
      if (flow) this.s.responseDone(flow);
    }
    onReset(upId, code) {
      const flow = this.s.byUp.get(upId);
      if (flow) this.s.client.reset(flow.id, code);
    }
    onStreamClose(upId) {
      const s = this.s;
      s.byUp.delete(upId);
      while (s.queue.length > 0 && s.server.canOpenStream()) s.sendUpstream(s.queue.shift());
    }
    onSettings() {
      const s = this.s;
      while (s.queue.length > 0 && s.server.canOpenStream()) s.sendUpstream(s.queue.shift());
    }
    onError() {
      this.s.up.end();
    }
  }

  class Session {
    constructor(down, up) {
      this.down = down;
      this.up = up;
      this.flows = new Map();
      this.byUp = new Map();
      this.queue = [];
      this.client = new Http2Connection('server', new ClientSide(this));
      this.server = new Http2Connection('client', new ServerSide(this));
      this.client.start();
      this.server.start();
      down.on('data', (c) => {
        stats.downReads++;
        // what the client sends triggers upstream writes: one write per read on each leg
        this.server.cork();
        this.client.receive(c);
        this.server.uncork();
      });
      up.on('data', (c) => {
        stats.upReads++;
        this.client.cork();
        this.server.receive(c);
        this.client.uncork();
      });
      const close = () => {
        this.client.close();
        this.server.close();
        down.destroy();
        up.destroy();
      };
      down.on('close', close);
      up.on('close', close);
      down.on('error', () => undefined);
      up.on('error', () => undefined);
    }
    requestDone(flow) {
      hook(flow, 'request');
      if (this.server.canOpenStream()) this.sendUpstream(flow);
      else this.queue.push(flow);
    }
    sendUpstream(flow) {
      const body = concat(flow.requestBody);
      const upId = this.server.openStream(flow.request, body === null);
      flow.upstreamId = upId;
      this.byUp.set(upId, flow);
      if (body !== null) this.server.sendData(upId, body, true);
    }
    responseDone(flow) {
      hook(flow, 'response');
      const body = concat(flow.responseBody);
      this.client.sendHeaders(flow.id, flow.response, body === null);
      if (body !== null) this.client.sendData(flow.id, body, true);
    }
    // --relay-only: heads and DATA as they come, no flow objects, no hooks
    forwardRequestHead(id, head, end) {
      const flow = new Flow(id, head);
      this.flows.set(id, flow);
      if (!this.server.canOpenStream())
        throw new Error('relay-only mode has no queue; raise the upstream stream limit');
      flow.upstreamId = this.server.openStream(head, end);
      this.byUp.set(flow.upstreamId, flow);
    }
    forwardRequestData(id, chunk, end) {
      const flow = this.flows.get(id);
      if (flow) this.server.sendData(flow.upstreamId, chunk, end);
      this.client.consume(id, chunk.length);
    }
  }

  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const down = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: ctx,
      ALPNProtocols: ['h2'],
      requestCert: false,
      rejectUnauthorized: false,
    });
    down.once('secure', () => {
      if (down.alpnProtocol !== 'h2') return down.destroy();
      const up = tls.connect({
        host: '127.0.0.1',
        port: Number(upPort),
        ALPNProtocols: ['h2'],
        rejectUnauthorized: false,
        servername: 'localhost',
      });
      up.setNoDelay(true);
      new Session(down, up);
    });
    down.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  // a normal exit writes the --cpu-prof profile
  process.on('SIGTERM', () => {
    if (process.env.H2_SPIKE_STATS) console.log('relay I/O:', JSON.stringify(stats));
    process.exit(0);
  });
}

// ----------------------------------------------------------------------------- node upstream

async function nodeUpstream() {
  const http2 = await import('node:http2');
  const { readFileSync } = await import('node:fs');
  const [keyPath, certPath, size] = argv.slice(1);
  const body = Buffer.alloc(Number(size), 0x61);
  const server = http2.createSecureServer({ key: readFileSync(keyPath), cert: readFileSync(certPath) }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
}

// -------------------------------------------------------------------------------------- main

const forked = [];

function forkRole(role, args, execArgv = []) {
  const child = fork(self, [role, ...args], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  forked.push(child);
  const port = new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`${role} exited (code ${code}) before listening`)));
  });
  return { child, port };
}

async function h2load(url, n, c, m) {
  const r = await runToEnd('h2load', 'h2load', ['-n', String(n), '-c', String(c), '-m', String(m), '-t', '1', url], {
    timeoutMs: 600_000,
  });
  const text = r.out + r.err;
  const rps = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(text);
  const done = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/.exec(text);
  if (!rps || !done) throw new Error(`h2load output not understood:\n${text}`);
  const ok = Number(done[1]);
  if (ok !== n)
    throw new Error(`h2load: only ${ok} of ${n} requests succeeded:\n${text.split('\n').slice(-12).join('\n')}`);
  return { rps: Number(rps[1]) };
}

async function main() {
  installCleanup();
  const n = Number(opt('--n', 100000));
  const clients = Number(opt('--clients', 4));
  const streams = Number(opt('--streams', 20));
  const bodySize = Number(opt('--body', 100));
  const upstreamKind = opt('--upstream', 'nghttpd');
  const relayOnly = flag('--relay-only');
  const profile = flag('--profile');
  const dir = mkdtempSync(join(tmpdir(), 'mitmts-h2-spike-'));
  try {
    const { CertStore } = await import('../core/dist/certs/index.js');
    const confdir = join(dir, 'conf');
    mkdirSync(confdir);
    const store = await CertStore.fromConfdir(confdir);
    const up = store.getCert('localhost', ['localhost', '127.0.0.1']);
    const keyPath = join(dir, 'up-key.pem');
    const certPath = join(dir, 'up-cert.pem');
    writeFileSync(keyPath, up.keyPem);
    writeFileSync(certPath, [up.certPem, ...up.chainPem].join('\n'));
    const docs = join(dir, 'docs');
    mkdirSync(docs);
    writeFileSync(join(docs, 'f'), Buffer.alloc(bodySize, 0x61));

    let upPort;
    if (upstreamKind === 'node') {
      const u = forkRole('node-upstream', [keyPath, certPath, String(bodySize)]);
      upPort = await u.port;
    } else {
      upPort = await freePort();
      const u = new Child('nghttpd', 'nghttpd', ['-a', '127.0.0.1', '-d', docs, String(upPort), keyPath, certPath]);
      await waitForPort(upPort, { child: u });
    }

    const profDir = join(dir, 'prof');
    const relayArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
    const r = forkRole('relay', [String(upPort), confdir, relayOnly ? 'relay-only' : 'flows'], relayArgs);
    const relayPort = await r.port;

    const busyBefore = await machineBusy(1000);
    const warm = Math.min(10000, n);
    await h2load(`https://127.0.0.1:${upPort}/f`, warm, clients, streams);
    const direct = await h2load(`https://127.0.0.1:${upPort}/f`, n, clients, streams);
    await h2load(`https://127.0.0.1:${relayPort}/f`, warm, clients, streams);
    const through = await withCpu([r.child.pid], () => h2load(`https://127.0.0.1:${relayPort}/f`, n, clients, streams));
    const cpu = perUnit(through.cpuSplit[r.child.pid], n);

    console.log(
      `h2 spike: h2load -n ${n} -c ${clients} -m ${streams} -t 1, ${bodySize}-byte responses from ${upstreamKind}, relay ${relayOnly ? 'codec only (no flows, no hooks)' : 'with flow objects + 2 sync hooks per stream'}`,
    );
    console.log(`  direct to ${upstreamKind}:   ${direct.rps.toFixed(0)} req/s`);
    console.log(
      `  through the relay:   ${through.result.rps.toFixed(0)} req/s (${((100 * through.result.rps) / direct.rps).toFixed(0)}% of direct)`,
    );
    console.log(
      `  relay CPU per stream: ${cpu.total.toFixed(1)} us (user ${cpu.user.toFixed(1)}, sys ${cpu.sys.toFixed(1)}); relay busy ${(100 * through.cpu[r.child.pid]).toFixed(0)}% of a core`,
    );
    console.log(`  gate (issue 10): <= 50 us per stream: ${cpu.total <= 50 ? 'PASS' : 'MISS'}`);
    console.log(
      `  machine: load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(
          ' ',
        )}; other work before the run took ${(100 * (busyBefore ?? 0)).toFixed(0)}% of all cores; during the relay run ${(100 * (through.cpu.system ?? 0)).toFixed(0)}%`,
    );
    r.child.kill('SIGTERM');
    await new Promise((res) => (r.child.exitCode !== null ? res() : r.child.once('exit', res)));
    await stopAll();
    if (profile) {
      const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
      for (const f of files) console.log(formatProfile(summarizeProfile(join(profDir, f), root), 25));
    }
  } finally {
    for (const c of forked) if (c.exitCode === null) c.kill('SIGKILL');
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

const role = argv[0];
if (role === 'relay') await relay();
else if (role === 'node-upstream') await nodeUpstream();
else await main();
