import { isIP } from 'node:net';

/** A listener as the proxy server reports it (`*` for every interface). */
export interface ListenerAddress {
  readonly host: string;
  readonly port: number;
}

/** Is `host` a loopback address (127.0.0.0/8, ::1, localhost)? `*`, 0.0.0.0, :: and others are not. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return isIP(h) === 6 && /^(0{0,4}:){0,7}:?0{0,3}1$/.test(h) && h !== '::';
}

/**
 * The one-line notice for listeners other machines can reach while no proxyauth is set (an open
 * proxy also reaches the host's own loopback services), or null.
 */
export function exposureNotice(addresses: readonly ListenerAddress[], proxyauth: string | null): string | null {
  if (proxyauth) return null;
  const open = addresses.filter((a) => !isLoopback(a.host));
  if (open.length === 0) return null;
  const where = open.map((a) => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`).join(', ');
  return (
    `The proxy at ${where} accepts clients from other machines and proxyauth is not set: anyone who reaches it can use it, ` +
    "also to reach services on this host's loopback. Set --proxyauth, or --listen-host 127.0.0.1 to accept local clients only."
  );
}
