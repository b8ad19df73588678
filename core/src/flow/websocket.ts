import type { WebSocketDataState, WebSocketMessageState } from './state.js';
import { checkKeys } from './connection.js';
import { decodeUtf8Strict } from './bytes.js';
import { type LoggedMessage, MessageLog } from './websocket-log.js';

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
  // Messages are in `#list`, then (newer ones) in `#log` until `messages` is read: the proxy logs
  // what it relays compactly (see websocket-log.ts) and makes objects only for someone who looks.
  #list: WebSocketMessage[] = [];
  #log: MessageLog | null = null;
  /** Messages ever moved out of the log (made into objects or left out): the number of the log's first. */
  #logBase = 0;
  /** Per direction (0: from the server, 1: from the client): the number of the message the relay handles, and its object once made. */
  readonly #watch = [-1, -1];
  readonly #made: [WebSocketMessage | null, WebSocketMessage | null] = [null, null];
  /** Bounds on `messages`, applied as messages are added; null keeps everything. Not saved. */
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

  /**
   * The messages, oldest first (mitmproxy's `messages` list). The same array every time it is
   * read, until one is assigned; messages the proxy received since the last read are made into
   * {@link WebSocketMessage} objects when it is read.
   */
  get messages(): WebSocketMessage[] {
    if (this.#log !== null && this.#log.count > 0) this.flushLog();
    return this.#list;
  }

  set messages(list: WebSocketMessage[]) {
    this.#list = list;
    if (this.#log !== null) {
      this.#logBase += this.#log.count;
      this.#log.clear();
    }
  }

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
   * Append a message object, then apply the {@link retention}.
   *
   * Trimming happens in batches so that a long session does not shift a big array per message:
   * the array grows to the bound plus an eighth (at least 64 messages) before the oldest are cut
   * back to the bound. So "keep N" keeps between N and about 1.125 N messages.
   */
  addMessage(message: WebSocketMessage): void {
    this.messages.push(message);
    this.retain(message.size);
  }

  /**
   * Log a message the proxy received, its content `src[from, to)` (`adopt`: `src` is never
   * written to again, so a large content may be kept without a copy); `ms` is `Date.now()` when
   * it arrived. Returns the log, whose `bytes`/`offset`/`length` say where the content is now
   * (the relay checks it there). Then {@link logged} (or `pop()` on the log if it failed a check).
   * @internal The WebSocket relay's.
   */
  logMessage(
    type: number,
    fromClient: boolean,
    src: Buffer,
    from: number,
    to: number,
    adopt: boolean,
    ms: number,
  ): MessageLog {
    const log = (this.#log ??= new MessageLog());
    log.append(type, fromClient, src, from, to, adopt, ms);
    return log;
  }

  /**
   * {@link logMessage} for a content of `n` bytes the caller writes at the log's
   * `bytes[offset, offset + n)` at once (a client's frame, unmasked into place).
   * @internal The WebSocket relay's.
   */
  logSpace(type: number, fromClient: boolean, n: number, ms: number): MessageLog {
    const log = (this.#log ??= new MessageLog());
    log.appendSpace(type, fromClient, n, ms);
    return log;
  }

  /**
   * The message just logged passed its checks: it is the message of its direction the relay now
   * handles ({@link made}), and the {@link retention} applies.
   * @internal The WebSocket relay's.
   */
  logged(fromClient: boolean): void {
    const log = this.#log!;
    const d = fromClient ? 1 : 0;
    this.#watch[d] = this.#logBase + log.count - 1;
    this.#made[d] = null;
    this.retain(log.length);
  }

  /**
   * The object made for the message of this direction last {@link logged}, if `messages` was read
   * since (someone may have changed it), else null (nobody saw it: it is as received).
   * @internal The WebSocket relay's.
   */
  made(fromClient: boolean): WebSocketMessage | null {
    const d = fromClient ? 1 : 0;
    const m = this.#made[d];
    this.#made[d] = null;
    this.#watch[d] = -1;
    return m;
  }

  /** Make objects of the logged messages, at the end of `#list`. */
  private flushLog(): void {
    const log = this.#log!;
    const list = this.#list;
    const e: LoggedMessage = { type: 0, fromClient: false, bytes: EMPTY, offset: 0, length: 0, ms: 0 };
    for (let i = 0; i < log.count; i++) {
      log.at(i, e);
      const m = WebSocketMessage.received(
        e.type,
        e.fromClient,
        e.bytes.buffer,
        e.bytes.byteOffset + e.offset,
        e.length,
        e.ms,
      );
      list.push(m);
      const n = this.#logBase + i;
      if (n === this.#watch[0]) this.#made[0] = m;
      else if (n === this.#watch[1]) this.#made[1] = m;
    }
    this.#logBase += log.count;
    log.clear();
  }

  private get count(): number {
    return this.#list.length + (this.#log?.count ?? 0);
  }

  /** Content size of message `k` of all held (`#list`, then the log). */
  private sizeAt(k: number): number {
    const list = this.#list;
    return k < list.length ? list[k]!.size : this.#log!.size(k - list.length);
  }

  /** A message of `size` bytes was added: cut the oldest when the bounds (plus slack) are passed. */
  private retain(size: number): void {
    const r = this.retention;
    if (r === null) return;
    if (r.maxBytes !== undefined) this.keptBytes += size;
    const maxN = r.maxMessages ?? Infinity;
    const maxB = r.maxBytes ?? Infinity;
    if (this.count > maxN + Math.max(64, Math.floor(maxN / 8)) || this.keptBytes > maxB + Math.max(4096, maxB / 8))
      this.trim(maxN, maxB);
  }

  private trim(maxN: number, maxB: number): void {
    const n = this.count;
    let cut = Math.max(0, n - Math.max(1, maxN));
    if (maxB !== Infinity) {
      let bytes = 0;
      for (let i = n - 1; i >= cut; i--) {
        const size = this.sizeAt(i);
        bytes += size;
        if (bytes > maxB && i < n - 1) {
          cut = i + 1;
          bytes -= size;
          break;
        }
      }
      this.keptBytes = bytes;
    }
    if (cut === 0) return;
    for (let i = 0; i < cut; i++) this.omittedBytes += this.sizeAt(i);
    this.omittedMessages += cut;
    const fromList = Math.min(cut, this.#list.length);
    if (fromList > 0) this.#list.splice(0, fromList);
    if (cut > fromList) {
      this.#log!.shift(cut - fromList);
      this.#logBase += cut - fromList;
    }
  }

  toString(): string {
    const omitted = this.omittedMessages ? `, ${this.omittedMessages} omitted` : '';
    return `<WebSocketData (${this.messages.length} messages${omitted})>`;
  }
}
