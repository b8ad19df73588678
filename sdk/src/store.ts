/**
 * `@mitmts/sdk/store`: the building blocks of a flow store (the `store` addon's SQLite store, the
 * web UI's flow list): flow rows and their sort keys, cursors and windows for paging, the flow
 * index interface, body search, filters compiled to literals a database can index, and the
 * state encoding flows are stored in. An addon that only reads flows needs `@mitmts/sdk`. This
 * entry loads no kernel or proxy runtime (it is what `mitmts flows` loads to read a store).
 *
 * @packageDocumentation
 */

/** Rows, sorting, paging and the flow index interface a store implements. */
export {
  flowRow,
  sortValue,
  FLOW_SORT_KEYS,
  encodeCursor,
  decodeCursor,
  isBefore,
  CursorError,
  countBefore,
  windowLimit,
  windowOffset,
  scanBudget,
  MAX_WINDOW,
  type FlowRow,
  type FlowSortKey,
  type Cursor,
  type CountOptions,
  type FlowIndex,
  type FlowQuery,
  type FlowWindow,
  type FlowWindowRow,
  type FlowFilterInput,
} from '@mitmts/core/reading';

/** Search: body hits and filters turned into literals an index can use. */
export {
  bodyRegex,
  bodyHits,
  toFilter,
  regexLiterals,
  type BodySide,
  type BodyHit,
  type BodySearchQuery,
  type BodySearchMatch,
  type BodySearchResult,
  type FilterNode,
  type LiteralBranch,
  type LiteralPattern,
} from '@mitmts/core/reading';

/** How flows are stored: their state (mitmproxy's `get_state`), encoded as tnetstrings. */
export {
  encodeFlowState,
  flowFromState,
  FlowRecordEncoder,
  tnetstring,
  type FlowState,
  type TnetValue,
} from '@mitmts/core/reading';

/**
 * What the store's reader needs besides, from the same light entry: `mitmts flows` loads a store
 * through this module alone, without the kernel or the proxy runtime.
 */
export {
  FlowReadError,
  FlowReadErrorCode,
  type Filter,
  type Flow,
  type FlowType,
  type ReplayKind,
} from '@mitmts/core/reading';
