/** The DNS wire codec: messages with compression, errors, TCP framing, SVCB/HTTPS parameters (RFC 9460 appendix D vectors). */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  DNSClass,
  DNSMessage,
  DNSQuestion,
  DNSResourceRecord,
  DNSType,
  packDomainName,
  unpackDomainName,
} from '../../src/flow/index.js';
import {
  DnsWireError,
  DnsWireErrorCodes as C,
  SvcParamKey,
  TcpMessageReader,
  addressHint,
  editSvcbRecord,
  formatSvcb,
  frameTcp,
  packMessage,
  packSvcb,
  parseSvcb,
  stripEch,
  stripHttp3,
  svcbAlpn,
  unpackMessage,
} from '../../src/proxy/dns/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const name = (n: string) => packDomainName(n).toString('hex');

function thrown(fn: () => unknown): DnsWireError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DnsWireError);
    return e as DnsWireError;
  }
  throw new Error('no error thrown');
}

/** A response as resolvers send it: every later name compressed against the question (offset 12). */
const RESPONSE = hex(
  [
    '1234 8180 0001 0004 0000 0000', // id, QR RD RA, 1 question, 4 answers
    name('www.example.com') + '0001 0001', // question www.example.com A IN (at 12)
    'c00c 0005 0001 00000e10 0006 03636476c010', // www CNAME cdv.(example.com at 16)
    'c02d 0001 0001 0000003c 0004 5db8d822', // cdv.example.com (the CNAME target, at 45) A 93.184.216.34
    'c010 000f 0001 00000e10 0009 000a 046d61696cc010', // example.com MX 10 mail.example.com
    'c010 0006 0001 00000e10 0026 026e73c010 0a686f73746d6173746572c010 0000000100001c2000000e1000093a800000012c', // SOA ns.example.com hostmaster.example.com + 20 bytes
  ].join(''),
);

