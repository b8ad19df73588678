/**
 * Synchronous raw DEFLATE with a context that lives across calls, on `node:zlib`.
 *
 * permessage-deflate with context takeover needs one LZ77 window per direction that carries over
 * from message to message. Node's public sync API (`inflateRawSync`/`deflateRawSync`) starts a new
 * zlib stream per call, and its streams flush asynchronously. Measured per ~50-byte message
 * (bench/websocket.mjs, `--zlib`): one-shot sync calls with the window passed as `dictionary`
 * cost ~30 us to inflate and ~160 us to deflate, a stream with `flush()` ~100 us of event-loop
 * round trips, while driving the stream's zlib handle synchronously (what Node's own sync API does
 * internally, minus closing the handle afterwards) costs ~1 us to inflate and ~3 us to deflate.
 * So this file drives the handle (`_handle.writeSync`, `_writeState`), and falls back to the
 * dictionary route, public API only, if a Node version ever lacks those internals.
 */
import buffer, { Buffer } from 'node:buffer';
import zlib from 'node:zlib';

const { Z_SYNC_FLUSH } = zlib.constants;

/** The zlib handle of a Node zlib stream, as Node's own `processChunkSync` drives it. */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Buffer,
    inOff: number,
    inLen: number,
    out: Buffer,
    outOff: number,
    outLen: number,
  ): void;
}
interface ZlibInternals {
  _handle: ZlibHandle | null;
  _writeState: Uint32Array;
}

/** Output scratch space shared by all contexts: calls are synchronous, so one buffer serves all. */
const SCRATCH = Buffer.allocUnsafe(64 * 1024);
const WINDOW_MAX = 1 << 15;

function hasHandle(s: zlib.InflateRaw | zlib.DeflateRaw): boolean {
  const z = s as unknown as Partial<ZlibInternals>;
  return typeof z._handle?.writeSync === 'function' && z._writeState instanceof Uint32Array;
}

/** Thrown when output would exceed the caller's limit. */
export class OutputTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`output exceeds ${limit} bytes`);
  }
}

/** Options of a {@link SyncZlib}. */
export interface SyncZlibOptions {
  /** 8-15; Node raises 8 to 9 for raw streams (zlib 1.2.9 and later). */
  windowBits: number;
  /** Deflate level, default `Z_DEFAULT_COMPRESSION`. */
  level?: number;
  /** Deflate memory level, default 8. */
  memLevel?: number;
  /** @internal For tests: `false` forces the public-API fallback. */
  viaHandle?: boolean;
}

/**
 * One raw inflate or deflate context. `process(input, limit)` runs `input` through it with
 * Z_SYNC_FLUSH and returns all output; the context (the LZ77 window) carries over to the next
 * call until {@link reset}.
 */
export class SyncZlib {
  private stream: zlib.InflateRaw | zlib.DeflateRaw;
  private readonly viaHandle: boolean;
  /** Fallback only: the last 32 KiB of uncompressed data, passed as the next call's dictionary. */
  private window: Buffer | null = null;

  constructor(
    private readonly mode: 'inflate' | 'deflate',
    private readonly options: SyncZlibOptions,
  ) {
    this.stream = this.create();
    this.viaHandle = options.viaHandle !== false && hasHandle(this.stream);
  }

  private create(): zlib.InflateRaw | zlib.DeflateRaw {
    const o = {
      windowBits: Math.max(9, this.options.windowBits),
      level: this.options.level,
      memLevel: this.options.memLevel,
    };
    const s = this.mode === 'inflate' ? zlib.createInflateRaw({ windowBits: o.windowBits }) : zlib.createDeflateRaw(o);
    // Errors are read synchronously from `errored`; the stream's own 'error' event (next tick) must not crash the process.
    s.on('error', () => undefined);
    return s;
  }

  /**
   * Run `input` through the context with a sync flush. A deflate's output ends with the empty
   * stored block `00 00 ff ff`.
   * @throws OutputTooLarge when the output would exceed `limit` bytes (the context is then
   * unusable), Error with zlib's message on corrupt input (likewise).
   */
  process(input: Buffer, limit = Number.MAX_SAFE_INTEGER): Buffer {
    return this.viaHandle ? this.viaZlibHandle(input, limit) : this.viaDictionary(input, limit);
  }

  private viaZlibHandle(input: Buffer, limit: number): Buffer {
    const z = this.stream as unknown as ZlibInternals;
    const handle = z._handle;
    if (handle === null) throw new Error('zlib context is closed');
    const state = z._writeState;
    let inOff = 0;
    let inLen = input.length;
    let first: Buffer | null = null;
    let more: Buffer[] | null = null;
    let total = 0;
    for (;;) {
      handle.writeSync(Z_SYNC_FLUSH, input, inOff, inLen, SCRATCH, 0, SCRATCH.length);
      if (this.stream.destroyed) throw this.stream.errored ?? new Error('zlib failed');
      const availOut = state[0]!;
      const availIn = state[1]!;
      const have = SCRATCH.length - availOut;
      if (have > 0) {
        total += have;
        if (total > limit) {
          this.close();
          throw new OutputTooLarge(limit);
        }
        const part = Buffer.allocUnsafe(have);
        SCRATCH.copy(part, 0, 0, have);
        if (first === null) first = part;
        else (more ??= [first]).push(part);
      }
      inOff += inLen - availIn;
      inLen = availIn;
      if (availOut !== 0) {
        // Input left over with room to spare: the stream ended (a block with BFINAL). Start a new
        // stream for the next message (the old window is lost; see the README).
        if (inLen > 0 && this.mode === 'inflate') this.reset();
        break;
      }
    }
    if (more) return Buffer.concat(more, total);
    return first ?? Buffer.alloc(0);
  }

  private viaDictionary(input: Buffer, limit: number): Buffer {
    const opts: zlib.ZlibOptions = {
      windowBits: Math.max(9, this.options.windowBits),
      finishFlush: Z_SYNC_FLUSH,
      maxOutputLength: Math.min(limit, buffer.kMaxLength),
    };
    if (this.window) opts.dictionary = this.window;
    let out: Buffer;
    try {
      out =
        this.mode === 'inflate'
          ? zlib.inflateRawSync(input, opts)
          : zlib.deflateRawSync(input, { ...opts, level: this.options.level, memLevel: this.options.memLevel });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new OutputTooLarge(limit);
      throw e;
    }
    const plain = this.mode === 'inflate' ? out : input;
    const w = this.window ? Buffer.concat([this.window, plain]) : plain;
    this.window = w.length > WINDOW_MAX ? Buffer.from(w.subarray(w.length - WINDOW_MAX)) : w;
    return out;
  }

  /** Forget the window (no context takeover: called after each message). */
  reset(): void {
    this.window = null;
    if (this.viaHandle) {
      if (this.stream.destroyed) this.stream = this.create();
      else this.stream.reset();
    }
  }

  /** Free zlib's memory. */
  close(): void {
    this.stream.close();
  }
}
