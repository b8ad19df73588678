/**
 * HAR import: a HAR document (as mitmproxy's reader detects it) to format 21 flow states.
 */
import type { FlowState } from '../flow/state.js';
import { FlowReadError, FlowReadErrorCode } from './errors.js';

/** Parse a HAR document and convert each `log.entries[]` item into an HTTP flow state. */
export function* harToFlowStates(doc: Buffer): Generator<FlowState> {
  throw new FlowReadError(FlowReadErrorCode.HAR, `HAR import is not implemented yet (${doc.length} bytes)`);
}