describe('unpackMessage / packMessage', () => {
  it('reads a compressed response and makes each record data stand alone', () => {
    const m = unpackMessage(RESPONSE, 5);
    expect([m.id, m.query, m.recursionDesired, m.recursionAvailable, m.responseCode, m.timestamp]).toEqual([
      0x1234,
      false,
      true,
      true,
      0,
      5,
    ]);
    expect(m.questions).toEqual([new DNSQuestion('www.example.com', DNSType.A, DNSClass.IN)]);
    expect(m.answers.map((r) => [r.name, r.type, r.ttl, String(r)])).toEqual([
      ['www.example.com', DNSType.CNAME, 3600, 'cdv.example.com'],
      ['cdv.example.com', DNSType.A, 60, '93.184.216.34'],
      ['example.com', DNSType.MX, 3600, `0x${'000a' + name('mail.example.com')}`],
      [
        'example.com',
        DNSType.SOA,
        3600,
        `0x${name('ns.example.com') + name('hostmaster.example.com') + '0000000100001c2000000e1000093a800000012c'}`,
      ],
    ]);
    expect(unpackDomainName(m.answers[0]!.data)).toBe('cdv.example.com');
  });

  it('writes uncompressed messages that read back equal, with every flag', () => {
    const m = unpackMessage(RESPONSE, 5);
    const again = unpackMessage(packMessage(m), 5);
    expect(again.getState()).toEqual(m.getState());
    const q = new DNSMessage({
      id: 7,
      query: true,
      opCode: 2,
      authoritativeAnswer: true,
      truncation: true,
      recursionDesired: true,
      reserved: 5,
      responseCode: 3,
      questions: [new DNSQuestion('a.b', 65, 1)],
      timestamp: null,
    });
    const wire = packMessage(q);
    expect(wire.subarray(0, 4)).toEqual(hex('0007 1753'));
    expect(unpackMessage(wire, null).getState()).toEqual(q.getState());
  });

  it('refuses fields that do not fit', () => {
    expect(thrown(() => packMessage(new DNSMessage({ id: 70000, query: true }))).message).toBe(
      "DNS message's id 70000 is out of range (0-65535).",
    );
    expect(thrown(() => packMessage(new DNSMessage({ id: 1, query: true, opCode: 16 }))).code).toBe(C.OUT_OF_RANGE);
  });

  it.each([
    ['a short header', '1234 0100 0001', C.TRUNCATED, /the header needs 12 bytes at byte 0, the message has 6/],
    [
      'a question cut short',
      '1234 0100 0001 0000 0000 0000 03777777',
      C.TRUNCATED,
      /^DNS question #0: .*runs past the end/,
    ],
    [
      'a forward pointer',
      '1234 0100 0001 0000 0000 0000 c00c 0001 0001',
      C.BAD_NAME,
      /^DNS question #0: .*compression pointer to byte 12 that does not point backwards/,
    ],
    ['a label of type 0x40', '1234 0100 0001 0000 0000 0000 41 00 0001 0001', C.BAD_NAME, /label of unknown type 0x40/],
    [
      'record data cut short',
      '1234 8100 0000 0001 0000 0000 00 0001 0001 00000000 0004 7f00',
      C.TRUNCATED,
      /^DNS answer #0: the record data \(4 bytes\) needs 4 bytes/,
    ],
    [
      'trailing bytes',
      '1234 8100 0000 0000 0000 0000 ff',
      C.TRAILING_DATA,
      /1 bytes after the last record \(at byte 12\)/,
    ],
    [
      'a CNAME whose name runs past its data',
      '1234 8100 0000 0001 0000 0000 00 0005 0001 00000000 0002 0161 00',
      C.BAD_NAME,
      /^DNS answer #0: a name in the record data at byte 23 runs past the record/,
    ],
  ])('refuses %s', (_what, bytes, code, message) => {
    const e = thrown(() => unpackMessage(hex(bytes)));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('refuses names over 255 bytes, and pointer loops', () => {
    const long = Array.from({ length: 5 }, () => '3f' + '61'.repeat(63)).join('') + '00';
    expect(thrown(() => unpackMessage(hex('1234 0100 0001 0000 0000 0000' + long + '0001 0001'))).message).toMatch(
      /longer than 255 bytes/,
    );
    // "a" then a pointer back to itself: must not loop
    expect(thrown(() => unpackMessage(hex('1234 0100 0001 0000 0000 0000 0161 c00c 0001 0001'))).message).toMatch(
      /does not point backwards/,
    );
  });
});

describe('DNS over TCP', () => {
  it('frames and splits messages in any chunking', () => {
    const a = packMessage(new DNSMessage({ id: 1, query: true, questions: [new DNSQuestion('a.test', 1, 1)] }));
    const b = RESPONSE;
    const stream = Buffer.concat([frameTcp(a), frameTcp(b)]);
    expect(stream.readUInt16BE(0)).toBe(a.length);
    const r = new TcpMessageReader();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 5) got.push(...r.push(stream.subarray(i, i + 5)));
    expect(got).toEqual([a, b]);
    expect(r.bufferedBytes).toBe(0);
  });
});

const FOO_COM = name('foo.example.com');
const FOO_ORG = name('foo.example.org');

describe('SVCB/HTTPS: RFC 9460 appendix D', () => {
  it.each([
    ['D.1 AliasMode', `0000 ${FOO_COM}`, '0 foo.example.com.'],
    ['D.2 fig. 2, ServiceMode with the owner as target', '0001 00', '1 .'],
    ['D.2 fig. 3, port', `0010 ${FOO_COM} 0003 0002 0035`, '16 foo.example.com. port=53'],
    ['D.2 fig. 4, an unknown key', `0001 ${FOO_COM} 029b 0005 68656c6c6f`, '1 foo.example.com. key667=68656c6c6f'],
    [
      'D.2 fig. 6, ipv6hint',
      `0001 ${FOO_COM} 0006 0020 20010db8000000000000000000000001 20010db8000000000000000000530001`,
      '1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1',
    ],
    [
      'D.2 fig. 8, alpn, mandatory, ipv4hint',
      `0010 ${FOO_ORG} 0000 0004 0001 0004 0001 0009 02 6832 05 68332d3139 0004 0004 c0000201`,
      '16 foo.example.org. mandatory=alpn,ipv4hint alpn=h2,h3-19 ipv4hint=192.0.2.1',
    ],
  ])('%s', (_what, bytes, text) => {
    const d = parseSvcb(hex(bytes));
    expect(formatSvcb(d)).toBe(text);
    expect(packSvcb(d)).toEqual(hex(bytes));
  });

  it('reads alpn ids with escaped characters (fig. 9) as raw bytes', () => {
    expect(svcbAlpn(parseSvcb(hex(`0010 ${FOO_ORG} 0001 000c 08 665c6f6f2c626172 02 6832`)))).toEqual([
      'f\\oo,bar',
      'h2',
    ]);
  });

  it.each([
    ['keys out of order', `0001 00 0003 0002 0035 0001 0003 026832`, /keys must be in strictly increasing order/],
    ['a repeated key', `0001 00 0003 0002 0035 0003 0002 0035`, /strictly increasing order/],
    ['a value past the end', `0001 00 0003 0009 0035`, /the value of port runs past the data/],
    ['a port of 3 bytes', `0001 00 0003 0003 003500`, /port must be 2 bytes \(3 bytes\)/],
    ['no-default-alpn with a value', `0001 00 0002 0001 00`, /no-default-alpn takes no value/],
    ['an empty alpn id', `0001 00 0001 0001 00`, /alpn has an empty protocol id/],
    ['ipv4hint of 5 bytes', `0001 00 0004 0005 0102030405`, /ipv4hint must list 4-byte addresses/],
    ['mandatory listing itself', `0001 00 0000 0002 0000`, /mandatory lists itself/],
    [
      'mandatory listing an absent key',
      `0001 00 0000 0002 0003`,
      /mandatory lists port, which the record does not have/,
    ],
    [
      'mandatory keys out of order',
      `0001 00 0000 0004 0003 0001 0001 0003 026832 0003 0002 0035`,
      /keys in mandatory must be in strictly increasing order/,
    ],
    ['a compressed target name', `0001 c00c`, /does not point backwards/],
  ])('refuses %s', (_what, bytes, message) => {
    expect(thrown(() => parseSvcb(hex(bytes))).message).toMatch(message);
  });
});

describe('SVCB/HTTPS: stripping HTTP/3 and ECH', () => {
  const alpn = (...ids: string[]) =>
    Buffer.concat(ids.map((i) => Buffer.concat([Buffer.from([i.length]), Buffer.from(i)])));

  it('removes h3 and its drafts from alpn and keeps the rest', () => {
    const d = {
      priority: 1,
      targetName: '',
      params: [
        [SvcParamKey.ALPN, alpn('h3', 'h3-29', 'h2')],
        [SvcParamKey.IPV4HINT, addressHint(['104.16.132.229'])],
      ] as Array<[number, Buffer]>,
    };
    expect(formatSvcb(stripHttp3(d)!)).toBe('1 . alpn=h2 ipv4hint=104.16.132.229');
    expect(stripHttp3({ ...d, params: [[SvcParamKey.ALPN, alpn('h2', 'http/1.1')]] })).toBeNull();
    expect(stripHttp3({ ...d, params: [] })).toBeNull();
  });

  it('drops alpn, no-default-alpn and their mandatory entries when only h3 was offered', () => {
    const d = parseSvcb(
      packSvcb({
        priority: 1,
        targetName: 'h3only.example',
        params: [
          [SvcParamKey.MANDATORY, hex('0001 0003')],
          [SvcParamKey.ALPN, alpn('h3')],
          [SvcParamKey.NO_DEFAULT_ALPN, Buffer.alloc(0)],
          [SvcParamKey.PORT, hex('01bb')],
        ],
      }),
    );
    const s = stripHttp3(d)!;
    expect(formatSvcb(s)).toBe('1 h3only.example. mandatory=port port=443');
    expect(() => parseSvcb(packSvcb(s))).not.toThrow();
  });

  it('removes ech', () => {
    const d = {
      priority: 1,
      targetName: '',
      params: [
        [SvcParamKey.ALPN, alpn('h2')],
        [SvcParamKey.ECH, hex('0045fe0d')],
      ] as Array<[number, Buffer]>,
    };
    expect(formatSvcb(stripEch(d)!)).toBe('1 . alpn=h2');
    expect(stripEch(stripEch(d)!)).toBeNull();
  });

  it('edits HTTPS records of a response in place and leaves other records alone', () => {
    const https = new DNSResourceRecord(
      'example.com',
      DNSType.HTTPS,
      DNSClass.IN,
      300,
      packSvcb({ priority: 1, targetName: '', params: [[SvcParamKey.ALPN, alpn('h3', 'h2')]] }),
    );
    const a = DNSResourceRecord.A('example.com', '93.184.216.34');
    const wire = packMessage(
      new DNSMessage({
        id: 9,
        query: false,
        questions: [new DNSQuestion('example.com', DNSType.HTTPS, 1)],
        answers: [https, a],
      }),
    );
    const m = unpackMessage(wire);
    expect(m.answers.map((r) => editSvcbRecord(r, stripHttp3))).toEqual([true, false]);
    expect(svcbAlpn(parseSvcb(unpackMessage(packMessage(m)).answers[0]!.data))).toEqual(['h2']);
    expect(editSvcbRecord(m.answers[0]!, stripHttp3)).toBe(false);
  });
});
