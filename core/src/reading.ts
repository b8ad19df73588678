/**
 * `@mitmts/core/reading`: flows, filters, flow records and the flow index, without the kernel,
 * the proxy runtime or their dependencies (dependency injection, certificates, the HTTP stacks).
 * For code that reads flows where start-up time counts: `mitmts flows` starts without the
 * kernel, and a flow file format's reader (the store's) runs inside it. `@mitmts/sdk/store`
 * re-exports this; the objects are the same ones the package root exports.
 */
export {
  flowFromState,
  type Flow,
  type FlowState,
  type FlowType,
  type ReplayKind,
  type HTTPFlow,
  type DNSFlow,
} from './flow/index.js';
export type { Filter, FilterNode } from './filter/index.js';
export { FlowReadError, FlowReadErrorCode } from './io/errors.js';
export { FlowRecordEncoder } from './io/flow-encoder.js';
export { encodeFlowState } from './io/state-schema.js';
export * as tnetstring from './io/tnetstring.js';
export type { TnetValue } from './io/tnetstring.js';
export * from './store/index.js';
