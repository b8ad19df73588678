// HTTP/2 peers for the benchmarks: nghttpd origins, h2load runs, the TLS relay floor.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCommands } from '../../scripts/debian.mjs';
import { Child, runToEnd } from './children.mjs';
import { ROOT } from './proxies.mjs';
import { freePort, waitForPort } from './sys.mjs';

/** h2load, nghttpd (Debian's nghttp2-client and -server), installed where this process may. */
export function h2Tools(log) {
  return ensureCommands({ h2load: 'nghttp2-client', nghttpd: 'nghttp2-server' }, { log });
}

/** A docroot with `f` (`smallBytes`) and `big` (`bigBytes`), made once. */
export function h2Docs(dataDir, smallBytes, bigBytes) {
  const dir = join(dataDir, 'h2-docs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'f'), Buffer.alloc(smallBytes, 0x61));
  const big = Buffer.allocUnsafe(bigBytes);
  for (let i = 0; i < bigBytes; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  writeFileSync(join(dir, 'big'), big);
  return dir;
}

/** nghttpd serving `docs`, over TLS with `cert`, or cleartext (h2c) when `cert` is null. */
export async function nghttpd(path, docs, cert) {
  const port = await freePort();
  const args = [
    '-a',
    '127.0.0.1',
    '-d',
    docs,
    ...(cert ? [String(port), cert.keyPath, cert.certPath] : ['--no-tls', String(port)]),
  ];
  const child = new Child(cert ? 'nghttpd' : 'nghttpd-h2c', path, args);
  await waitForPort(port, { child });
  return { child, pid: child.pid, port };
}

/** The TLS relay floor in its own process (bench/lib/tls-relay.mjs) in front of `upstreamPort`. */
export async function tlsRelay(upstreamPort, cert) {
  const child = new Child('tls-relay', process.execPath, [
    join(ROOT, 'bench/lib/tls-relay.mjs'),
    String(upstreamPort),
    cert.keyPath,
    cert.certPath,
  ]);
  const port = await new Promise((resolve, reject) => {
    child.onOutput((s) => {
      const m = /"port":(\d+)/.exec(s);
      if (m) resolve(Number(m[1]));
    });
    child.exited.then(() => reject(new Error(`The TLS relay did not start.\n  ${child.describe()}`)));
  });
  return { child, pid: child.pid, port };
}

/**
 * Run h2load to the end; `{ rps, seconds }`. Throws unless every request succeeded with a 2xx.
 * `args` go before the URL (e.g. `-n`, `-c`, `-m`, `--connect-to`).
 */
export async function h2load(path, args, url, timeoutMs = 600_000) {
  const r = await runToEnd('h2load', path, [...args, url], { timeoutMs });
  const text = r.out + r.err;
  const fin = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(text);
  const done = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded/.exec(text);
  const codes = /status codes: (\d+) 2xx/.exec(text);
  if (!fin || !done || !codes)
    throw new Error(`h2load output not understood:\n${text.split('\n').slice(-15).join('\n')}`);
  if (done[2] !== done[1] || codes[1] !== done[1])
    throw new Error(
      `h2load: ${done[2]} of ${done[1]} requests succeeded (${codes[1]} 2xx):\n${text.split('\n').slice(-15).join('\n')}`,
    );
  return { rps: Number(fin[3]), seconds: Number(fin[1]) / (fin[2] === 'ms' ? 1000 : 1) };
}
