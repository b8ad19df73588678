import type { FlowState } from './state.js';
import { loadFlow, type Flow } from './flow.js';
import { HTTPFlow } from './http-flow.js';
import { TCPFlow, UDPFlow } from './tcp-flow.js';
import { DNSFlow } from './dns.js';

/** Any concrete flow. */
export type AnyFlow = HTTPFlow | TCPFlow | UDPFlow | DNSFlow;

// Referenced so that bundlers keep the modules (they register their loaders on import).
void [HTTPFlow, TCPFlow, UDPFlow, DNSFlow];

/**
 * Load a flow from its serialized state (format 21), dispatching on `state.type`.
 * @throws StateError for an unknown type, a wrong version or unexpected fields.
 */
export function flowFromState(state: FlowState): AnyFlow {
  return loadFlow(state) as AnyFlow;
}

export type { Flow };
