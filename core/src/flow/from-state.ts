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
 * Load a flow from its serialized state (format 21), dispatching on `state.type`. With `adopt`
 * the flow takes over the state's arrays and objects instead of copying them: pass it only for
 * a state nobody uses afterwards (the flow reader does).
 * @throws StateError for an unknown type, a wrong version or unexpected fields.
 */
export function flowFromState(state: FlowState, adopt = false): AnyFlow {
  return loadFlow(state, adopt) as AnyFlow;
}

export type { Flow };
