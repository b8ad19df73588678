/**
 * The output of `mitmts flows`: one JSON object per line, each line bounded (`--max-line`,
 * values shrunk with the cuts marked), and the whole output bounded (`--budget`): once the next
 * line would not fit, printing stops and a last line says how much was left out.
 */
import { fitJson, shrink, type JsonObject } from './json.js';

export interface OutputLimits {
  /** Longest line in bytes (without the newline); 0 for no bound. */
  readonly maxLine: number;
  /** Total bytes of output, the final marker line included; Infinity for no bound. */
  readonly budget: number;
}

/** Smallest `--max-line` accepted: room for a few shrunk fields and the cut marker. */
export const MIN_MAX_LINE = 256;
/** Bytes kept free for the budget marker line. */
const MARKER_ROOM = 200;
/** The key a line gets when it was shrunk to fit `--max-line`. */
export const CUT_KEY = '_cut';

/** Write a line, waiting when the stream asks for it; false once the reader went away. */
function lineWriter(out: NodeJS.WritableStream): (line: string) => Promise<boolean> {
  let closed = false;
  out.on('error', () => (closed = true));
  return async (line) => {
    if (closed) return false;
    if (out.write(line + '\n')) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        out.off('drain', done);
        out.off('error', fail);
        out.off('close', fail);
        resolve();
      };
      const fail = (): void => {
        closed = true;
        done();
      };
      out.on('drain', done);
      out.on('error', fail);
      out.on('close', fail);
    });
    return !closed;
  };
}

/**
 * A line within `maxLine` bytes: as is when it fits; else every value shrunk (the fields
 * themselves are kept) and `_cut` added; as a last resort only the first fields that fit.
 */
export function boundedLine(obj: JsonObject, maxLine: number): string {
  const whole = JSON.stringify(obj);
  if (maxLine <= 0 || Buffer.byteLength(whole) <= maxLine) return whole;
  const marker = `,"${CUT_KEY}":"line shortened to --max-line ${maxLine}"}`;
  const room = maxLine - Buffer.byteLength(marker) + 1;
  const fit = fitJson(obj, room, 1);
  if (fit !== undefined) return fit.text.slice(0, -1) + (fit.text === '{}' ? marker.slice(1) : marker);
  // Too many fields even when tiny: keep the leading ones.
  const tiny = shrink(obj, { str: 8, items: 0, depth: 2 }, 1) as JsonObject;
  const kept: JsonObject = {};
  let used = 2 + Buffer.byteLength(marker);
  for (const k of Object.keys(tiny)) {
    const entry = Buffer.byteLength(JSON.stringify({ [k]: tiny[k]! })) - 1;
    if (used + entry > maxLine) break;
    kept[k] = tiny[k]!;
    used += entry;
  }
  const text = JSON.stringify(kept);
  return text.slice(0, -1) + (text === '{}' ? marker.slice(1) : marker);
}

/** Bounded NDJSON output of records (flows, groups, summaries). */
export class RecordOutput {
  private readonly write: (line: string) => Promise<boolean>;
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
    this.write = lineWriter(out);
  }

  /**
   * Print one record, or count it as left out once the budget is spent. Resolves to false when
   * the reader went away (e.g. `| head`): stop reading.
   */
  async record(obj: JsonObject): Promise<boolean> {
    if (this.exhausted) {
      this.leftOut++;
      return true;
    }
    const line = boundedLine(obj, this.limits.maxLine);
    const bytes = Buffer.byteLength(line) + 1;
    if (this.used + bytes > this.limits.budget - (Number.isFinite(this.limits.budget) ? MARKER_ROOM : 0)) {
      this.exhausted = true;
      this.leftOut++;
      return true;
    }
    this.used += bytes;
    this.printed++;
    return this.write(line);
  }

  /** Count a record that was not even rendered because the budget is spent. */
  skip(): void {
    this.leftOut++;
  }

  /** After the last record: the budget marker, when something was left out. */
  async finish(): Promise<void> {
    if (!this.exhausted) return;
    await this.write(
      JSON.stringify({
        _truncated: {
          reason: 'output budget reached',
          budget_bytes: this.limits.budget,
          printed_bytes: this.used,
          printed: this.printed,
          left_out: this.leftOut,
          unit: this.unit,
          hint: 'raise --budget/--budget-tokens, narrow the filter, or use --group endpoint',
        },
      }),
    );
  }
}
