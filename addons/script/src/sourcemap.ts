/**
 * A source map reader for stack traces: decodes the `mappings` of a v3 source map (base64 VLQ)
 * into per-line segment arrays on first use, and answers "which original position is this
 * generated position?". Pure; no I/O.
 */

/** An original position: absolute source path, 1-based line and column (as stack traces print them). */
export interface OriginalPosition {
  readonly source: string;
  readonly line: number;
  readonly column: number;
}

/** The fields of a v3 source map this reader uses. */
export interface RawSourceMap {
  readonly version: number;
  readonly sources: readonly string[];
  readonly mappings: string;
  readonly sourceRoot?: string;
}

// One segment: generated column, source index, original line, original column (all 0-based).
type Segment = readonly [number, number, number, number];

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64.length; i++) DIGIT[BASE64.charCodeAt(i)] = i;

/**
 * Decode a `mappings` string into one array of segments per generated line. Segments with fewer
 * than four fields (no source) are dropped. Throws on malformed input.
 */
export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let line: Segment[] = [];
  let genCol = 0;
  let src = 0;
  let srcLine = 0;
  let srcCol = 0;
  const fields = [0, 0, 0, 0, 0];
  let i = 0;
  const n = mappings.length;
  while (i <= n) {
    const c = i < n ? mappings.charCodeAt(i) : 59; // a virtual ';' ends the last line
    if (c === 59 /* ; */) {
      lines.push(line);
      line = [];
      genCol = 0;
      i++;
      if (i > n) break;
      continue;
    }
    if (c === 44 /* , */) {
      i++;
      continue;
    }
    let count = 0;
    while (i < n) {
      const d = mappings.charCodeAt(i);
      if (d === 44 || d === 59) break;
      let value = 0;
      let shift = 0;
      let digit: number;
      do {
        if (i >= n) throw new Error('Malformed source map: a VLQ value ends early.');
        const ch = mappings.charCodeAt(i++);
        digit = ch < 128 ? DIGIT[ch]! : -1;
        if (digit < 0)
          throw new Error(`Malformed source map: ${JSON.stringify(String.fromCharCode(ch))} is not base64.`);
        value += (digit & 31) * 2 ** shift;
        shift += 5;
      } while (digit & 32);
      if (count < 5) fields[count] = value & 1 ? -Math.floor(value / 2) : Math.floor(value / 2);
      count++;
    }
    genCol += fields[0]!;
    if (count >= 4) {
      src += fields[1]!;
      srcLine += fields[2]!;
      srcCol += fields[3]!;
      line.push([genCol, src, srcLine, srcCol]);
    }
  }
  return lines;
}

/** Encode one signed integer as base64 VLQ (for tests and for building maps by hand). */
export function encodeVlq(value: number): string {
  let v = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += BASE64[digit];
  } while (v > 0);
  return out;
}

/** A source map ready for lookups; decoding happens on the first lookup only. */
export class SourceMapLookup {
  private lines: Segment[][] | null = null;
  private readonly sources: readonly string[];

  /**
   * @param map the raw map
   * @param resolveSource turns a `sources` entry into the path stack traces should show
   */
  constructor(
    private readonly map: RawSourceMap,
    resolveSource: (source: string) => string,
  ) {
    const root = map.sourceRoot ?? '';
    this.sources = map.sources.map((s) => resolveSource(root + s));
  }

  /** The original position of a generated 1-based line and column, or null when unmapped. */
  originalPosition(line: number, column: number): OriginalPosition | null {
    this.lines ??= decodeMappings(this.map.mappings);
    const segments = this.lines[line - 1];
    if (!segments || segments.length === 0) return null;
    const col = column - 1;
    let lo = 0;
    let hi = segments.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segments[mid]![0] <= col) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // A position left of the line's first mapping still belongs to that line's first segment.
    const s = segments[best < 0 ? 0 : best]!;
    const source = this.sources[s[1]];
    if (source === undefined) return null;
    return { source, line: s[2] + 1, column: s[3] + 1 };
  }
}
