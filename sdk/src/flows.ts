/**
 * `@mitmts/sdk/flows`: flows, filters, flow records and the flow query interface, without the
 * kernel, the proxy runtime or their dependencies (dependency injection, certificates, the HTTP
 * stacks). For code that reads flows where start-up time counts: a flow file format's reader
 * runs inside `mitmts flows`, which starts without the kernel (the store's reader imports this
 * entry, not `@mitmts/sdk`). Everything here is also exported by `@mitmts/sdk`, as the same
 * objects.
 */
export { flowFromState, type Flow, type FlowState, type FlowType, type ReplayKind, type HTTPFlow, type DNSFlow } from '@mitmts/core/flow/index';
export type { Filter, FilterNode } from '@mitmts/core/filter/index';
export { FlowReadError, FlowReadErrorCode } from '@mitmts/core/io/errors';
export { FlowRecordEncoder } from '@mitmts/core/io/flow-encoder';
export * as tnetstring from '@mitmts/core/io/tnetstring';
export {
  bodyHits,
  bodyRegex,
  countBefore,
  decodeCursor,
  encodeCursor,
  flowRow,
  regexLiterals,
  scanBudget,
  sortValue,
  toFilter,
  windowLimit,
  windowOffset,
  type BodySearchMatch,
  type BodySearchQuery,
  type BodySearchResult,
  type CountOptions,
  type Cursor,
  type FlowFilterInput,
  type FlowIndex,
  type FlowQuery,
  type FlowRow,
  type FlowSortKey,
  type FlowWindow,
  type FlowWindowRow,
  type LiteralBranch,
  type LiteralPattern,
} from '@mitmts/core/store/index';
