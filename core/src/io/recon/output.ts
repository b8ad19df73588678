/**
 * The output of `mitmts flows`: one JSON object per line, each line bounded (`--max-line`,
 * values shrunk with the cuts marked), and the whole output bounded (`--budget`): once the next
 * line would not fit, printing stops and a last line says how much was left out.
 */
import { LEVELS, shrink, type JsonObject } from './json.js';

export interface OutputLimits {
  /** Longest line in bytes (without the newline); 0 for no bound. */
  readonly maxLine: number;
  /** Total bytes of output, the final marker line included; Infinity for no bound. */
  readonly budget: number;
}

/** Smallest `--max-line` accepted: room for a few shrunk fields and the cut marker. */
export const MIN_MAX_LINE = 256;
/** The key a line gets when it was shrunk to fit `--max-line`. */
export const CUT_KEY = '_cut';

/**
 * Lines to a stream, gathered into writes of about 64 KiB (one system call per line costs more
 * than producing the line). `flush` waits when the stream asks for it; false once the reader
 * went away (e.g. `| head`).
 */
class LineWriter {
  private pending: string[] = [];
  private size = 0;
  private closed = false;

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', () => (this.closed = true));
  }

  /** Queue a line; flushes when enough is queued. */
  add(line: string): Promise<boolean> | boolean {
    if (this.closed) return false;
    this.pending.push(line);
    this.size += line.length;
    return this.size >= 1 << 16 ? this.flush() : true;
  }

  async flush(): Promise<boolean> {
    if (this.closed) return false;
    if (this.pending.length === 0) return true;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    this.size = 0;
    if (this.out.write(text)) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.out.off('drain', done);
        this.out.off('error', fail);
        this.out.off('close', fail);
        resolve();
      };
      const fail = (): void => {
        this.closed = true;
        done();
      };
      this.out.on('drain', done);
      this.out.on('error', fail);
      this.out.on('close', fail);
    });
    return !this.closed;
  }
}

/**
 * A line within `maxLine` bytes: as is when it fits; else the biggest field is shrunk a level
 * at a time (see {@link LEVELS}) until the line fits, so small fields stay whole, and `_cut` is
 * added; as a last resort only the leading fields that fit are kept.
 */
export function boundedLine(obj: JsonObject, maxLine: number): string {
  const whole = JSON.stringify(obj);
  if (maxLine <= 0 || Buffer.byteLength(whole) <= maxLine) return whole;
  const marker = `"${CUT_KEY}":"line shortened to --max-line ${maxLine}"`;
  const keys = Object.keys(obj);
  const level = keys.map(() => 0);
  const text = keys.map((k) => JSON.stringify(k) + ':' + JSON.stringify(obj[k]));
  const size = text.map((t) => Buffer.byteLength(t));
  // Braces, commas and the marker.
  const frame = 2 + keys.length + Buffer.byteLength(marker);
  let total = frame + size.reduce((a, b) => a + b, 0);
  while (total > maxLine) {
    let i = -1;
    for (let j = 0; j < keys.length; j++) if (level[j]! < LEVELS.length - 1 && (i < 0 || size[j]! > size[i]!)) i = j;
    if (i < 0) break;
    level[i]!++;
    const t = JSON.stringify(keys[i]) + ':' + JSON.stringify(shrink(obj[keys[i]!], LEVELS[level[i]!]!));
    total += Buffer.byteLength(t) - size[i]!;
    text[i] = t;
    size[i] = Buffer.byteLength(t);
  }
  const kept: string[] = [];
  let used = frame - keys.length;
  for (let j = 0; j < keys.length; j++) {
    if (used + size[j]! + 1 > maxLine) break;
    kept.push(text[j]!);
    used += size[j]! + 1;
  }
  return `{${[...kept, marker].join(',')}}`;
}

/** Bounded NDJSON output of records (flows, groups, summaries). */
export class RecordOutput {
  private readonly lines: LineWriter;
  private used = 0;
  private printed = 0;
  private leftOut = 0;
  /** True once the budget stopped printing. */
  exhausted = false;

  constructor(
    out: NodeJS.WritableStream,
    private readonly limits: OutputLimits,
    /** What a record is, for the marker (`flows`, `endpoints`). */
    private readonly unit: string,
  ) {
    this.lines = new LineWriter(out);
  }

  /**
   * Print one record, or count it as left out once the budget is spent. Resolves to false when
   * the reader went away (e.g. `| head`): stop reading.
   */
  record(obj: JsonObject): Promise<boolean> | boolean {
    if (this.exhausted) {
      this.leftOut++;
      return true;
    }
    const line = boundedLine(obj, this.limits.maxLine);
    const bytes = Buffer.byteLength(line) + 1;
    if (this.used + bytes > this.limits.budget - this.markerRoom) {
      this.exhausted = true;
      this.leftOut++;
      return true;
    }
    this.used += bytes;
    this.printed++;
    return this.lines.add(line);
  }

  /** Count a record that was not even rendered because the budget is spent. */
  skip(): void {
    this.leftOut++;
  }

  /** Bytes kept free for the marker: its length with the largest numbers it can hold. */
  private get markerRoom(): number {
    return Number.isFinite(this.limits.budget) ? Buffer.byteLength(this.marker(1e15, 1e15, 1e15)) + 1 : 0;
  }

  private marker(used: number, printed: number, leftOut: number): string {
    return JSON.stringify({
      _truncated: {
        reason: 'output budget reached',
        budget_bytes: this.limits.budget,
        printed_bytes: used,
        printed,
        left_out: leftOut,
        unit: this.unit,
        hint: 'raise --budget, narrow the filter, or use --group endpoint',
      },
    });
  }

  /** After the last record: the budget marker, when something was left out. */
  async finish(): Promise<void> {
    if (this.exhausted) this.lines.add(this.marker(this.used, this.printed, this.leftOut));
    await this.lines.flush();
  }
}
