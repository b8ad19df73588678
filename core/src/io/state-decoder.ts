/**
 * Push-based decoding of a flow file into format 21 states: bytes in, states out, in order.
 * Detects HAR input (first byte `{`, optionally after a UTF-8 BOM) and otherwise splits the
 * tnetstring stream into records, decodes, migrates and normalizes each. Errors are
 * {@link FlowReadError}s thrown after every state before the problem was produced.
 */
import type { FlowState } from '../flow/state.js';
import { FlowReadError, FlowReadErrorCode, TnetstringError } from './errors.js';
import { harToFlowStates } from './har-import.js';
import { MigrationContext, migrateFlowState, UnsupportedVersionError, versionKey } from './migrations.js';
import { addMissingBackup, normalizeFlowState } from './normalize.js';
import { RecordSplitter, type RawRecord } from './record-splitter.js';
import { decodeAt, type TnetValue } from './tnetstring.js';

function typeName(v: TnetValue): string {
  if (v === null) return 'null';
  if (Buffer.isBuffer(v)) return 'bytes';
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'float' : typeof v;
}

/** Where a record is, for error messages. */
function where(rec: RawRecord): string {
  return `flow record #${rec.index + 1} at byte ${rec.offset}`;
}

/** Decode, migrate and normalize one raw record. */
export function decodeRecord(rec: RawRecord, ctx: MigrationContext): FlowState {
  let value: TnetValue;
  try {
    value = decodeAt(rec.bytes, 0, rec.bytes.length, rec.offset).value;
  } catch (e) {
    if (!(e instanceof TnetstringError)) throw e;
    throw new FlowReadError(
      FlowReadErrorCode.CORRUPT,
      `${where(rec)} is damaged: ${e.message}. Everything before this record was read; the file is corrupt from byte ${e.offset}.`,
      { offset: e.offset, record: rec.index, cause: e },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) {
    throw new FlowReadError(
      FlowReadErrorCode.CORRUPT,
      `${where(rec)} is a ${typeName(value)}, expected a dict (a tnetstring ending in '}'): this is not a mitmproxy flow file.`,
      { offset: rec.offset, record: rec.index },
    );
  }
  const dict = value as Record<string, unknown>;
  // Files from mitmproxy 8 on (format 17+) already carry text where text is due.
  const modern = typeof dict.version === 'number' && dict.version >= 17;
  const version = dict.version;
  let state: FlowState;
  try {
    state = migrateFlowState(dict, ctx);
  } catch (e) {
    if (e instanceof UnsupportedVersionError) {
      throw new FlowReadError(FlowReadErrorCode.VERSION, `${where(rec)}: ${e.message}.`, {
        offset: rec.offset,
        record: rec.index,
        cause: e,
      });
    }
    const shown = versionKey(version) ?? JSON.stringify(version) ?? 'missing';
    throw new FlowReadError(
      FlowReadErrorCode.INVALID,
      `${where(rec)} (flow format ${shown}) is not a valid flow: migrating it to format 21 failed (${(e as Error).message}). The record is damaged or was not written by mitmproxy.`,
      { offset: rec.offset, record: rec.index, cause: e },
    );
  }
  if (modern) addMissingBackup(state);
  else normalizeFlowState(state);
  const type: unknown = state.type;
  if (type !== 'http' && type !== 'tcp' && type !== 'udp' && type !== 'dns') {
    throw new FlowReadError(
      FlowReadErrorCode.INVALID,
      `${where(rec)} has unknown flow type ${JSON.stringify(type)}; expected one of http, tcp, udp, dns.`,
      { offset: rec.offset, record: rec.index },
    );
  }
  return state;
}

const BOM = [0xef, 0xbb, 0xbf];

export class FlowStateDecoder {
  private readonly splitter = new RecordSplitter();
  private readonly ctx = new MigrationContext();
  private mode: 'unknown' | 'tnetstring' | 'har' = 'unknown';
  /** Bytes held back until the format is known, or the whole HAR document. */
  private held: Buffer[] = [];
  private heldLength = 0;
  /** Where the state yielded last came from (record index and byte offset; -1 for HAR). */
  readonly last = { index: -1, offset: -1 };

  private decode(rec: RawRecord): FlowState {
    this.last.index = rec.index;
    this.last.offset = rec.offset;
    return decodeRecord(rec, this.ctx);
  }

  /**
   * States completed by `chunk`. The caller may reuse `chunk` afterwards, unless it passes
   * `owned` (the chunk is never written again, so states may point into it).
   */
  *push(chunk: Buffer, owned = false): Generator<FlowState> {
    if (chunk.length === 0) return;
    if (this.mode === 'tnetstring') {
      for (const rec of this.splitter.push(chunk, owned)) yield this.decode(rec);
      return;
    }
    this.held.push(owned ? chunk : Buffer.from(chunk));
    this.heldLength += chunk.length;
    if (this.mode === 'har') return;
    const head = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held);
    const mode = this.detect(head, false);
    if (mode === undefined) return;
    this.mode = mode;
    if (mode === 'tnetstring') {
      this.held = [];
      this.heldLength = 0;
      // `head` is ours: a copy, a concatenation or an owned chunk.
      for (const rec of this.splitter.push(head, true)) yield this.decode(rec);
    }
  }

  /** Call at end of input: yields what is left, throws if the input was cut. */
  *end(): Generator<FlowState> {
    if (this.mode === 'unknown' && this.heldLength > 0) {
      const head = Buffer.concat(this.held);
      this.mode = this.detect(head, true) ?? 'tnetstring';
      if (this.mode === 'tnetstring') {
        this.held = [];
        for (const rec of this.splitter.push(head, true)) yield this.decode(rec);
      }
    }
    if (this.mode === 'har') {
      const doc = Buffer.concat(this.held);
      this.held = [];
      let index = 0;
      for (const state of harToFlowStates(doc)) {
        this.last.index = index++;
        yield state;
      }
      return;
    }
    this.splitter.end();
  }

  /** HAR if the first byte (after an optional BOM) is `{`; undefined until enough bytes arrived. */
  private detect(head: Buffer, final: boolean): 'tnetstring' | 'har' | undefined {
    let prefix = 0;
    while (prefix < BOM.length && prefix < head.length && head[prefix] === BOM[prefix]) prefix++;
    if (prefix === head.length) return final ? 'tnetstring' : undefined;
    const start = prefix === BOM.length ? prefix : 0;
    return head[start] === 0x7b ? 'har' : 'tnetstring';
  }
}
