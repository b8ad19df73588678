/**
 * The database layout. `flows`: a row per flow with the {@link FlowRow} fields as columns (what
 * filters and sorts read), `seq` (the order flows were first stored in), `ascii` (whether every
 * text column a filter searches is ASCII) and where the flow's record is: `rec_at` and `rec_len`,
 * its bytes in the records file beside the database (`FILE.records`, records-file.ts: the flow's
 * full state as a tnetstring record, zstd compressed from 2 KiB on), and `ext` (large bodies cut
 * out into files). Rows are upserted by flow id.
 *
 * Layout 1 (stores written before the records file) kept the records in a `records` table (seq,
 * record, ext). A layout 1 store opened for writing gets the new columns (its old records stay
 * in that table, read as before); opened for reading, it is read as it is.
 */
import type { FlowRow, FlowSortKey, FlowType, ReplayKind } from '@mitmts/sdk/store';

/** `PRAGMA application_id`: marks a SQLite file as a mitmts store ('mtts'). */
export const APPLICATION_ID = 0x6d747473;
/** `PRAGMA user_version`: the layout version this code reads and writes. */
export const SCHEMA_VERSION = 2;
/** The first layout: records in the `records` table. Still read; upgraded when opened for writing. */
export const LAYOUT_RECORDS_TABLE = 1;

/** The indexed columns, in insert order (`seq` is assigned by SQLite). */
export const COLUMNS = [
  'id',
  'type',
  'ts_created',
  'ts_start',
  'ts_end',
  'method',
  'scheme',
  'host',
  'pretty_host',
  'port',
  'path',
  'url',
  'http_version',
  'status',
  'has_response',
  'req_ctype',
  'resp_ctype',
  'req_size',
  'resp_size',
  'websocket',
  'marked',
  'comment',
  'error',
  'is_replay',
  'intercepted',
  'tls',
  'src',
  'dst',
  'ascii',
] as const;

/** Every character below U+0080. */
function ascii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The {@link COLUMNS}'s `ascii` flag: every column filters search with LIKE/GLOB is ASCII (no string is built to find out). */
const searchedAscii = (r: FlowRow): boolean =>
  ascii(r.host) &&
  ascii(r.prettyHost) &&
  ascii(r.url) &&
  ascii(r.method) &&
  ascii(r.requestContentType) &&
  ascii(r.responseContentType) &&
  ascii(r.clientAddress) &&
  ascii(r.serverAddress) &&
  ascii(r.marked) &&
  ascii(r.comment);

