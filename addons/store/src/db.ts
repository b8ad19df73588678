/**
 * Opening a store: better-sqlite3 is loaded on first use (an idle proxy without `store` never
 * loads it), the file is created or checked (a SQLite file that is not a mitmts store is
 * refused), WAL mode is set for writers, and the statements are prepared once.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import {
  flowFromState,
  flowRow,
  type Flow,
  type FlowRow,
  FlowReadError,
  FlowReadErrorCode,
  FlowRecordEncoder,
  tnetstring,
  type FlowState,
} from '@mitmts/sdk/store';
import { BodyFiles } from './bodies.js';
import type { BatchBuilder } from './writer-thread.js';
import { StoreError, storeError } from './errors.js';
import { compressRecord, type ExternalBodies, RecordCodec } from './record.js';
import { RecordsAppender, RecordsReader, recordsPath } from './records-file.js';
import {
  APPLICATION_ID,
  CREATE_INDEXES,
  CREATE_TABLE,
  LAYOUT_RECORDS_TABLE,
  MIGRATE_INDEXES,
  recordSource,
  type RecordSource,
  rowValues,
  SCHEMA_VERSION,
  type StoredForm,
  UPGRADE_LAYOUT_1,
  UPSERT_FLOW,
  WRITER_PRAGMAS,
} from './schema.js';

export type Database = BetterSqlite3.Database;
type Sqlite = typeof BetterSqlite3;

let sqlite: Sqlite | null = null;

/** better-sqlite3, loaded on first use. */
export function loadSqlite(): Sqlite {
  if (sqlite) return sqlite;
  try {
    // createRequire: resolved where this package is installed, also from a bundled build.
    sqlite = createRequire(import.meta.url)('better-sqlite3') as Sqlite;
  } catch (err) {
    throw new StoreError(
      'MITMTS_ERR_STORE_SQLITE',
      `The store needs better-sqlite3 12.x, which could not be loaded (${(err as Error).message}). Install it beside mitmts: npm install better-sqlite3@12.`,
      { cause: err },
    );
  }
  return sqlite;
}

export interface OpenOptions {
  /** Open for reading only (the file must exist). */
  readonly readonly?: boolean;
  /** Bodies larger than this go to files (writers; default 256 KiB). */
  readonly bodyThreshold?: number;
}

/** What is stored for one flow: its row (the indexed columns) and its record. */
export interface StoreItem {
  readonly row: FlowRow;
  /** The flow's tnetstring record (`encodeFlow`), or one with these bodies already emptied. */
  readonly record: Buffer;
  /** Bodies cut out of `record` (stored as files). */
  readonly bodies?: Partial<Record<'request' | 'response', Buffer>>;
}

/** An open store database: the connection, its statements and the record codec. */
export class StoreDatabase {
  readonly db: Database;
  readonly codec: RecordCodec;
  /** Flows to records through one reused buffer (flows are encoded one at a time, on this thread). */
  private readonly encoder = new FlowRecordEncoder();
  private upsertFlow: BetterSqlite3.Statement | null = null;
  private appender: RecordsAppender | null = null;
  private readonly records: RecordsReader;
  /** How rows are read with their records, for this file's layout. */
  readonly source: RecordSource;

  private constructor(
    readonly path: string,
    db: Database,
    bodyThreshold: number,
    /** The file's layout (`user_version`): {@link SCHEMA_VERSION}, or 1 for an old store opened to read. */
    readonly layout: number,
  ) {
    this.db = db;
    this.codec = new RecordCodec(new BodyFiles(`${path}.bodies`), bodyThreshold);
    this.records = new RecordsReader(recordsPath(path));
    this.source = recordSource(layout);
  }

  /** Open (and create, unless read-only) the store at `path`. Throws {@link StoreError}. */
  static open(path: string, opts: OpenOptions = {}): StoreDatabase {
    const Sqlite = loadSqlite();
    let db: Database | null = null;
    const readonly = opts.readonly ?? false;
    try {
      // Like save_stream_file: missing directories are created.
      if (!readonly) mkdirSync(dirname(path), { recursive: true });
      db = new Sqlite(path, { readonly, fileMustExist: readonly, timeout: 1000 });
      const layout = checkOrCreate(db, path, readonly);
      if (!readonly) {
        db.pragma('journal_mode = WAL');
        for (const p of WRITER_PRAGMAS) db.pragma(p);
        // Take the write lock once now, so that a locked file is found at start-up, not at the first flow.
        db.exec('BEGIN IMMEDIATE; COMMIT');
        // While running, never block the proxy long on another writer's lock.
        db.pragma('busy_timeout = 100');
      }
      return new StoreDatabase(path, db, opts.bodyThreshold ?? 256 * 1024, layout);
    } catch (err) {
      db?.close();
      throw storeError(err, path, readonly ? 'read' : 'open');
    }
  }

  /** Upsert flows by id in one transaction (a row keeps its seq). */
  writeBatch(flows: Iterable<Flow>): number {
    return this.writeRecords(this.items(flows));
  }

