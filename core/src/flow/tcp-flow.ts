import type { TCPFlowState, UDPFlowState } from './state.js';
import { Flow, flowStateKeys, registerFlowType } from './flow.js';
import type { Client, Server } from './connection.js';
import { TCPMessage, UDPMessage } from './tcp.js';

const TCP_KEYS = flowStateKeys('tcp', ['messages']);
const UDP_KEYS = flowStateKeys('udp', ['messages']);

/** A raw TCP connection: the messages exchanged in both directions. */
export class TCPFlow extends Flow {
  readonly type = 'tcp' as const;
  messages: TCPMessage[] = [];

  constructor(clientConn: Client, serverConn: Server, live = false) {
    super(clientConn, serverConn, live);
  }

  static override fromState(state: TCPFlowState, adopt = false): TCPFlow {
    const f = new TCPFlow(undefined as never, undefined as never);
    f.setState(state, adopt);
    return f;
  }

  getState(): TCPFlowState {
    return this.withBackup({ ...this.baseState(), type: 'tcp', messages: this.messages.map((m) => m.getState()) });
  }

  setState(state: TCPFlowState, adopt = false): void {
    this.setBaseState(state, TCP_KEYS, adopt);
    this.messages = state.messages.map((m) => TCPMessage.fromState(m));
  }

  override toString(): string {
    return `<TCPFlow (${this.messages.length} messages)>`;
  }
}

/** A UDP "connection": the datagrams exchanged in both directions. */
export class UDPFlow extends Flow {
  readonly type = 'udp' as const;
  messages: UDPMessage[] = [];

  constructor(clientConn: Client, serverConn: Server, live = false) {
    super(clientConn, serverConn, live);
  }

  static override fromState(state: UDPFlowState, adopt = false): UDPFlow {
    const f = new UDPFlow(undefined as never, undefined as never);
    f.setState(state, adopt);
    return f;
  }

  getState(): UDPFlowState {
    return this.withBackup({ ...this.baseState(), type: 'udp', messages: this.messages.map((m) => m.getState()) });
  }

  setState(state: UDPFlowState, adopt = false): void {
    this.setBaseState(state, UDP_KEYS, adopt);
    this.messages = state.messages.map((m) => UDPMessage.fromState(m));
  }

  override toString(): string {
    return `<UDPFlow (${this.messages.length} messages)>`;
  }
}

registerFlowType('tcp', (s, adopt) => TCPFlow.fromState(s as TCPFlowState, adopt));
registerFlowType('udp', (s, adopt) => UDPFlow.fromState(s as UDPFlowState, adopt));
