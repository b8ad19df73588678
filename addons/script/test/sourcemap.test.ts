import { describe, expect, it } from 'vitest';
import { decodeMappings, encodeVlq, SourceMapLookup } from '../src/sourcemap.js';

function seg(...fields: number[]): string {
  return fields.map(encodeVlq).join('');
}

describe('source maps', () => {
  it.each([0, 1, -1, 15, 16, -16, 31, 32, 1000, -1000, 123456789])('VLQ round-trips %i', (n) => {
    const [line] = decodeMappings(seg(n, 0, 0, 0));
    expect(line![0]![0]).toBe(n);
  });

  it('decodes relative fields across segments and lines', () => {
    // line 1: col 0 -> src 0 line 0 col 0; col 4 -> src 0 line 1 col 2. line 2: col 2 -> src 1 line 5 col 0
    const mappings = `${seg(0, 0, 0, 0)},${seg(4, 0, 1, 2)};${seg(2, 1, 4, -2)}`;
    expect(decodeMappings(mappings)).toEqual([
      [
        [0, 0, 0, 0],
        [4, 0, 1, 2],
      ],
      [[2, 1, 5, 0]],
    ]);
  });

  it('keeps empty lines and drops segments without a source', () => {
    expect(decodeMappings(`;;${seg(3)},${seg(1, 0, 2, 1)};`)).toEqual([[], [], [[4, 0, 2, 1]], []]);
  });

  it.each(['A!', 'g'])('rejects malformed mappings %j', (m) => {
    expect(() => decodeMappings(m)).toThrow(/Malformed source map/);
  });

  it('looks up the closest segment at or left of a column', () => {
    const map = new SourceMapLookup(
      { version: 3, sources: ['a.ts', 'lib/b.ts'], mappings: `${seg(0, 0, 0, 0)},${seg(10, 1, 9, 4)}` },
      (s) => `/src/${s}`,
    );
    expect(map.originalPosition(1, 1)).toEqual({ source: '/src/a.ts', line: 1, column: 1 });
    expect(map.originalPosition(1, 10)).toEqual({ source: '/src/a.ts', line: 1, column: 1 });
    expect(map.originalPosition(1, 11)).toEqual({ source: '/src/lib/b.ts', line: 10, column: 5 });
    expect(map.originalPosition(1, 99)).toEqual({ source: '/src/lib/b.ts', line: 10, column: 5 });
    expect(map.originalPosition(2, 1)).toBeNull();
  });
});
