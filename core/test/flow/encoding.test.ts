import zlib from 'node:zlib';
import zstd from 'zstd-napi';
import { describe, expect, it } from 'vitest';
import { encoding, ContentEncodingError, isSupportedEncoding } from '../../src/flow/index.js';

const data = Buffer.from('hello hello hello hello mitmts '.repeat(20));

describe('content encodings', () => {
  it.each(['gzip', 'deflate', 'br', 'zstd', 'identity', 'none', 'deflateraw', 'GZIP', 'Br'])('%s round-trips', (e) => {
    const enc = encoding.encode(data, e);
    if (!['identity', 'none'].includes(e.toLowerCase())) expect(enc.length).toBeLessThan(data.length);
    expect(encoding.decode(enc, e)).toEqual(data);
  });

  it('decodes what other implementations produce', () => {
    expect(encoding.decode(zlib.gzipSync(data), 'gzip')).toEqual(data);
    expect(encoding.decode(zlib.deflateSync(data), 'deflate')).toEqual(data);
    // Raw DEFLATE without zlib header: accepted for "deflate" as mitmproxy does.
    expect(encoding.decode(zlib.deflateRawSync(data), 'deflate')).toEqual(data);
    expect(encoding.decode(zlib.brotliCompressSync(data), 'br')).toEqual(data);
    expect(encoding.decode(zstd.compress(data), 'zstd')).toEqual(data);
    // Two concatenated gzip members decode to the concatenation.
    expect(
      encoding
        .decode(Buffer.concat([zlib.gzipSync(Buffer.from('a')), zlib.gzipSync(Buffer.from('b'))]), 'gzip')
        .toString(),
    ).toBe('ab');
  });

  it('decodes streamed zstd frames without a content size', async () => {
    const stream = new zstd.CompressStream();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((r) => stream.on('end', r));
    stream.write(data);
    stream.end();
    await done;
    expect(encoding.decode(Buffer.concat(chunks), 'zstd')).toEqual(data);
  });

  it('empty bodies decode to empty for every compressed encoding', () => {
    for (const e of ['gzip', 'deflate', 'br', 'zstd']) expect(encoding.decode(Buffer.alloc(0), e).length).toBe(0);
  });

  it('rejects unknown encodings and corrupt data with ContentEncodingError', () => {
    expect(() => encoding.decode(data, 'x-unknown')).toThrow(ContentEncodingError);
    expect(() => encoding.encode(data, 'x-unknown')).toThrow(/Unknown content encoding 'x-unknown'/);
    expect(() => encoding.decode(Buffer.from('not gzip'), 'gzip')).toThrow(
      /Cannot decode 8 bytes with content encoding 'gzip'/,
    );
    expect(() => encoding.decode(Buffer.from('garbage'), 'zstd')).toThrow(ContentEncodingError);
    expect(() => encoding.decode(data, 'toString')).toThrow(ContentEncodingError);
    expect(isSupportedEncoding('zstd')).toBe(true);
    expect(isSupportedEncoding('compress')).toBe(false);
  });
});
