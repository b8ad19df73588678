// Store benchmark, part 2: capture N distinct 1 MiB bodies through mitmts with the store on and
// watch the proxy's RSS. The origin runs in this process and serves slices of a random pool at
// different offsets, so every body is different (no deduplication, no compression).
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { memOf } from './sys.mjs';

const MIB = 1048576;

function startOrigin() {
  const pool = randomBytes(2 * MIB);
  const server = http.createServer((req, res) => {
    const i = Number(new URL(req.url, 'http://x').searchParams.get('i') ?? 0);
    const off = (i * 4099) % MIB;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': MIB });
    res.end(pool.subarray(off, off + MIB));
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: server.address().port })),
  );
}

function get(agent, proxyPort, url) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: proxyPort, path: url, agent, headers: { Host: new URL(url).host } },
      (res) => {
        let n = 0;
        res.on('data', (c) => (n += c.length));
        res.on('end', () =>
          res.statusCode === 200 && n === MIB
            ? resolve(n)
            : reject(new Error(`GET ${url}: status ${res.statusCode}, ${n} bytes`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Capture `count` bodies of 1 MiB; returns sizes, RSS at the end and at its peak, stored flows. */
export async function captureBodies(env, dir, count) {
  const origin = await startOrigin();
  const db = join(dir, 'bodies.db');
  const p = await env.startProxy('mitmts', { sets: [`store=${db}`], tag: 'store-bodies' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let next = 0;
  let bytes = 0;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, memOf(p.pid)?.rss ?? 0)), 100);
  const t0 = performance.now();
  try {
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const n = await get(agent, p.port, `http://127.0.0.1:${origin.port}/body?i=${i}`);
        bytes += n;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    const seconds = (performance.now() - t0) / 1000;
    const mem = memOf(p.pid);
    clearInterval(sampler);
    await env.stopProxy(p, 'store-bodies');
    const { StoreDatabase } = await import('@mitmts/addon-store/engine');
    const store = StoreDatabase.open(db, { readonly: true });
    const stored = store.db.prepare('SELECT count(*) FROM flows').pluck().get();
    store.close();
    let bodyFiles = 0;
    for (const sub of readdirSync(`${db}.bodies`)) bodyFiles += readdirSync(join(`${db}.bodies`, sub)).length;
    return { bodies: count, bytes, seconds, rss: mem.rss, hwm: Math.max(mem.hwm, peak), stored, bodyFiles };
  } finally {
    clearInterval(sampler);
    agent.destroy();
    origin.server.close();
    await p.stop();
  }
}
