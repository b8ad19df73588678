/**
 * Store databases as flow files: registered with core (`registerFlowFileFormat`) by SQLite's
 * magic, so `mitmts flows flows.db [FILTER]`, `mitmts -r flows.db` and `FlowReader` read them
 * like `.mitm` files, with the filter answered from the indexes where it can be.
 */
import { type Filter, type Flow, type FlowFile, type FlowFileFormat, FlowReadError, FlowReadErrorCode } from '@mitmts/sdk';
import { StoreDatabase } from './db.js';
import { StoreError, storeError } from './errors.js';
import { SqliteFlowIndex } from './sqlite-index.js';

/** The first 16 bytes of every SQLite database file. */
export const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

function readError(err: unknown, path: string): FlowReadError {
  if (err instanceof FlowReadError) return err;
  const e = err instanceof StoreError ? err : storeError(err, path, 'read');
  const code = e.code === 'MITMTS_ERR_STORE_FOREIGN' && /newer mitmts/.test(e.message) ? FlowReadErrorCode.VERSION : FlowReadErrorCode.CORRUPT;
  return new FlowReadError(code, e.message, { cause: e });
}

function* guarded(flows: Iterable<Flow>, path: string): Generator<Flow> {
  try {
    yield* flows;
  } catch (err) {
    throw readError(err, path);
  }
}

export const storeFlowFormat: FlowFileFormat = {
  name: 'mitmts store (SQLite)',
  magic: SQLITE_MAGIC,
  open(path: string): FlowFile {
    let db: StoreDatabase;
    try {
      db = StoreDatabase.open(path, { readonly: true });
    } catch (err) {
      throw readError(err, path);
    }
    const index = new SqliteFlowIndex(db);
    return {
      flows: (filter: Filter | null) => guarded(index.scan(filter), path),
      close: () => db.close(),
    };
  },
};
