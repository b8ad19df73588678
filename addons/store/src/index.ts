import { registerFlowFileFormat } from '@mitmts/sdk';
import { storeFlowFormat } from './format.js';
import { Store } from './store.js';

// Loading the package makes store databases readable as flow files (mitmts flows, -r).
registerFlowFileFormat(storeFlowFormat);

export { Store };
export { StoreDatabase, loadSqlite, type OpenOptions, type StoreItem } from './db.js';
export { SqliteFlowIndex, type SqliteIndexOptions } from './sqlite-index.js';
export { prefilter, type Prefilter, type Sql } from './sql-filter.js';
export { storeFlowFormat, SQLITE_MAGIC } from './format.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export { StoreWriter, type WriterStats } from './writer.js';
export default Store;
