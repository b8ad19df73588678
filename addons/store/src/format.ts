/**
 * Store databases as flow files: registered with core (`registerFlowFileFormat`) by SQLite's
 * magic, so `mitmts flows flows.db [FILTER]`, `mitmts -r flows.db` and `FlowReader` read them
 * like `.mitm` files, with the filter answered from the indexes where it can be. The reading
 * code (and better-sqlite3) loads in `prepare()`, which asynchronous readers await: a proxy that
 * never reads a store file never loads it.
 */
import type { Filter, Flow } from '@mitmts/sdk';
// Only the light part of the SDK: `mitmts flows` imports this module before reading anything.
import { type FlowFile, type FlowFileFormat, FlowReadError, FlowReadErrorCode } from '@mitmts/sdk/formats';
import { StoreError, storeError } from './errors.js';

/** The first 16 bytes of every SQLite database file. */
export const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

let engine: typeof import('./engine.js') | null = null;

function readError(err: unknown, path: string): FlowReadError {
  if (err instanceof FlowReadError) return err;
  const e = err instanceof StoreError ? err : storeError(err, path, 'read');
  const code =
    e.code === 'MITMTS_ERR_STORE_FOREIGN' && /newer mitmts/.test(e.message)
      ? FlowReadErrorCode.VERSION
      : FlowReadErrorCode.CORRUPT;
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
  async prepare(): Promise<void> {
    engine ??= await import('./engine.js');
  },
  open(path: string): FlowFile {
    if (engine === null) {
      throw new FlowReadError(
        FlowReadErrorCode.CORRUPT,
        `${path} is a mitmts store: read it asynchronously (for await ... of new FlowReader(path)), or await prepareFlowFile(path) first.`,
      );
    }
    let db: import('./engine.js').StoreDatabase;
    try {
      db = engine.StoreDatabase.open(path, { readonly: true });
    } catch (err) {
      throw readError(err, path);
    }
    const index = new engine.SqliteFlowIndex(db);
    return {
      flows: (filter: Filter | null) => guarded(index.scan(filter), path),
      close: () => db.close(),
    };
  },
};