  /** Flows as what is stored for them: the record without bodies over the threshold (cut out, to go to files). */
  *items(flows: Iterable<Flow>): Generator<StoreItem> {
    for (const flow of flows) {
      const record = Buffer.from(this.encoder.encode(flow, this.codec.threshold));
      const bodies = this.cutBodies();
      yield { row: flowRow(flow, 0), record, ...(bodies ? { bodies } : {}) };
    }
  }

  /**
   * Add a flow's row and its record (large bodies cut out into files, not compressed yet) to
   * `batch`, encoded straight from the flow.
   */
  addTo(batch: BatchBuilder, flow: Flow): void {
    const whole = this.encoder.encode(flow, this.codec.threshold);
    const bodies = this.cutBodies();
    const row = flowRow(flow, 0);
    if (bodies === undefined) batch.addRow(row, whole, null);
    else {
      const { record, ext } = this.codec.cut(whole, bodies);
      batch.addRow(row, record, ext);
    }
  }

  /** The bodies the encoder cut out of the last record, if any. */
  private cutBodies(): ExternalBodies | undefined {
    const { request, response } = this.encoder.cut;
    if (!request && !response) return undefined;
    return { ...(request ? { request } : {}), ...(response ? { response } : {}) };
  }

  /**
   * Upsert rows with their records (a flow's `encodeFlow` bytes and its `flowRow`) in one
   * transaction, on this connection: the records are appended to the records file (and flushed)
   * inside the transaction, before its rows commit. For writers that already have the record
   * (imports, benchmarks); a proxy writes through a `WriterThread` instead (the same steps).
   */
  writeRecords(items: Iterable<StoreItem>): number {
    const flows = (this.upsertFlow ??= this.db.prepare(UPSERT_FLOW));
    const appender = (this.appender ??= new RecordsAppender(recordsPath(this.path)));
    const rows = [...this.packed(items)];
    const stored = rows.map((row) => compressRecord(row.at(-2) as Buffer));
    this.db.exec('BEGIN IMMEDIATE');
    try {
      let at = appender.append(stored);
      rows.forEach((row, i) => {
        const len = stored[i]!.length;
        row.splice(-2, 1, at, len);
        flows.run(row);
        at += len;
      });
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
    return rows.length;
  }

  /**
   * What goes into the tables for each item: the row's values, then the record (large bodies
   * cut out into files, not compressed yet) and `ext`.
   */
  *packed(items: Iterable<StoreItem>): Generator<unknown[]> {
    for (const { row, record: whole, bodies } of items) {
      const { record, ext } = this.codec.cut(whole, bodies);
      const values = rowValues(row);
      values.push(record, ext);
      yield values;
    }
  }

  /** The record (the flow's tnetstring bytes) of the row `seq`, stored as `r`. Throws FlowReadError if it is missing. */
  record(r: StoredForm, seq: number): Buffer {
    const stored = r.record ?? this.records.read(r.rec_at ?? 0, r.rec_len ?? 0, seq);
    return this.codec.unpack(stored, r.ext);
  }

  /** The flow a stored form holds. Throws FlowReadError for a damaged record. */
  flow(r: StoredForm, seq: number): Flow {
    return this.decode(this.record(r, seq), seq);
  }

  /** The flow of a record (see {@link record}). */
  decode(record: Buffer, seq: number): Flow {
    try {
      const state = tnetstring.decode(record) as unknown as FlowState;
      return flowFromState(state, true);
    } catch (err) {
      throw new FlowReadError(
        FlowReadErrorCode.CORRUPT,
        `${this.path}: the flow stored as seq ${seq} cannot be read: ${(err as Error).message}`,
        { record: seq, cause: err },
      );
    }
  }

  close(): void {
    this.appender?.close();
    this.records.close();
    if (this.db.open) this.db.close();
  }
}

/** Check the file (or create the tables); returns its layout, upgraded to the current one if opened for writing. */
function checkOrCreate(db: Database, path: string, readonly: boolean): number {
  const app = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (app === 0 && version === 0) {
    const tables = db.prepare('SELECT count(*) FROM sqlite_master').pluck().get() as number;
    if (tables > 0)
      throw new StoreError(
        'MITMTS_ERR_STORE_FOREIGN',
        `${path} is a SQLite database but not a mitmts store (it has other tables): choose another file.`,
      );
    if (readonly)
      throw new StoreError('MITMTS_ERR_STORE_FOREIGN', `${path} is an empty SQLite database, not a mitmts store.`);
    db.exec(
      `${CREATE_TABLE}; ${CREATE_INDEXES.join('; ')}; PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${SCHEMA_VERSION}`,
    );
    return SCHEMA_VERSION;
  }
  if (app !== APPLICATION_ID)
    throw new StoreError(
      'MITMTS_ERR_STORE_FOREIGN',
      `${path} is a SQLite database but not a mitmts store (application_id ${app}): choose another file.`,
    );
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      'MITMTS_ERR_STORE_FOREIGN',
      `${path} was written by a newer mitmts (store layout ${version}; this one reads up to ${SCHEMA_VERSION}): upgrade mitmts to read it.`,
    );
  }
  // Readers use whatever indexes and layout the file has; a writer brings them up to date.
  if (readonly) return version;
  if (version === LAYOUT_RECORDS_TABLE) db.exec(UPGRADE_LAYOUT_1);
  db.exec(MIGRATE_INDEXES);
  return SCHEMA_VERSION;
}
