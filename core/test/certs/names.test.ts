import { describe, expect, it } from 'vitest';
import { asteriskForms, canonicalIp, ipBytes, normalizeName } from '../../src/certs/index.js';

describe('ipBytes / canonicalIp', () => {
  it.each([
    ['1.2.3.4', '01020304', '1.2.3.4'],
    ['::1', '00000000000000000000000000000001', '::1'],
    ['0:0:0:0:0:0:0:1', '00000000000000000000000000000001', '::1'],
    ['2001:DB8::8:800:200C:417A', '20010db8000000000008080020 0c417a'.replace(' ', ''), '2001:db8::8:800:200c:417a'],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304', '::ffff:102:304'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001', 'fe80::1'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
  ])('%s', (input, hex, canonical) => {
    expect(ipBytes(input)?.toString('hex')).toBe(hex);
    expect(canonicalIp(input)).toBe(canonical);
  });

  it.each(['example.com', '1.2.3', '256.1.1.1', '[::1]', '', '1.2.3.4.5'])('%s is not an IP', (input) => {
    expect(ipBytes(input)).toBeNull();
    expect(canonicalIp(input)).toBeNull();
  });
});

describe('normalizeName', () => {
  it.each([
    ['example.com', 'example.com'],
    // ASCII names keep their case, as mitmproxy's idna codec does.
    ['Example.COM', 'Example.COM'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['münchen.example', 'xn--mnchen-3ya.example'],
    ['*.example.com', '*.example.com'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['10.0.0.1', '10.0.0.1'],
  ])('%s -> %s', (input, out) => {
    expect(normalizeName(input)).toBe(out);
  });

  it('rejects names that cannot be encoded', () => {
    expect(normalizeName('')).toBeNull();
    expect(normalizeName('bad name ü')).toBeNull();
  });
});

describe('asteriskForms', () => {
  it('lists the name and each wildcard form', () => {
    expect(asteriskForms('www.example.com')).toEqual(['www.example.com', '*.example.com', '*.com']);
    expect(asteriskForms('localhost')).toEqual(['localhost']);
  });

  it('gives IP addresses no wildcard forms', () => {
    expect(asteriskForms('10.1.2.3')).toEqual(['10.1.2.3']);
    expect(asteriskForms('::1')).toEqual(['::1']);
  });
});
