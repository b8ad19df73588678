import type { HTTPFlowState } from './state.js';
import { Flow, flowStateKeys, registerFlowType } from './flow.js';
import type { Client, Server } from './connection.js';
import { Request } from './request.js';
import { Response } from './response.js';
import { WebSocketData } from './websocket.js';

const KEYS = flowStateKeys('http', ['request', 'response', 'websocket']);

/**
 * Metadata key of a saved flow whose WebSocket retention left messages out:
 * `{ messages: number, bytes: number }` (read back into `WebSocketData.omittedMessages/Bytes`).
 */
export const WEBSOCKET_OMITTED = 'websocket_omitted';

/**
 * One HTTP request/response exchange (and, after an upgrade, its WebSocket messages).
 * A flow can have both a response and an error, e.g. when the response could not be sent on.
 */
export class HTTPFlow extends Flow {
  readonly type = 'http' as const;
  /** The client's request. Always set once the flow reaches any hook. */
  declare request: Request;
  /** The server's response, or null. */
  response: Response | null = null;
  /** WebSocket data if this flow upgraded to WebSocket, else null. */
  websocket: WebSocketData | null = null;

  constructor(clientConn: Client, serverConn: Server, live = false) {
    super(clientConn, serverConn, live);
  }

  /** Alias for the request's `timestampStart`. */
  override get timestampStart(): number {
    return this.request.timestampStart;
  }

  /** Load a flow from its state; `adopt` as for {@link Flow.setState}. */
  static override fromState(state: HTTPFlowState, adopt = false): HTTPFlow {
    // Connections (and the id) are set by setState.
    const f = new HTTPFlow(undefined as never, undefined as never);
    f.setState(state, adopt);
    return f;
  }

  getState(): HTTPFlowState {
    const base = this.baseState();
    const ws = this.websocket;
    // mitmproxy's WebSocketData state takes no extra keys: what retention left out goes in metadata.
    if (ws !== null && ws.omittedMessages > 0)
      base.metadata[WEBSOCKET_OMITTED] = { messages: ws.omittedMessages, bytes: ws.omittedBytes };
    return this.withBackup({
      ...base,
      type: 'http',
      request: this.request.getState(),
      response: this.response ? this.response.getState() : null,
      websocket: ws ? ws.getState() : null,
    });
  }

  setState(state: HTTPFlowState, adopt = false): void {
    this.setBaseState(state, KEYS, adopt);
    this.request = Request.fromState(state.request, adopt);
    this.response = state.response ? Response.fromState(state.response, adopt) : null;
    this.websocket = state.websocket ? WebSocketData.fromState(state.websocket) : null;
    const omitted = this.metadata[WEBSOCKET_OMITTED] as { messages?: unknown; bytes?: unknown } | undefined;
    if (
      this.websocket !== null &&
      omitted !== null &&
      typeof omitted === 'object' &&
      typeof omitted.messages === 'number'
    ) {
      this.websocket.omittedMessages = omitted.messages;
      this.websocket.omittedBytes = typeof omitted.bytes === 'number' ? omitted.bytes : 0;
      if (this.metadata === state.metadata) this.metadata = { ...this.metadata };
      delete this.metadata[WEBSOCKET_OMITTED];
    }
  }

  override toString(): string {
    const parts = [`request = ${this.request}`];
    if (this.response) parts.push(`response = ${this.response}`);
    if (this.websocket) parts.push(`websocket = ${this.websocket}`);
    if (this.error) parts.push(`error = ${this.error}`);
    return `<HTTPFlow\n  ${parts.join('\n  ')}>`;
  }
}

registerFlowType('http', (s, adopt) => HTTPFlow.fromState(s as HTTPFlowState, adopt));
