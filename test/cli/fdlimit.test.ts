import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Child, MITMTS_BIN, listeningPort, proxyRoundTrip, tempDir } from '../helpers/process.js';

const WARNING =
  /\[warn\] Out of file descriptors \(EMFILE\): the limit \(ulimit -n\) is 64, so new clients are refused/g;

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

// libuv accepts and closes clients it has no descriptor for, telling nobody: the proxy must say so.
describe('mitmts out of file descriptors', () => {
  it('logs EMFILE once per burst with the limit, and serves again afterwards', async () => {
    // A shell lowers the limit (Node raises the soft limit to the hard one, so set both).
    const child = new Child('/bin/sh', [
      '-c',
      `ulimit -n 64 && exec "${process.execPath}" "${MITMTS_BIN}" --set confdir=${tempDir()} -p 0`,
    ]);
    try {
      const port = await listeningPort(child);
      const sockets = await Promise.all(Array.from({ length: 100 }, () => open(port)));
      await child.waitFor(WARNING);
      expect(child.all.match(WARNING)).toHaveLength(1);
      expect(child.all).toMatch(/Raise it \(`ulimit -n`/);
      for (const s of sockets) s.destroy();
      await child.waitFor(/File descriptors are available again \(EMFILE is over\)\./);
      expect(await proxyRoundTrip(port)).toMatch(/^HTTP\/1\.1 502 /);
      expect(child.all.match(WARNING)).toHaveLength(1);
    } finally {
      await child.stop();
    }
  });
});
