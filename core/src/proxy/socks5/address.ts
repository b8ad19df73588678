/**
 * SOCKS5 addresses (RFC 1928 section 5): IPv4 (ATYP 1), a domain name (ATYP 3, length-prefixed)
 * or IPv6 (ATYP 4), followed by a 2-byte port.
 */
import { Buffer } from 'node:buffer';
import { isIPv4, isIPv6 } from 'node:net';

/** Address types (ATYP). */
export const AddressType = { IPV4: 1, DOMAIN: 3, IPV6: 4 } as const;

/** Where a client wants to connect (or where the server bound). */
export interface Socks5Address {
  /** Dotted IPv4, IPv6 in its compressed text form (no brackets), or the domain name as sent. */
  host: string;
  port: number;
  /** How the client sent the address. */
  type: 'ipv4' | 'domain' | 'ipv6';
}

/** RFC 5952 text form of 16 address bytes (longest run of zero groups, at least two, as `::`). */
export function formatIPv6(b: Buffer, off = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(off + 2 * i));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(groups) : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** 16 bytes of an IPv6 address in text form (with `::` and embedded IPv4). @throws TypeError if invalid. */
export function parseIPv6(text: string): Buffer {
  if (!isIPv6(text)) throw new TypeError(`Not an IPv6 address: ${JSON.stringify(text)}`);
  let s = text;
  const v4: number[] = [];
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (m) {
    const p = m[2]!.split('.').map(Number);
    v4.push((p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!);
    s = m[1]!.endsWith('::') ? m[1]! : m[1]!.slice(0, -1);
  }
  const hex = (part: string): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const halves = s.split('::');
  const left = hex(halves[0]!);
  const right = halves.length === 2 ? [...hex(halves[1]!), ...v4] : [];
  const groups = halves.length === 2 ? [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right] : [...left, ...v4];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  return out;
}

/**
 * Parse an address at `off`: returns it and the offset after the port, or null if the buffer
 * ends first; `{ atyp }` for an unknown address type.
 */
export function readAddress(b: Buffer, off: number): { address: Socks5Address; end: number } | { atyp: number } | null {
  if (b.length < off + 1) return null;
  const atyp = b[off]!;
  let host: string;
  let type: Socks5Address['type'];
  let p: number;
  if (atyp === AddressType.IPV4) {
    if (b.length < off + 7) return null;
    host = `${b[off + 1]}.${b[off + 2]}.${b[off + 3]}.${b[off + 4]}`;
    type = 'ipv4';
    p = off + 5;
  } else if (atyp === AddressType.IPV6) {
    if (b.length < off + 19) return null;
    host = formatIPv6(b, off + 1);
    type = 'ipv6';
    p = off + 17;
  } else if (atyp === AddressType.DOMAIN) {
    if (b.length < off + 2) return null;
    const len = b[off + 1]!;
    if (b.length < off + 2 + len + 2) return null;
    host = b.toString('latin1', off + 2, off + 2 + len);
    type = 'domain';
    p = off + 2 + len;
  } else return { atyp };
  return { address: { host, port: b.readUInt16BE(p), type }, end: p + 2 };
}

/** ATYP + address + port for a host (IPv4 and IPv6 literals as such, anything else as a domain name). */
export function encodeAddress(host: string, port: number): Buffer {
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv4(bare)) return Buffer.concat([Buffer.from([AddressType.IPV4, ...bare.split('.').map(Number)]), portBytes]);
  if (isIPv6(bare)) return Buffer.concat([Buffer.from([AddressType.IPV6]), parseIPv6(bare), portBytes]);
  const name = Buffer.from(bare, 'latin1');
  if (name.length === 0 || name.length > 255) throw new RangeError(`A SOCKS5 domain name must be 1-255 bytes, got ${name.length}.`);
  return Buffer.concat([Buffer.from([AddressType.DOMAIN, name.length]), name, portBytes]);
}
