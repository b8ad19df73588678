/**
 * SOCKS5 addresses (RFC 1928 section 5): IPv4 (ATYP 1), a domain name (ATYP 3, length-prefixed)
 * or IPv6 (ATYP 4), followed by a 2-byte port.
 */
import { Buffer } from 'node:buffer';
import { formatIp, ipBytes } from '../../certs/names.js';

/** Address types (ATYP). */
export const AddressType = { IPV4: 1, DOMAIN: 3, IPV6: 4 } as const;

/** Where a client wants to connect (or where the server bound). */
export interface Socks5Address {
  /** Dotted IPv4, IPv6 in its RFC 5952 text form (no brackets), or the domain name as sent. */
  host: string;
  port: number;
  /** How the client sent the address. */
  type: 'ipv4' | 'domain' | 'ipv6';
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
    host = formatIp(b.subarray(off + 1, off + 17));
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
  const ip = ipBytes(bare);
  if (ip !== null)
    return Buffer.concat([Buffer.from([ip.length === 4 ? AddressType.IPV4 : AddressType.IPV6]), ip, portBytes]);
  const name = Buffer.from(bare, 'latin1');
  if (name.length === 0 || name.length > 255)
    throw new RangeError(`A SOCKS5 domain name must be 1-255 bytes, got ${name.length}.`);
  return Buffer.concat([Buffer.from([AddressType.DOMAIN, name.length]), name, portBytes]);
}
