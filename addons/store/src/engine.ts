/**
 * The store's machinery, for programs that work on store databases directly (imports,
 * benchmarks, tools): `import { StoreDatabase, SqliteFlowIndex } from '@mitmts/addon-store/engine'`.
 * The addon loads it only when a store is opened or read.
 */
export { StoreDatabase, loadSqlite, type OpenOptions, type StoreItem } from './db.js';
export { SqliteFlowIndex, type SqliteIndexOptions } from './sqlite-index.js';
export { prefilter, type Prefilter, type Sql } from './sql-filter.js';
export {
  StoreWriter,
  BATCH_WINDOW_MS,
  MAX_OUTSTANDING,
  MAX_WAITING,
  settled,
  type KeptFlows,
  type WriterStats,
} from './writer.js';
export { WriterThread } from './writer-thread.js';
export { COMPRESS_MIN } from './record.js';
