/**
 * Writing flow files: one tnetstring record per flow, format 21, byte for byte the layout
 * mitmproxy's `FlowWriter` produces (see state-schema.ts). Files written here open in current
 * mitmproxy; `{ format: 17 }` writes what mitmproxy 7 and 8 read (downgrade.ts).
 * `+path`-style appending is `{ append: true }`.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { parseFilter, type Filter } from '../filter/filter.js';
import type { Flow } from '../flow/flow.js';
import { flowFromState } from '../flow/from-state.js';
import { FLOW_FORMAT_VERSION, type FlowState } from '../flow/state.js';
import { downgradeTo17, encodeFlowState17, FLOW_FORMAT_17 } from './downgrade.js';
import { FlowRecordEncoder } from './flow-encoder.js';
import { encodeFlowState } from './state-schema.js';

/** Flow formats the writer can produce. */
export const WRITABLE_FORMATS = [FLOW_FORMAT_17, FLOW_FORMAT_VERSION] as const;
export type WritableFormat = (typeof WRITABLE_FORMATS)[number];

/** Where flows go: a file path, an open file descriptor or a writable stream. */
export type FlowSink = string | number | NodeJS.WritableStream;

export interface FlowWriterOptions {
  /** Append to an existing file instead of replacing it (paths only). */
  append?: boolean;
  /**
   * Flow format to write: 21 (current mitmproxy; the default) or 17 (mitmproxy 7 and 8). At 17,
   * UDP and DNS flows, which that format cannot hold, are skipped and counted in `skipped`.
   */
  format?: WritableFormat;
}

function isFlow(x: Flow | FlowState): x is Flow {
  return typeof (x as Flow).getState === 'function';
}

/** The format 21 state of a flow; throws for a state of another version. */
function currentState(flow: Flow | FlowState): FlowState {
  const state = isFlow(flow) ? flow.getState() : flow;
  if (state.version !== FLOW_FORMAT_VERSION) {
    throw new TypeError(
      `cannot write a flow state of format version ${String(state.version)}: FlowWriter takes format ${FLOW_FORMAT_VERSION} states only; load it with flowFromState() or migrateFlowState() first`,
    );
  }
  return state;
}

/** Flows are encoded straight to their records (flow-encoder.ts), into one reused buffer. */
const encoder = new FlowRecordEncoder();

/** The record bytes for one flow (or format 21 state). */
export function encodeFlow(flow: Flow | FlowState): Buffer {
  return isFlow(flow) ? Buffer.from(encoder.encode(flow)) : encodeFlowState(currentState(flow));
}

/**
 * mitmproxy's `FlowWriter`. `add()` writes synchronously to paths and file descriptors and
 * queues on streams (honouring nothing but the stream's own buffering).
 *
 * ```ts
 * const w = new FlowWriter('out.mitm');
 * for (const f of flows) w.add(f);
 * await w.close();
 * ```
 */
export class FlowWriter {
  private fd: number | null = null;
  private readonly ownsFd: boolean;
  private readonly stream: NodeJS.WritableStream | null = null;
  /** Flows written so far. */
  count = 0;
  /** Flows not written because the chosen format cannot hold them (UDP and DNS at format 17). */
  skipped = 0;
  readonly format: WritableFormat;

  constructor(sink: FlowSink, options: FlowWriterOptions = {}) {
    this.format = options.format ?? FLOW_FORMAT_VERSION;
    if (!(WRITABLE_FORMATS as readonly number[]).includes(this.format)) {
      throw new TypeError(
        `cannot write flow format ${String(options.format)}: FlowWriter writes format ${WRITABLE_FORMATS.join(' or ')}`,
      );
    }
    if (typeof sink === 'string') {
      this.fd = openSync(sink, options.append ? 'a' : 'w');
      this.ownsFd = true;
    } else if (typeof sink === 'number') {
      this.fd = sink;
      this.ownsFd = false;
    } else {
      this.stream = sink;
      this.ownsFd = false;
    }
  }

  /** Write one flow (a Flow or a format 21 state). */
  add(flow: Flow | FlowState): void {
    if (this.format === FLOW_FORMAT_VERSION) return this.write(encodeFlow(flow));
    const old = downgradeTo17(currentState(flow));
    if (old === null) this.skipped++;
    else this.write(encodeFlowState17(old));
  }

  protected write(record: Buffer): void {
    if (this.fd !== null) {
      let off = 0;
      while (off < record.length) off += writeSync(this.fd, record, off);
    } else if (this.stream !== null) {
      this.stream.write(record);
    } else {
      throw new Error('FlowWriter is closed; create a new writer to write more flows');
    }
    this.count++;
  }

  /**
   * Finish: closes a file this writer opened; for a stream, resolves once everything written
   * so far was flushed (the stream itself stays open, as mitmproxy leaves its file object).
   */
  async close(): Promise<void> {
    if (this.fd !== null) {
      if (this.ownsFd) closeSync(this.fd);
      this.fd = null;
      return;
    }
    const s = this.stream;
    if (s !== null)
      await new Promise<void>((resolve, reject) => s.write(Buffer.alloc(0), (e) => (e ? reject(e) : resolve())));
  }
}

/**
 * mitmproxy's `FilteredFlowWriter`: writes only the flows matching `filter` (all flows when it
 * is null). A string is parsed as a filter expression (throws FilterError when invalid).
 */
export class FilteredFlowWriter extends FlowWriter {
  readonly filter: Filter | null;
  constructor(sink: FlowSink, filter: Filter | string | null, options: FlowWriterOptions = {}) {
    super(sink, options);
    this.filter = typeof filter === 'string' ? parseFilter(filter) : filter;
  }

  override add(flow: Flow | FlowState): void {
    if (this.filter !== null && !this.filter.match(isFlow(flow) ? flow : flowFromState(flow))) return;
    super.add(flow);
  }
}
