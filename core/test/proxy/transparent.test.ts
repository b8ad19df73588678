import { describe, expect, it } from 'vitest';
import { findOriginal, plainIp } from '../../src/proxy/modes/conntrack.js';
import { destinationHint } from '../../src/proxy/modes/transparent.js';
import { parseClientHello } from '../../src/proxy/tls/clienthello.js';

// Lines as the kernel writes /proc/net/nf_conntrack (the first tuple is the original direction).
const TABLE = [
  'ipv4     2 tcp      6 431999 ESTABLISHED src=10.99.1.2 dst=10.99.2.6 sport=40000 dport=80 src=10.99.1.1 dst=10.99.1.2 sport=8080 dport=40000 [ASSURED] mark=0 zone=0 use=2',
  'ipv4     2 udp      17 29 src=10.99.1.2 dst=10.99.2.53 sport=40001 dport=53 src=10.99.2.53 dst=10.99.1.2 sport=53 dport=40001 mark=0 zone=0 use=2',
  'ipv4     2 tcp      6 431999 ESTABLISHED src=10.99.1.3 dst=10.99.2.7 sport=40000 dport=443 src=10.99.1.1 dst=10.99.1.3 sport=8080 dport=40000 [ASSURED] mark=0 zone=0 use=2',
  'ipv6     10 tcp      6 431999 ESTABLISHED src=fd00:0000:0000:0000:0000:0000:0000:0002 dst=fd00:0000:0000:0000:0000:0000:0000:0099 sport=40000 dport=443 src=fd00::1 dst=fd00::2 sport=8080 dport=40000 [ASSURED] mark=0 zone=0 use=2',
].join('\n');

describe('transparent mode: the original destination', () => {
  it('is read from the conntrack table by the client address and port', () => {
    expect(findOriginal(TABLE, { host: '10.99.1.2', port: 40000 })).toEqual({ host: '10.99.2.6', port: 80 });
    expect(findOriginal(TABLE, { host: '::ffff:10.99.1.3', port: 40000 })).toEqual({ host: '10.99.2.7', port: 443 });
    expect(findOriginal(TABLE, { host: 'fd00::2', port: 40000 })).toEqual({ host: 'fd00::99', port: 443 });
    // UDP entries and other clients do not count.
    expect(findOriginal(TABLE, { host: '10.99.1.2', port: 40001 })).toBeNull();
    expect(findOriginal(TABLE, { host: '10.99.1.9', port: 40000 })).toBeNull();
  });

  it('compares addresses in one form', () => {
    expect(plainIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(plainIp('FD00:0000::0001')).toBe('fd00::1');
  });

  it('falls back to the Host header or the TLS SNI as a hint', () => {
    expect(destinationHint(Buffer.from('GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n'))).toEqual({
      host: 'example.com',
      port: 8080,
    });
    expect(destinationHint(Buffer.from('GET / HTTP/1.1\r\nhost: [::1]\r\n\r\n'))).toEqual({ host: '::1', port: 80 });
    expect(destinationHint(Buffer.from('GET / HTTP/1.0\r\n\r\n'))).toBeNull();
    expect(destinationHint(Buffer.from('\x00\x01garbage'))).toBeNull();
    const hello = clientHello('sni.example');
    expect(parseClientHello(hello)?.sni).toBe('sni.example');
    expect(destinationHint(hello)).toEqual({ host: 'sni.example', port: 443 });
  });
});

/** A minimal TLS 1.2 ClientHello with one SNI. */
function clientHello(name: string): Buffer {
  const host = Buffer.from(name);
  const sniList = Buffer.concat([Buffer.from([0]), u16(host.length), host]);
  const sni = Buffer.concat([u16(0), u16(sniList.length + 2), u16(sniList.length), sniList]);
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32),
    Buffer.from([0]),
    u16(2),
    u16(0x002f),
    Buffer.from([1, 0]),
    u16(sni.length),
    sni,
  ]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16(hs.length), hs]);
}

function u16(n: number): Buffer {
  return Buffer.from([n >> 8, n & 0xff]);
}
