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
 * Date.now() when this module loaded. A message the proxy receives keeps its time as milliseconds
 * since then: a small integer stored in the object, where a timestamp in seconds would be one more
 * heap number per message (a long WebSocket session keeps millions of messages).
 */
const EPOCH_MS = Date.now();

const EMPTY = Buffer.alloc(0);

/**
 * One WebSocket message (reassembled from its frames). Content is always bytes; text messages
 * also expose {@link text}.
 */
export class WebSocketMessage {
  /** Opcode: 1 text, 2 binary. */
  type: number;
  /** True if the client sent it. */
  fromClient: boolean;
  /** True if mitmts did not forward it. */
  dropped: boolean;
  /** True if it was injected (did not come from a peer). */
  injected: boolean;
  // A received message keeps where its bytes are (memory, offset, length) and makes `content` the
  // first time it is read: kept messages then cost no Buffer object each until someone looks.
  #content: Buffer | null;
  #memory: ArrayBufferLike | null = null;
  #offset = 0;
  #length = 0;
  /** The timestamp in seconds, or null: then EPOCH_MS + #sinceEpochMs. */
  #timestamp: number | null;
  #sinceEpochMs = 0;

  constructor(
    type: number,
    fromClient: boolean,
    content: Buffer,
    timestamp?: number,
    dropped = false,
    injected = false,
  ) {
    this.type = type;
    this.fromClient = fromClient;
    this.#content = content;
    this.#timestamp = timestamp ?? Date.now() / 1000; // 0.0 is a valid saved timestamp, not "now"
    this.dropped = dropped;
    this.injected = injected;
  }

  /**
   * A message just received by the proxy, over `length` bytes at `offset` of `memory` (which
   * must not be written to later): its `content` a view of those bytes made when first read.
   * `nowMs` is `Date.now()` when its bytes arrived (the relay reads the clock once per read, not
   * per message).
   * @internal The WebSocket relay's constructor.
   */
  static received(
    type: number,
    fromClient: boolean,
    memory: ArrayBufferLike,
    offset: number,
    length: number,
    nowMs: number,
  ): WebSocketMessage {
    const m = new WebSocketMessage(type, fromClient, EMPTY, 0);
    m.#content = null;
    m.#memory = memory;
    m.#offset = offset;
    m.#length = length;
    m.#timestamp = null;
    m.#sinceEpochMs = nowMs - EPOCH_MS;
    return m;
  }

  /** The message's bytes. */
  get content(): Buffer {
    return (this.#content ??= Buffer.from(this.#memory!, this.#offset, this.#length));
  }

  set content(v: Buffer) {
    this.#content = v;
    this.#memory = null;
  }

  /** `content.length`, without making the `content` Buffer of a message nobody has looked at. */
  get size(): number {
    return this.#content === null ? this.#length : this.#content.length;
  }

  /**
   * Whether `content` was read or set since the message was made (else it is the bytes it was
   * received with). @internal For the relay: an untouched message is forwarded as it came.
   */
  get contentTouched(): boolean {
    return this.#content !== null;
  }

  /** When it was received or created, seconds since the epoch. */
  get timestamp(): number {
    return this.#timestamp ?? (EPOCH_MS + this.#sinceEpochMs) / 1000;
  }

  set timestamp(v: number) {
    this.#timestamp = v;
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
      throw new Error(
        `${name.charAt(0)}${name.slice(1).toLowerCase()} WebSocket frames do not have a 'text' attribute.`,
      );
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

/**
 * How many messages a {@link WebSocketData} keeps in `messages` (the oldest are left out first,
 * the newest is always kept). Unset fields do not limit; with neither set every message is kept,
 * as mitmproxy does.
 */
export interface WebSocketRetention {
  /** Keep at least the last `maxMessages` messages. */
  maxMessages?: number;
  /** Keep at least the newest messages whose contents add up to `maxBytes`. */
  maxBytes?: number;
}

/**
 * Everything about one WebSocket connection, attached to its handshake flow as `flow.websocket`.
 *
 * A long-lived connection would keep every message in memory (mitmproxy issue #6620); a
 * {@link retention} bounds `messages`, and {@link omittedMessages} / {@link omittedBytes} say what
 * was left out, so the flow never pretends to be complete.
 */
export class WebSocketData {
  messages: WebSocketMessage[] = [];
  /** Bounds on `messages`, applied by {@link addMessage}; null keeps everything. Not saved. */
  retention: WebSocketRetention | null = null;
  /** Messages left out of `messages` by the retention (saved in the flow's metadata). */
  omittedMessages = 0;
  /** Content bytes of the messages left out. */
  omittedBytes = 0;
  /** Content bytes of `messages` as counted when they were added (only tracked under a byte bound). */
  private keptBytes = 0;
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

  /**
   * Append a message (the relay calls this for every message, before the `websocket_message`
   * hook, so `messages.at(-1)` is the current one), then apply the {@link retention}.
   *
   * Trimming happens in batches so that a long session does not shift a big array per message:
   * the array grows to the bound plus an eighth (at least 64 messages) before the oldest are cut
   * back to the bound. So "keep N" keeps between N and about 1.125 N messages.
   */
  addMessage(message: WebSocketMessage): void {
    this.messages.push(message);
    const r = this.retention;
    if (r === null) return;
    if (r.maxBytes !== undefined) this.keptBytes += message.size;
    const maxN = r.maxMessages ?? Infinity;
    const maxB = r.maxBytes ?? Infinity;
    const n = this.messages.length;
    if (n > maxN + Math.max(64, Math.floor(maxN / 8)) || this.keptBytes > maxB + Math.max(4096, maxB / 8))
      this.trim(maxN, maxB);
  }

  private trim(maxN: number, maxB: number): void {
    const msgs = this.messages;
    let cut = Math.max(0, msgs.length - Math.max(1, maxN));
    if (maxB !== Infinity) {
      let bytes = 0;
      for (let i = msgs.length - 1; i >= cut; i--) {
        bytes += msgs[i]!.size;
        if (bytes > maxB && i < msgs.length - 1) {
          cut = i + 1;
          bytes -= msgs[i]!.size;
          break;
        }
      }
      this.keptBytes = bytes;
    }
    if (cut === 0) return;
    for (let i = 0; i < cut; i++) this.omittedBytes += msgs[i]!.size;
    this.omittedMessages += cut;
    msgs.splice(0, cut);
  }

  toString(): string {
    const omitted = this.omittedMessages ? `, ${this.omittedMessages} omitted` : '';
    return `<WebSocketData (${this.messages.length} messages${omitted})>`;
  }
}
