/**
 * HPACK (RFC 7541): the Appendix C examples byte for byte, Huffman coding, table eviction and
 * size updates, never-indexed literals, and the decoder's error and size limits.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { Http2ErrorCodes } from '../../src/proxy/http2/index.js';
import { HpackDecoder, type HeaderSink } from '../../src/proxy/http2/hpack/decoder.js';
import { HpackEncoder, integer } from '../../src/proxy/http2/hpack/encoder.js';
import { huffmanDecode, huffmanEncode, huffmanLength } from '../../src/proxy/http2/hpack/huffman.js';
import { isNeverIndexed } from '../../src/proxy/http2/hpack/sensitive.js';
import type { HeaderEntry } from '../../src/proxy/http2/hpack/entry.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
type Pairs = Array<[string, string]>;

class Collect implements HeaderSink {
  fields: Pairs = [];
  flags: number[] = [];
  raw: Array<[Buffer, Buffer]> = [];
  field(name: Buffer, value: Buffer, _e: HeaderEntry | null, flags: number): void {
    this.fields.push([name.toString('latin1'), value.toString('latin1')]);
    this.raw.push([name, value]);
    this.flags.push(flags);
  }
}

function decode(dec: HpackDecoder, block: Buffer): Pairs {
  const c = new Collect();
  expect(dec.decode(block, 0, block.length, c)).toBe(true);
  return c.fields;
}

function encode(enc: HpackEncoder, fields: Pairs, sensitive: string[] = []): Buffer {
  const out = { buf: Buffer.alloc(64 * 1024), pos: 0 };
  enc.beginBlock(out);
  for (const [n, v] of fields) {
    const vb = Buffer.from(v, 'latin1');
    enc.field(out, Buffer.from(n, 'latin1'), vb, 0, vb.length, sensitive.includes(n));
  }
  return out.buf.subarray(0, out.pos);
}

const tableOf = (t: { count: number; get(i: number): HeaderEntry | undefined }): Pairs =>
  Array.from({ length: t.count }, (_, i) => [t.get(i)!.name.toString('latin1'), t.get(i)!.value.toString('latin1')]);

describe('RFC 7541 C.1: integers', () => {
  const enc = (v: number, bits: number): Buffer => {
    const out = { buf: Buffer.alloc(8), pos: 0 };
    integer(out, v, bits, 0);
    return out.buf.subarray(0, out.pos);
  };
  it('encodes 10 and 1337 with a 5-bit prefix, 42 with 8 bits', () => {
    expect(enc(10, 5)).toEqual(hex('0a'));
    expect(enc(1337, 5)).toEqual(hex('1f9a0a'));
    expect(enc(42, 8)).toEqual(hex('2a'));
  });
  it('decodes a large index through a table lookup error message', () => {
    // 0xff 0x9a 0x0a: indexed field 127 + 26 + 10 * 128 = 1433, past the tables
    const dec = new HpackDecoder(4096, 65536);
    expect(() => decode(dec, hex('ff9a0a'))).toThrow(/index 1433 past the end/);
  });
});

describe('RFC 7541 C.2: single fields', () => {
  it('C.2.1 literal with indexing', () => {
    const dec = new HpackDecoder(4096, 65536);
    expect(decode(dec, hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'))).toEqual([
      ['custom-key', 'custom-header'],
    ]);
    expect(dec.table.size).toBe(55);
  });
  it('C.2.2 literal without indexing', () => {
    const dec = new HpackDecoder(4096, 65536);
    expect(decode(dec, hex('040c 2f73 616d 706c 652f 7061 7468'))).toEqual([[':path', '/sample/path']]);
    expect(dec.table.count).toBe(0);
  });
  it('C.2.3 never indexed: flagged, and the value is marked for forwarding', () => {
    const dec = new HpackDecoder(4096, 65536);
    const c = new Collect();
    const block = hex('1008 7061 7373 776f 7264 0673 6563 7265 74');
    dec.decode(block, 0, block.length, c);
    expect(c.fields).toEqual([['password', 'secret']]);
    expect(c.flags).toEqual([1]);
    expect(isNeverIndexed(c.raw[0]![1])).toBe(true);
    expect(dec.table.count).toBe(0);
  });
  it('C.2.4 indexed', () => {
    expect(decode(new HpackDecoder(4096, 65536), hex('82'))).toEqual([[':method', 'GET']]);
  });
});

const REQUESTS: Pairs[] = [
  [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
  ],
  [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
    ['cache-control', 'no-cache'],
  ],
  [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/index.html'],
    [':authority', 'www.example.com'],
    ['custom-key', 'custom-value'],
  ],
];
const C3 = [
  '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
  '8286 84be 5808 6e6f 2d63 6163 6865',
  '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
];
const C4 = [
  '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
  '8286 84be 5886 a8eb 1064 9cbf',
  '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
];
const C3_TABLES: Pairs[] = [
  [[':authority', 'www.example.com']],
  [
    ['cache-control', 'no-cache'],
    [':authority', 'www.example.com'],
  ],
  [
    ['custom-key', 'custom-value'],
    ['cache-control', 'no-cache'],
    [':authority', 'www.example.com'],
  ],
];
const C3_SIZES = [57, 110, 164];

describe('RFC 7541 C.3 / C.4: requests on one connection', () => {
  for (const [name, vectors, huffman] of [
    ['C.3 without Huffman', C3, false],
    ['C.4 with Huffman', C4, true],
  ] as const) {
    it(`${name}: decodes with the right table after each request`, () => {
      const dec = new HpackDecoder(4096, 65536);
      vectors.forEach((v, i) => {
        expect(decode(dec, hex(v))).toEqual(REQUESTS[i]);
        expect(tableOf(dec.table)).toEqual(C3_TABLES[i]);
        expect(dec.table.size).toBe(C3_SIZES[i]);
      });
    });
    it(`${name}: encodes byte for byte`, () => {
      const enc = new HpackEncoder({ huffman });
      vectors.forEach((v, i) => {
        expect(encode(enc, REQUESTS[i]!).toString('hex')).toBe(hex(v).toString('hex'));
      });
      expect(tableOf(enc.table)).toEqual(C3_TABLES[2]);
    });
  }
});

const RESPONSES: Pairs[] = [
  [
    [':status', '302'],
    ['cache-control', 'private'],
    ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
    ['location', 'https://www.example.com'],
  ],
  [
    [':status', '307'],
    ['cache-control', 'private'],
    ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
    ['location', 'https://www.example.com'],
  ],
  [
    [':status', '200'],
    ['cache-control', 'private'],
    ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
    ['location', 'https://www.example.com'],
    ['content-encoding', 'gzip'],
    ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
  ],
];
const C5 = [
  '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
  '4803 3330 37c1 c0bf',
  '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
];
const C6 = [
  '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
  '4883 640e ffc1 c0bf',
  '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
];
const C5_SIZES = [222, 222, 215];
const C5_LAST_TABLE: Pairs = [
  ['set-cookie', 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'],
  ['content-encoding', 'gzip'],
  ['date', 'Mon, 21 Oct 2013 20:13:22 GMT'],
];

describe('RFC 7541 C.5 / C.6: responses with a 256-byte table (evictions)', () => {
  for (const [name, vectors] of [
    ['C.5 without Huffman', C5],
    ['C.6 with Huffman', C6],
  ] as const) {
    it(`${name}: decodes, evicting the oldest entries`, () => {
      const dec = new HpackDecoder(256, 65536);
      dec.table.resize(256);
      vectors.forEach((v, i) => {
        expect(decode(dec, hex(v))).toEqual(RESPONSES[i]);
        expect(dec.table.size).toBe(C5_SIZES[i]);
      });
      expect(tableOf(dec.table)).toEqual(C5_LAST_TABLE);
    });
  }
  it('our encoder with a 256-byte table round-trips them through our decoder and keeps both tables equal', () => {
    const enc = new HpackEncoder({ maxTableSize: 256 });
    const dec = new HpackDecoder(4096, 65536);
    for (const r of RESPONSES) {
      expect(decode(dec, encode(enc, r))).toEqual(r);
      expect(tableOf(dec.table)).toEqual(tableOf(enc.table));
    }
    expect(enc.table.size).toBeLessThanOrEqual(256);
  });
});

describe('Huffman', () => {
  it('encodes www.example.com as in C.4.1 and decodes it back', () => {
    const src = Buffer.from('www.example.com');
    const dst = Buffer.alloc(32);
    const n = huffmanEncode(src, 0, src.length, dst, 0);
    expect(dst.subarray(0, n)).toEqual(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'));
    expect(huffmanLength(src, 0, src.length)).toBe(n);
    const back = Buffer.alloc(64);
    expect(back.subarray(0, huffmanDecode(dst, 0, n, back, 0)).toString()).toBe('www.example.com');
  });
  it('round-trips every byte value, including the 30-bit codes', () => {
    const src = Buffer.from(Array.from({ length: 256 * 3 }, (_, i) => (i * 7) % 256));
    const dst = Buffer.alloc(src.length * 4);
    const n = huffmanEncode(src, 0, src.length, dst, 0);
    expect(n).toBe(huffmanLength(src, 0, src.length));
    const back = Buffer.alloc(src.length * 2);
    const m = huffmanDecode(dst, 0, n, back, 0);
    expect(back.subarray(0, m)).toEqual(src);
  });
  it('rejects an encoded EOS, padding over 7 bits, and padding that is not all ones', () => {
    const back = Buffer.alloc(16);
    expect(huffmanDecode(hex('ffffffff'), 0, 4, back, 0)).toBe(-1); // EOS (30 ones) inside
    expect(huffmanDecode(hex('1fff'), 0, 2, back, 0)).toBe(-1); // 'a' (00011) + 11 ones of padding
    expect(huffmanDecode(hex('18'), 0, 1, back, 0)).toBe(-1); // 'a' + padding 000
    expect(huffmanDecode(hex('1f'), 0, 1, back, 0)).toBe(1); // 'a' + padding 111
  });
});

describe('encoder', () => {
  const rt = (enc: HpackEncoder, dec: HpackDecoder, f: Pairs, sensitive: string[] = []): Collect => {
    const block = encode(enc, f, sensitive);
    const c = new Collect();
    dec.decode(block, 0, block.length, c);
    return c;
  };
  it('sends a repeated field as one index byte', () => {
    const enc = new HpackEncoder();
    const f: Pairs = [
      ['user-agent', 'h2load nghttp2/1.52.0'],
      ['x-custom', 'value'],
    ];
    encode(enc, f);
    expect(encode(enc, f)).toHaveLength(2);
  });
  it('lower-cases names it sends', () => {
    const c = rt(new HpackEncoder(), new HpackDecoder(4096, 65536), [
      ['Content-Type', 'text/html'],
      ['X-Thing', 'A'],
    ]);
    expect(c.fields).toEqual([
      ['content-type', 'text/html'],
      ['x-thing', 'A'],
    ]);
  });
  it('keeps authorization, short cookies, forced and forwarded never-indexed values out of the table', () => {
    const enc = new HpackEncoder();
    const dec = new HpackDecoder(4096, 65536);
    const c = rt(
      enc,
      dec,
      [
        ['authorization', 'Basic abc'],
        ['cookie', 'a=1'],
        ['x-secret', 's3'],
        ['x-plain', 'p'],
      ],
      ['x-secret'],
    );
    expect(c.flags).toEqual([1, 1, 1, 0]);
    expect(tableOf(enc.table)).toEqual([['x-plain', 'p']]);
    // a value received never-indexed and forwarded unchanged (same Buffer) stays never-indexed
    const received = c.raw[2]![1];
    const out = { buf: Buffer.alloc(256), pos: 0 };
    const enc2 = new HpackEncoder();
    enc2.field(out, Buffer.from('x-secret'), received, 0, received.length, false);
    const c2 = new Collect();
    new HpackDecoder(4096, 65536).decode(out.buf, 0, out.pos, c2);
    expect(c2.flags).toEqual([1]);
  });
  it('announces a smaller table size at the start of the next block, and the decoder follows', () => {
    const enc = new HpackEncoder();
    const dec = new HpackDecoder(4096, 65536);
    rt(enc, dec, [
      ['x-a', '1'],
      ['x-b', '2'],
    ]);
    enc.setPeerTableSize(0);
    enc.setPeerTableSize(100);
    const block = encode(enc, [['x-c', '3']]);
    expect(block[0]).toBe(0x20); // size update to 0 first (the minimum), then to 100
    const c = new Collect();
    dec.decode(block, 0, block.length, c);
    expect(c.fields).toEqual([['x-c', '3']]);
    expect(dec.table.maxSize).toBe(100);
    expect(tableOf(dec.table)).toEqual(tableOf(enc.table));
  });
  it('keeps both tables in step over many random blocks with evictions', () => {
    const enc = new HpackEncoder({ maxTableSize: 512 });
    const dec = new HpackDecoder(4096, 1 << 20);
    let seed = 7;
    const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let round = 0; round < 300; round++) {
      const f: Pairs = [];
      for (let i = 0; i < 1 + rnd(12); i++) f.push([`x-h${rnd(20)}`, 'v'.repeat(rnd(40)) + rnd(5)]);
      expect(rt(enc, dec, f).fields).toEqual(f);
      expect(tableOf(dec.table)).toEqual(tableOf(enc.table));
    }
  });
});

describe('decoder errors and limits', () => {
  const err = (block: string, maxTable = 4096): unknown => {
    try {
      decode(new HpackDecoder(maxTable, 65536), hex(block));
    } catch (e) {
      return e;
    }
    return null;
  };
  it.each([
    ['index 0', '80', /index 0/],
    ['an index past both tables', 'be', /index 62 past the end/],
    ['a truncated string', '400a 6375', /string literal of 10 bytes/],
    ['a size update after a field', '82 20', /after the first field/],
    ['a size update over our setting', '3fe21f', /over our SETTINGS_HEADER_TABLE_SIZE/],
    ['an integer that never ends', 'ffffffffffffff', /integer over 2\^28|truncated integer/],
    ['bad Huffman', '4081ff 0161', /Huffman/],
  ])('rejects %s as a COMPRESSION_ERROR', (_what, block, msg) => {
    const e = err(block) as { code: string; errorCode: number; message: string };
    expect(e).not.toBeNull();
    expect(e.code).toBe(Http2ErrorCodes.COMPRESSION);
    expect(e.errorCode).toBe(0x9);
    expect(e.message).toMatch(msg);
  });
  it('accepts a size update to 0 and then nothing indexed survives', () => {
    const dec = new HpackDecoder(4096, 65536);
    decode(dec, hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
    expect(decode(dec, hex('20'))).toEqual([]);
    expect(dec.table.count).toBe(0);
  });
  it('HPACK bomb: stops handing out fields past the list size but keeps decoding for the table', () => {
    // one 4000-byte entry, then 1000 references to it: 4 MB decoded from ~1 KB
    const big = Buffer.concat([hex('40 05'), Buffer.from('x-big'), hex('7fa11e'), Buffer.alloc(4000, 0x61)]);
    const refs = Buffer.alloc(1000, 0xbe); // index 62: the newest dynamic entry
    const dec = new HpackDecoder(4096, 65536);
    const c = new Collect();
    expect(dec.decode(Buffer.concat([big, refs, hex('4003 782d 7901 31')]), 0, big.length + 1000 + 7, c)).toBe(false);
    expect(c.fields.length).toBe(16); // 16 x 4037 bytes fit in 65536
    // the literal after the limit was still added to the table
    expect(dec.table.get(0)!.name.toString()).toBe('x-y');
  });
});
