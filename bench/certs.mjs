// Certificate store benchmark: CA creation, leaf generation (first and cached), secure context
// creation, and TLS handshakes/s on loopback for never-seen host names (server in this thread,
// clients in a worker thread). Run after `npx tsc -b`: node bench/certs.mjs [seconds] [concurrency]
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import forge from 'node-forge';
import { CertStore, selectNames } from '../core/dist/index.js';

if (!isMainThread) {
  await runClients(workerData);
} else {
  await main();
}

function us(ms) {
  return `${(ms * 1000).toFixed(0)} µs`;
}

function timeIt(n, fn) {
  const t = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return (performance.now() - t) / n;
}

async function main() {
  const seconds = Number(process.argv[2] ?? 5);
  const concurrency = Number(process.argv[3] ?? 8);
  const dir = mkdtempSync(join(tmpdir(), 'mitmts-bench-certs-'));
  try {
    // CA key generation: native vs forge pure JS.
    let t = performance.now();
    generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
    const nativeKeygen = performance.now() - t;
    forge.options.usePureJavaScript = true;
    t = performance.now();
    forge.pki.rsa.generateKeyPair({ bits: 2048, e: 65537 });
    const forgeKeygen = performance.now() - t;
    forge.options.usePureJavaScript = false;

    t = performance.now();
    const store = await CertStore.fromConfdir(dir);
    const createCa = performance.now() - t;
    t = performance.now();
    await CertStore.fromConfdir(dir);
    const loadCa = performance.now() - t;

    // Handshake server: names from the SNI, certificate and secure context from the store.
    const server = tls.createServer({
      SNICallback(servername, cb) {
        const n = selectNames({ sni: servername, localAddress: '127.0.0.1' });
        cb(null, store.secureContext(store.getCert(n.cn, n.sans)));
      },
    });
    server.on('secureConnection', (s) => s.end());
    server.on('tlsClientError', () => {});
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const port = server.address().port;

    // First new host, cold (nothing warmed up): one verified handshake, client in this thread.
    t = performance.now();
    await new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, servername: 'first.example.com', ca: store.caCertPem }, () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
    const firstHost = performance.now() - t;

    const leafNew = timeIt(1000, (i) => store.getCert(`leaf${i}.example.com`, [`leaf${i}.example.com`]));
    const leafCached = timeIt(100_000, () => store.getCert('leaf999.example.com', ['leaf999.example.com']));
    const ctxNew = timeIt(300, (i) =>
      store.secureContext(store.getCert(`ctx${i}.example.com`, [`ctx${i}.example.com`])),
    );
    const ctxCached = timeIt(100_000, () =>
      store.secureContext(store.getCert('ctx299.example.com', ['ctx299.example.com'])),
    );

    console.log(
      `CA key generation, RSA 2048: native ${nativeKeygen.toFixed(0)} ms, forge pure JS ${forgeKeygen.toFixed(0)} ms`,
    );
    console.log(
      `CA creation with all files (fromConfdir, new): ${createCa.toFixed(0)} ms; loading existing: ${loadCa.toFixed(1)} ms`,
    );
    console.log(`first new host, cold, verified handshake end to end: ${firstHost.toFixed(1)} ms`);
    console.log(`leaf generation, new host: ${us(leafNew)}; cached: ${us(leafCached)}`);
    console.log(`leaf + secure context, new host: ${us(ctxNew)}; cached: ${us(ctxCached)}`);

    // Handshakes for never-seen names, clients in a worker thread.
    const elu0 = performance.eventLoopUtilization();
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { port, ca: store.caCertPem, seconds, concurrency },
    });
    const result = await new Promise((res, rej) => {
      worker.on('message', res);
      worker.on('error', rej);
    });
    const elu = performance.eventLoopUtilization(elu0);
    server.close();
    // Busy time of the server thread per handshake: the proxy-side cost, less sensitive than the
    // rate to what else runs on the machine.
    const serverMs = (elu.active / result.done).toFixed(2);
    console.log(
      `handshakes, never-seen names, ${concurrency} in flight: ${result.rate.toFixed(0)}/s ` +
        `(${result.done} in ${result.seconds.toFixed(1)} s, ${result.errors} errors; p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms); server thread busy ${serverMs} ms per handshake`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runClients({ port, ca, seconds, concurrency }) {
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let done = 0;
  let errors = 0;
  let seq = 0;
  const lat = [];
  const one = () =>
    new Promise((resolve) => {
      const t = performance.now();
      const name = `host${seq++}.bench.example`;
      const s = tls.connect({ host: '127.0.0.1', port, servername: name, ca, minVersion: 'TLSv1.2' }, () => {
        lat.push(performance.now() - t);
        done++;
        s.destroy();
        resolve();
      });
      s.on('error', () => {
        errors++;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  parentPort.postMessage({
    done,
    errors,
    seconds: elapsed,
    rate: done / elapsed,
    p50: lat[Math.floor(lat.length * 0.5)] ?? 0,
    p99: lat[Math.floor(lat.length * 0.99)] ?? 0,
  });
}
