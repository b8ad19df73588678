import { describe, expect, it } from 'vitest';
import { isGlobal, isLoopback, isPrivate, parseIp, unmapIpv4 } from '../src/address.js';

// [address, is_loopback, is_private, is_global] after unmapping IPv4-mapped IPv6, as Python's
// ipaddress (3.11.7 with the 2024 registry fix) answers; the table was generated with it.
const PYTHON: Array<[string, boolean, boolean, boolean]> = [
  ['127.0.0.1', true, true, false],
  ['127.255.0.9', true, true, false],
  ['::1', true, true, false],
  ['10.0.0.1', false, true, false],
  ['172.20.0.1', false, true, false],
  ['192.168.1.1', false, true, false],
  ['::ffff:10.0.0.1', false, true, false],
  ['::ffff:172.20.0.1', false, true, false],
  ['::ffff:192.168.1.1', false, true, false],
  ['fe80::', false, true, false],
  ['fe80::1%eth0', false, true, false],
  ['1.1.1.1', false, false, true],
  ['8.8.8.8', false, false, true],
  ['216.58.207.174', false, false, true],
  ['::ffff:1.1.1.1', false, false, true],
  ['::ffff:8.8.8.8', false, false, true],
  ['2001:4860:4860::8888', false, false, true],
  ['100.64.0.1', false, false, false],
  ['100.127.255.255', false, false, false],
  ['192.0.0.9', false, false, true],
  ['192.0.0.10', false, false, true],
  ['192.0.0.8', false, true, false],
  ['192.0.2.2', false, true, false],
  ['fd00::2', false, true, false],
  ['fc00::', false, true, false],
  ['0.0.0.0', false, true, false],
  ['255.255.255.255', false, true, false],
  ['224.0.0.1', false, false, true],
  ['2001:db8::1', false, true, false],
  ['2001:3::1', false, false, true],
  ['2002::1', false, true, false],
  ['64:ff9b::1.2.3.4', false, false, true],
  ['::ffff:127.0.0.1', true, true, false],
  ['::', false, true, false],
  ['169.254.1.1', false, true, false],
  ['198.18.0.1', false, true, false],
  ['2001:20::1', false, false, true],
  ['2001::1', false, true, false],
  ['ff02::1', false, false, true],
  ['::ffff:100.64.0.1', false, false, false],
];

describe('address classification (Python ipaddress semantics)', () => {
  it.each(PYTHON)('%s: loopback=%s private=%s global=%s', (text, loopback, priv, glob) => {
    const ip = unmapIpv4(parseIp(text)!);
    expect([isLoopback(ip), isPrivate(ip), isGlobal(ip)]).toEqual([loopback, priv, glob]);
  });

  it('treats 3fff::/20 (RFC 9637 documentation) as private, as current CPython does', () => {
    expect(isPrivate(parseIp('3fff:1::1')!)).toBe(true);
    expect(isGlobal(parseIp('3fff:1::1')!)).toBe(false);
  });

  it('parses IPv4, IPv6, embedded IPv4 and zones; rejects other text', () => {
    expect([...parseIp('1.2.3.4')!]).toEqual([1, 2, 3, 4]);
    expect([...parseIp('::ffff:1.2.3.4')!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4]);
    expect([...parseIp('2001:db8::8:800:200c:417a')!]).toEqual([
      0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 8, 8, 0, 0x20, 0x0c, 0x41, 0x7a,
    ]);
    expect([...parseIp('1:2:3:4:5:6:7:8')!]).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]);
    expect(parseIp('fe80::1%eth0')!.length).toBe(16);
    expect(parseIp('localhost')).toBeNull();
    expect(parseIp('')).toBeNull();
    expect(parseIp('1.2.3')).toBeNull();
  });

  it('unmaps only ::ffff:0:0/96', () => {
    expect(unmapIpv4(parseIp('::ffff:8.8.8.8')!).length).toBe(4);
    expect(unmapIpv4(parseIp('::8.8.8.8')!).length).toBe(16);
    expect(unmapIpv4(parseIp('64:ff9b::8.8.8.8')!).length).toBe(16);
  });
});
