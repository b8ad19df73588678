/**
 * permessage-deflate (RFC 7692) for one direction of a proxied connection: a decompressor that
 * follows the sender's context (so every message can be shown decoded), and the proxy's own
 * compressor for messages it re-encodes.
 *
 * Why a direction becomes "diverged": with context takeover, the receiver's inflater window holds
 * every message it decoded. Once the proxy changes, drops or re-compresses a message, that window
 * no longer matches the sender's compressor, so the sender's later compressed frames could refer to
 * bytes the receiver never saw. From then on every compressed message in that direction is
 * decoded and compressed again with the proxy's own context (whose history is exactly what the
 * receiver got since). Without context takeover each message stands alone and nothing sticks.
 */
import { Buffer } from 'node:buffer';
import type { DeflateParams } from './extensions.js';
import { WebSocketError, WebSocketErrorCodes as C } from './errors.js';
import { OutputTooLarge, SyncZlib } from './zlib-sync.js';

/** The empty stored block that ends every flushed message, removed by senders (RFC 7692 section 7.2.1). */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Options of a {@link DeflateDirection}. */
export interface DeflateDirectionOptions {
  /** zlib level of the proxy's compressor (default `Z_DEFAULT_COMPRESSION`). */
  level?: number;
  /** @internal For tests: force the public-API zlib route. */
  viaHandle?: boolean;
}

/** permessage-deflate state of one direction (client-to-server or server-to-client). */
export class DeflateDirection {
  /** The sender keeps its compression context between messages. */
  readonly contextTakeover: boolean;
  /** The sender's (and so the proxy's) LZ77 window for this direction, 8-15. */
  readonly windowBits: number;
  private readonly inflater: SyncZlib;
  private deflater: SyncZlib | null = null;
  private diverged = false;

  constructor(
    params: DeflateParams,
    readonly fromClient: boolean,
    private readonly options: DeflateDirectionOptions = {},
  ) {
    this.contextTakeover = !(fromClient ? params.clientNoContextTakeover : params.serverNoContextTakeover);
    this.windowBits = fromClient ? params.clientMaxWindowBits : params.serverMaxWindowBits;
    // The inflater may use the largest window: a smaller sender window is a subset.
    this.inflater = new SyncZlib('inflate', { windowBits: 15, viaHandle: options.viaHandle });
  }

  /**
   * Whether the proxy must compress every later message of this direction itself (see the file
   * comment). Becomes true on {@link diverge} when the sender keeps its context.
   */
  get mustReencode(): boolean {
    return this.diverged;
  }

  /** Record that the receiver's window no longer follows the sender's (a message was changed, dropped or re-compressed). */
  diverge(): void {
    if (this.contextTakeover) this.diverged = true;
  }

  /**
   * Decode one compressed message from its frames' payloads (in order).
   * @throws WebSocketError TOO_BIG when the decoded message would exceed `limit` bytes,
   * BAD_COMPRESSION when the data does not inflate.
   */
  inflate(payloads: readonly Buffer[], limit: number): Buffer {
    const input = Buffer.concat(payloads.length === 1 ? [payloads[0]!, TAIL] : [...payloads, TAIL]);
    let out: Buffer;
    try {
      out = this.inflater.process(input, limit);
    } catch (e) {
      if (e instanceof OutputTooLarge) {
        throw new WebSocketError(
          C.TOO_BIG,
          'message too big',
          `the decompressed message exceeds the limit of ${limit} bytes`,
        );
      }
      throw new WebSocketError(
        C.BAD_COMPRESSION,
        'invalid compressed data',
        `permessage-deflate data does not inflate (${(e as Error).message})`,
      );
    }
    // The sender resets per message, so the next message does not refer to this one: forgetting
    // the window keeps the inflater equivalent and is free.
    if (!this.contextTakeover) this.inflater.reset();
    return out;
  }

  /**
   * Compress one message with the proxy's own context for this direction; the result goes in
   * frames with RSV1 set on the first. Marks the direction diverged.
   */
  deflate(data: Buffer): Buffer {
    this.deflater ??= new SyncZlib('deflate', {
      windowBits: this.windowBits,
      level: this.options.level,
      viaHandle: this.options.viaHandle,
    });
    let out = this.deflater.process(data);
    if (
      out.length >= 4 &&
      out[out.length - 4] === 0 &&
      out[out.length - 3] === 0 &&
      out[out.length - 2] === 0xff &&
      out[out.length - 1] === 0xff
    ) {
      out = out.subarray(0, out.length - 4);
    }
    if (!this.contextTakeover) this.deflater.reset();
    this.diverge();
    return out;
  }

  /** Free both zlib contexts. */
  close(): void {
    this.inflater.close();
    this.deflater?.close();
  }
}
