export { Web } from './web.js';
export type { WebServer, WebServerOptions } from './server.js';
export type {
  FlowBackend,
  FlowQuery,
  FlowEntry,
  Cursor,
  SortSpec,
  SortColumn,
  SortKey,
  QueryFilter,
} from './backend.js';
export { SORT_COLUMNS } from './backend.js';
export type * from './protocol.js';
import { Web } from './web.js';
export default Web;
