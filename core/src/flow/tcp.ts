import type { TCPMessageState } from './state.js';

/** One chunk of data on a raw TCP (or UDP) connection. */
export class TCPMessage {
  /** True if the client sent it. */
  fromClient: boolean;
  content: Buffer;
  /** Seconds since the epoch. */
  timestamp: number;

  constructor(fromClient: boolean, content: Buffer, timestamp?: number) {
    this.fromClient = fromClient;
    this.content = content;
    this.timestamp = timestamp || Date.now() / 1000;
  }

  static fromState(state: TCPMessageState): TCPMessage {
    return new TCPMessage(state[0], state[1], state[2]);
  }

  getState(): TCPMessageState {
    return [this.fromClient, this.content, this.timestamp];
  }

  toString(): string {
    return `${this.fromClient ? '->' : '<-'} ${JSON.stringify(this.content.toString('latin1'))}`;
  }
}

/** One datagram on a UDP flow. */
export class UDPMessage extends TCPMessage {
  static override fromState(state: TCPMessageState): UDPMessage {
    return new UDPMessage(state[0], state[1], state[2]);
  }
}
