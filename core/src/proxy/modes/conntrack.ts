/**
 * The original destination of a redirected (iptables/nftables REDIRECT, DNAT) connection, read
 * from the kernel's connection tracking table `/proc/net/nf_conntrack` by the client's address
 * and port. Needs `CONFIG_NF_CONNTRACK_PROCFS` (Debian's kernels have it); one scan of the
 * table per connection (about a millisecond with few entries).
 */
import { readFile } from 'node:fs/promises';
import { canonicalIp } from '../../certs/names.js';

/** Where the table is. */
export const CONNTRACK_TABLE = '/proc/net/nf_conntrack';

/** An address as the kernel prints it and as Node gives it, in one form (IPv4-mapped IPv6 as IPv4). */
export function plainIp(ip: string): string {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return canonicalIp(v4 ? v4[1]! : ip) ?? ip;
}

/**
 * The first (original-direction) tuple of the TCP entry whose source is `client`, or null. Lines
 * look like `ipv4 2 tcp 6 431999 ESTABLISHED src=A dst=B sport=P dport=Q src=... [ASSURED] ...`.
 */
export function findOriginal(
  table: string,
  client: { host: string; port: number },
): { host: string; port: number } | null {
  const host = plainIp(client.host);
  const sport = `sport=${client.port} `;
  for (const line of table.split('\n')) {
    if (!line.includes(sport) || !/^\S+\s+\d+\s+tcp\s/.test(line)) continue;
    const m = /\bsrc=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/.exec(line);
    if (m && Number(m[3]) === client.port && plainIp(m[1]!) === host)
      return { host: plainIp(m[2]!), port: Number(m[4]) };
  }
  return null;
}

/** Look the client up in the live table; null if it is not there (or the table cannot be read: `error`). */
export async function conntrackOriginal(client: {
  host: string;
  port: number;
}): Promise<{ dest: { host: string; port: number } | null; error: string | null }> {
  let table: string;
  try {
    table = await readFile(CONNTRACK_TABLE, 'latin1');
  } catch (err) {
    return { dest: null, error: `cannot read ${CONNTRACK_TABLE} (${(err as Error).message})` };
  }
  return { dest: findOriginal(table, client), error: null };
}
