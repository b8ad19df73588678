// Loading the package makes store databases readable as flow files (mitmts flows, -r). The
// machinery (./engine.js, better-sqlite3) loads when a store is opened or read.
import './register-format.js';
import { Store } from './store.js';

export { Store };
export { storeFlowFormat, SQLITE_MAGIC } from './register-format.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export default Store;
