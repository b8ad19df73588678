import type { Duplex } from 'node:stream';
import type { ServerTransport } from './transport.js';

/** The first bytes of a connection, and who sent them. */
export interface FirstBytes {
  readonly from: 'client' | 'server';
  readonly data: Buffer;
}

/**
 * The first bytes from either side (client first if both; bytes the server already sent win: it
 * spoke first); null if the client went away. Both streams are paused afterwards.
 */
export function firstBytes(client: Duplex, transport: ServerTransport | null): Promise<FirstBytes | null> {
  return new Promise((resolve) => {
    const server = transport?.alive ? transport : null;
    let settled = false;
    const finish = (r: FirstBytes | null): void => {
      if (settled) return;
      settled = true;
      client.removeListener('data', onClient);
      client.removeListener('close', onGone);
      client.removeListener('end', onGone);
      client.pause();
      resolve(r);
    };
    const onClient = (d: Buffer): void => finish({ from: 'client', data: d });
    const onGone = (): void => finish(null);
    client.on('data', onClient);
    client.once('close', onGone);
    client.once('end', onGone);
    server?.whenPending(() => {
      if (settled) return;
      server.socket.pause();
      finish({ from: 'server', data: server.takePending() });
    });
    if (!settled) client.resume();
  });
}

/** Relay bytes both ways untouched (after the pending bytes of each side); either end closes both. */
export function pipeBoth(a: Duplex, aPending: Buffer, b: Duplex, bPending: Buffer): void {
  if (aPending.length) b.write(aPending);
  if (bPending.length) a.write(bPending);
  a.pipe(b);
  b.pipe(a);
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.once('close', end);
  b.once('close', end);
  a.on('error', () => undefined);
  b.on('error', () => undefined);
  a.resume();
  b.resume();
}