export const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS flows (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  ts_created REAL NOT NULL,
  ts_start REAL,
  ts_end REAL,
  method TEXT NOT NULL,
  scheme TEXT NOT NULL,
  host TEXT NOT NULL,
  pretty_host TEXT NOT NULL,
  port INTEGER NOT NULL,
  path TEXT NOT NULL,
  url TEXT NOT NULL,
  http_version TEXT NOT NULL,
  status INTEGER NOT NULL,
  has_response INTEGER NOT NULL,
  req_ctype TEXT NOT NULL,
  resp_ctype TEXT NOT NULL,
  req_size INTEGER NOT NULL,
  resp_size INTEGER NOT NULL,
  websocket INTEGER NOT NULL,
  marked TEXT NOT NULL,
  comment TEXT NOT NULL,
  error TEXT,
  is_replay TEXT,
  intercepted INTEGER NOT NULL,
  tls INTEGER NOT NULL,
  src TEXT NOT NULL,
  dst TEXT NOT NULL,
  ascii INTEGER NOT NULL,
  rec_at INTEGER,
  rec_len INTEGER,
  ext TEXT
);
CREATE TABLE IF NOT EXISTS records (
  seq INTEGER PRIMARY KEY,
  record BLOB NOT NULL,
  ext TEXT
)`;

/**
 * Indexes: what filters select on often and a UI sorts by. Each index costs every write (see
 * docs/flow-store.md for the measured price), so columns that are rarely selective (scheme,
 * method, type, http_version) or that filters only search inside (url, path, content types)
 * have none: their filters scan the narrow rows, never the records. Marks, comments and errors
 * are rare: partial indexes over the few rows that have one. The status index also holds what
 * the host filters (`~d`, `~domain`) and the type checks read, so that `~c 404 & ~d example`
 * is answered from the index alone, without a lookup in the table per flow with that status.
 */
export const CREATE_INDEXES = [
  'CREATE INDEX IF NOT EXISTS flows_host ON flows(host)',
  'CREATE INDEX IF NOT EXISTS flows_status_host ON flows(status, type, has_response, ascii, host, pretty_host)',
  'CREATE INDEX IF NOT EXISTS flows_ts ON flows(ts_created)',
  "CREATE INDEX IF NOT EXISTS flows_marked ON flows(marked) WHERE marked <> ''",
  "CREATE INDEX IF NOT EXISTS flows_comment ON flows(comment) WHERE comment <> ''",
  'CREATE INDEX IF NOT EXISTS flows_error ON flows(seq) WHERE error IS NOT NULL',
];

/** Indexes of earlier versions of this layout that {@link CREATE_INDEXES} replaced (`flows_status`: by `flows_status_host`). */
export const DROPPED_INDEXES = ['flows_status'];

/**
 * Bring an existing store's indexes up to date (run when it is opened for writing): a store
 * written by an earlier mitmts gets the indexes it lacks and loses the ones replaced. The tables
 * are unchanged, so `user_version` stays. Building an index over a large store takes a while
 * (seconds for a million flows), once.
 */
export const MIGRATE_INDEXES = [...CREATE_INDEXES, ...DROPPED_INDEXES.map((i) => `DROP INDEX IF EXISTS ${i}`)].join(
  '; ',
);

/**
 * Pragmas of the connection that writes (the writer thread's; StoreDatabase.open's for writers).
 * WAL with `synchronous = NORMAL`: a commit survives a crash of the process (not of the machine)
 * without an fsync per commit. Checkpoints every 16,384 pages (64 MiB of WAL) instead of SQLite's
 * 1,000: a checkpoint copies the newest version of each page once and fsyncs, so with a larger
 * WAL the index pages every commit rewrites are copied (and synced) far less often; the writer
 * thread's CPU per flow drops by 15-25% (docs/flow-store.md). The WAL file is truncated back to
 * 64 MiB after a checkpoint.
 */
export const WRITER_PRAGMAS = ['synchronous = NORMAL', 'wal_autocheckpoint = 16384', 'journal_size_limit = 67108864'];

/** Where a row's record is: its offset and length in the records file, and the bodies cut out. */
export const RECORD_COLUMNS = ['rec_at', 'rec_len', 'ext'] as const;
const WRITTEN = [...COLUMNS, ...RECORD_COLUMNS];

/**
 * Upsert a flow's row by id (a row keeps its seq). Parameters: {@link rowValues}, then the
 * record's offset and length in the records file and `ext`.
 */
export const UPSERT_FLOW = `INSERT INTO flows (${WRITTEN.join(', ')}) VALUES (${WRITTEN.map(() => '?').join(', ')})
ON CONFLICT(id) DO UPDATE SET ${WRITTEN.slice(1)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ')}`;

/**
 * A layout 1 store opened for writing: the row gets the record's columns (ALTER TABLE ADD
 * COLUMN changes no row), the old records stay in the `records` table.
 */
export const UPGRADE_LAYOUT_1 = `ALTER TABLE flows ADD COLUMN rec_at INTEGER; ALTER TABLE flows ADD COLUMN rec_len INTEGER; ALTER TABLE flows ADD COLUMN ext TEXT; PRAGMA user_version = ${SCHEMA_VERSION}`;

/** How a layout's rows are read with their records: the tables, and the columns of a {@link StoredForm}. */
export interface RecordSource {
  readonly from: string;
  readonly columns: string;
}

/**
 * Per layout, the rows joined with where their records are. Layout 2: the records file, and
 * for rows an upgraded layout 1 store had already, the `records` table (a LEFT JOIN: one probe
 * of that table per row, empty in a new store). Layout 1: the `records` table only.
 */
export function recordSource(layout: number): RecordSource {
  return layout === LAYOUT_RECORDS_TABLE
    ? {
        from: 'flows JOIN records USING (seq)',
        columns: 'NULL AS rec_at, NULL AS rec_len, records.record AS record, records.ext AS ext',
      }
    : {
        from: 'flows LEFT JOIN records USING (seq)',
        columns:
          'flows.rec_at AS rec_at, flows.rec_len AS rec_len, records.record AS record, coalesce(flows.ext, records.ext) AS ext',
      };
}

/** Where a flow's stored record is: in the records file (`rec_at`, `rec_len`), or in a layout 1 row (`record`). */
export interface StoredForm {
  readonly rec_at: number | null;
  readonly rec_len: number | null;
  readonly record: Buffer | null;
  readonly ext: string | null;
}

/** The SQL a sort key orders by (the same values as core's `sortValue`). */
export const SORT_SQL: Readonly<Record<FlowSortKey, string>> = {
  seq: 'seq',
  timestamp: 'ts_created',
  method: 'method',
  url: 'url',
  host: 'host',
  port: 'port',
  status: 'status',
  size: '(req_size + resp_size)',
  duration: '(CASE WHEN ts_start IS NULL OR ts_end IS NULL THEN -1 ELSE ts_end - ts_start END)',
  type: 'type',
  comment: 'comment',
  version: 'http_version',
};

/** The column values of a row, in {@link COLUMNS} order. */
export function rowValues(r: FlowRow): unknown[] {
  return [
    r.id,
    r.type,
    r.timestampCreated,
    r.timestampStart,
    r.timestampEnd,
    r.method,
    r.scheme,
    r.host,
    r.prettyHost,
    r.port,
    r.path,
    r.url,
    r.httpVersion,
    r.status ?? 0,
    r.hasResponse ? 1 : 0,
    r.requestContentType,
    r.responseContentType,
    r.requestSize,
    r.responseSize,
    r.websocket ? 1 : 0,
    r.marked,
    r.comment,
    r.error,
    r.isReplay,
    r.intercepted ? 1 : 0,
    r.tls ? 1 : 0,
    r.clientAddress,
    r.serverAddress,
    searchedAscii(r) ? 1 : 0,
  ];
}

/** A row as SQLite returns it (`SELECT seq, <COLUMNS>`). */
export interface DbRow {
  seq: number;
  id: string;
  type: string;
  ts_created: number;
  ts_start: number | null;
  ts_end: number | null;
  method: string;
  scheme: string;
  host: string;
  pretty_host: string;
  port: number;
  path: string;
  url: string;
  http_version: string;
  status: number;
  has_response: number;
  req_ctype: string;
  resp_ctype: string;
  req_size: number;
  resp_size: number;
  websocket: number;
  marked: string;
  comment: string;
  error: string | null;
  is_replay: string | null;
  intercepted: number;
  tls: number;
  src: string;
  dst: string;
  ascii: number;
}

/** The columns a {@link DbRow} is selected with. */
export const ROW_SELECT = `seq, ${COLUMNS.join(', ')}`;

export function toFlowRow(r: DbRow): FlowRow {
  return {
    seq: r.seq,
    id: r.id,
    type: r.type as FlowType,
    timestampCreated: r.ts_created,
    timestampStart: r.ts_start,
    timestampEnd: r.ts_end,
    method: r.method,
    scheme: r.scheme,
    host: r.host,
    prettyHost: r.pretty_host,
    port: r.port,
    path: r.path,
    url: r.url,
    httpVersion: r.http_version,
    status: r.type === 'http' && r.has_response ? r.status : null,
    hasResponse: r.has_response === 1,
    requestContentType: r.req_ctype,
    responseContentType: r.resp_ctype,
    requestSize: r.req_size,
    responseSize: r.resp_size,
    websocket: r.websocket === 1,
    marked: r.marked,
    comment: r.comment,
    error: r.error,
    isReplay: r.is_replay as ReplayKind | null,
    intercepted: r.intercepted === 1,
    tls: r.tls === 1,
    clientAddress: r.src,
    serverAddress: r.dst,
  };
}
