import type { WebSocketDataState, WebSocketMessageState } from './state.js';
import { checkKeys } from './connection.js';
import { decodeUtf8Strict } from './bytes.js';

/** WebSocket opcodes of data messages. */
export enum WebSocketOpcode {
  CONTINUATION = 0,
  TEXT = 1,
  BINARY = 2,
  CLOSE = 8,
  PING = 9,
  PONG = 10,
}

/**
 * One WebSocket message (reassembled from its frames). Content is always bytes; text messages
 * also expose {@link text}.
 */
export class WebSocketMessage {
  /** Opcode: 1 text, 2 binary. */
  type: number;
  /** True if the client sent it. */
  fromClient: boolean;
  content: Buffer;
  /** When it was received or created, seconds since the epoch. */
  timestamp: number;
  /** True if mitmts did not forward it. */
  dropped: boolean;
  /** True if it was injected (did not come from a peer). */
  injected: boolean;

  constructor(type: number, fromClient: boolean, content: Buffer, timestamp?: number, dropped = false, injected = false) {
    this.type = type;
    this.fromClient = fromClient;
    this.content = content;
    this.timestamp = timestamp || Date.now() / 1000;
    this.dropped = dropped;
    this.injected = injected;
  }

  static fromState(state: WebSocketMessageState): WebSocketMessage {
    const [type, fromClient, content, timestamp, dropped, injected] = state;
    return new WebSocketMessage(type, fromClient, content, timestamp, dropped, injected);
  }

  getState(): WebSocketMessageState {
    return [this.type, this.fromClient, this.content, this.timestamp, this.dropped, this.injected];
  }

  /** True for text messages (opcode 1). */
  get isText(): boolean {
    return this.type === WebSocketOpcode.TEXT;
  }

  /** The content as text; only for text messages. @throws Error on a binary message. */
  get text(): string {
    this.assertText();
    return decodeUtf8Strict(this.content);
  }

  set text(v: string) {
    this.assertText();
    this.content = Buffer.from(v, 'utf8');
  }

  private assertText(): void {
    if (!this.isText) {
      const name = WebSocketOpcode[this.type] ?? String(this.type);
      throw new Error(`${name.charAt(0)}${name.slice(1).toLowerCase()} WebSocket frames do not have a 'text' attribute.`);
    }
  }

  /** Do not forward this message to the other peer. */
  drop(): void {
    this.dropped = true;
  }

  toString(): string {
    return this.isText ? JSON.stringify(this.content.toString('utf8')) : `<${this.content.length} bytes>`;
  }
}

const WS_KEYS = ['messages', 'closed_by_client', 'close_code', 'close_reason', 'timestamp_end'];

/** Everything about one WebSocket connection, attached to its handshake flow as `flow.websocket`. */
export class WebSocketData {
  messages: WebSocketMessage[] = [];
  /** True if the client closed the connection, false if the server did, null while open. */
  closedByClient: boolean | null = null;
  /** Close code (RFC 6455 7.1.5). */
  closeCode: number | null = null;
  closeReason: string | null = null;
  /** When the connection closed. */
  timestampEnd: number | null = null;

  static fromState(state: WebSocketDataState): WebSocketData {
    const d = new WebSocketData();
    d.setState(state);
    return d;
  }

  getState(): WebSocketDataState {
    return {
      messages: this.messages.map((m) => m.getState()),
      closed_by_client: this.closedByClient,
      close_code: this.closeCode,
      close_reason: this.closeReason,
      timestamp_end: this.timestampEnd,
    };
  }

  setState(state: WebSocketDataState): void {
    checkKeys(state, WS_KEYS, 'websocket');
    this.messages = state.messages.map((m) => WebSocketMessage.fromState(m));
    this.closedByClient = state.closed_by_client;
    this.closeCode = state.close_code;
    this.closeReason = state.close_reason;
    this.timestampEnd = state.timestamp_end;
  }

  toString(): string {
    return `<WebSocketData (${this.messages.length} messages)>`;
  }
}
