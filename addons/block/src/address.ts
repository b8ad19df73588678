/**
 * IP address classification with Python's `ipaddress` semantics (what mitmproxy's block addon
 * asks: `is_loopback`, `is_private`, `is_global`), from the IANA special-purpose registries.
 * Pure: no I/O.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A parsed address: 4 or 16 bytes. */
export type IpBytes = Uint8Array;

interface Net {
  readonly bytes: IpBytes;
  readonly prefix: number;
}

function net(cidr: string): Net {
  const [addr, len] = cidr.split('/') as [string, string];
  const bytes = parseIp(addr);
  if (!bytes) throw new Error(`bad network ${cidr}`);
  return { bytes, prefix: Number(len) };
}

/** Not globally reachable (IANA IPv4 special-purpose registry), as Python's `_private_networks`. */
const V4_PRIVATE = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.0.170/31',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '240.0.0.0/4',
  '255.255.255.255/32',
].map(net);
/** Globally reachable exceptions inside the ranges above. */
const V4_PRIVATE_EXCEPTIONS = ['192.0.0.9/32', '192.0.0.10/32'].map(net);
/** Shared address space (RFC 6598): neither private nor global. */
const V4_SHARED = net('100.64.0.0/10');

/** Not globally reachable (IANA IPv6 special-purpose registry), as Python's `_private_networks`. */
const V6_PRIVATE = [
  '::1/128',
  '::/128',
  '::ffff:0:0/96',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16',
  '3fff::/20',
  'fc00::/7',
  'fe80::/10',
].map(net);
const V6_PRIVATE_EXCEPTIONS = [
  '2001:1::1/128',
  '2001:1::2/128',
  '2001:3::/32',
  '2001:4:112::/48',
  '2001:20::/28',
  '2001:30::/28',
].map(net);

function within(ip: IpBytes, n: Net): boolean {
  if (ip.length !== n.bytes.length) return false;
  let bits = n.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i]! & mask) !== (n.bytes[i]! & mask)) return false;
  }
  return true;
}

/**
 * Parse an IPv4 or IPv6 address (a `%zone` suffix is dropped) into bytes; null if it is not one.
 */
export function parseIp(text: string): IpBytes | null {
  const pct = text.lastIndexOf('%');
  const s = pct >= 0 ? text.slice(0, pct) : text;
  if (isIPv4(s)) return Uint8Array.from(s.split('.').map(Number));
  if (!isIPv6(s)) return null;
  let head = s;
  let v4tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    v4tail = s
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const [left, right] = head.includes('::') ? (head.split('::') as [string, string]) : [head, null];
  const groups = (p: string): number[] => (p === '' ? [] : p.split(':').map((g) => parseInt(g, 16)));
  const l = groups(left);
  const r = right === null ? [] : groups(right);
  const all = right === null ? l : [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (v4tail.length === 4) out.set(v4tail, 12);
  return out;
}

/** `::ffff:a.b.c.d` -> the IPv4 address; anything else unchanged (Python's `ipv4_mapped or address`). */
export function unmapIpv4(ip: IpBytes): IpBytes {
  if (ip.length !== 16) return ip;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return ip;
  if (ip[10] !== 0xff || ip[11] !== 0xff) return ip;
  return ip.slice(12);
}

/** 127.0.0.0/8 or ::1. */
export function isLoopback(ip: IpBytes): boolean {
  if (ip.length === 4) return ip[0] === 127;
  for (let i = 0; i < 15; i++) if (ip[i] !== 0) return false;
  return ip[15] === 1;
}

/** Python's `is_private`: in a not-globally-reachable block of the IANA registries. */
export function isPrivate(ip: IpBytes): boolean {
  if (ip.length === 16) {
    const v4 = unmapIpv4(ip);
    if (v4 !== ip) return isPrivate(v4);
  }
  const [nets, exceptions] =
    ip.length === 4 ? [V4_PRIVATE, V4_PRIVATE_EXCEPTIONS] : [V6_PRIVATE, V6_PRIVATE_EXCEPTIONS];
  return nets.some((n) => within(ip, n)) && !exceptions.some((n) => within(ip, n));
}

/** Python's `is_global`: not private, and (IPv4) not in the shared 100.64.0.0/10 block. */
export function isGlobal(ip: IpBytes): boolean {
  if (ip.length === 16) {
    const v4 = unmapIpv4(ip);
    if (v4 !== ip) return isGlobal(v4);
    return !isPrivate(ip);
  }
  return !within(ip, V4_SHARED) && !isPrivate(ip);
}
