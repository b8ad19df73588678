/**
 * Live bodies: a response matching `live_bodies` (by default every `text/event-stream`) goes to
 * the client chunk by chunk as it arrives, is still recorded whole in the flow, and hooks see it
 * as it passes: `response_chunk` for each chunk, `sse_event` for each Server-Sent Event (decoded
 * first when the stream is gzip'd, deflate'd or br'd). The `response` hook fires at the end with
 * the whole body, after every chunk and event hook. A flow keeps the first
 * `live_bodies_keep_size` bytes of a live body; the rest still goes through, counted in its
 * metadata.
 */
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import type { HTTPFlow } from '../../flow/index.js';
import { parseFilter } from '../../filter/filter.js';
import type { HookTable } from '../../hooks/dispatcher.js';
import type { HookResult } from '../../hooks/hookmap.js';
import { isEventStream, SseParser, type SseEvent } from '../../io/sse.js';
import { OptionsError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/log.js';
import type { ChunkTap, KeepLimit } from './body.js';

/** The default of `live_bodies`: event streams (answered without a filter: no cost per response). */
export const LIVE_BODIES_DEFAULT = '~ts text/event-stream';

/** Does a flow's response go live? (Called after `responseheaders`.) */
export type LiveMatcher = (flow: HTTPFlow) => boolean;

/**
 * The matcher for a `live_bodies` value: null when empty (nothing is live: mitmproxy's
 * behaviour, event streams are held until they end). An invalid filter is an OptionsError.
 */
export function liveMatcher(spec: string): LiveMatcher | null {
  if (spec.trim() === '') return null;
  if (spec === LIVE_BODIES_DEFAULT) return (f) => isEventStream(f.response?.headers.get('content-type'));
  try {
    const filter = parseFilter(spec);
    return (f) => filter.match(f);
  } catch (err) {
    throw new OptionsError(`Option live_bodies: ${(err as Error).message}`);
  }
}

/** The flow metadata key of a live body cut by `live_bodies_keep_size`: `{ kept, omitted }` bytes. */
export const LIVE_BODY_OMITTED = 'live_body_omitted';

/** What {@link LIVE_BODY_OMITTED} holds. */
export interface LiveBodyOmitted {
  /** Bytes the flow kept (the first ones of the body, as sent: still encoded). */
  readonly kept: number;
  /** Bytes that went to the client past them, not kept. */
  readonly omitted: number;
}

/** Note in the flow that its live body keeps only its first `kept` bytes, `omitted` more went through. */
export function markOmitted(flow: HTTPFlow, kept: number, omitted: number): void {
  const mark: LiveBodyOmitted = { kept, omitted };
  flow.metadata[LIVE_BODY_OMITTED] = mark;
}

/**
 * The keep limit of a live body (`live_bodies_keep_size`): once it is passed, one warning names
 * the option (the exchange marks the flow with {@link markOmitted} once the body ended).
 */
export function liveKeepLimit(flow: HTTPFlow, bytes: number, log: Logger, where: string): KeepLimit {
  return {
    bytes,
    reached: () =>
      log.warn(
        `${where}: live body of ${flow.request.method} ${flow.request.prettyUrl} passed live_bodies_keep_size (${bytes} bytes): it still goes to the client and the hooks, but the flow keeps only its first ${bytes} bytes (metadata ${LIVE_BODY_OMITTED} counts the rest). Raise live_bodies_keep_size (or set it empty) to keep more.`,
      ),
  };
}

type Decoder = zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress;

function decoderFor(encoding: string): Decoder | null | undefined {
  switch (encoding) {
    case '':
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined; // not decodable here: no events
  }
}

/**
 * The hooks of one live response. {@link tap} goes into the body relay; {@link finish} runs once
 * the body is through and settles when every hook it caused has (hooks run in order: one that
 * returns a promise delays the next chunk's or event's hooks, never the bytes to the client).
 */
export class LiveBody {
  private chain: Promise<void> | null = null;
  private readonly chunks: boolean;
  private readonly parser: SseParser | null = null;
  private readonly text = new StringDecoder('utf8');
  private readonly decoder: Decoder | null = null;
  private decoded: Promise<void> | null = null;
  readonly tap: ChunkTap;

  constructor(
    private readonly flow: HTTPFlow,
    private readonly table: HookTable,
  ) {
    this.chunks = table.has('response_chunk');
    const headers = flow.response!.headers;
    const events = table.has('sse_event') && isEventStream(headers.get('content-type'));
    if (events) {
      const decoder = decoderFor((headers.get('content-encoding') ?? '').trim().toLowerCase());
      if (decoder !== undefined) {
        this.parser = new SseParser();
        this.decoder = decoder;
        if (decoder !== null) {
          decoder.on('data', (d: Buffer) => this.parse(d));
          this.decoded = new Promise((resolve) => {
            decoder.once('end', resolve);
            decoder.once('error', () => resolve()); // a damaged stream: the events so far
          });
        }
      }
    }
    this.tap = (chunk) => {
      if (this.chunks) {
        const copy = Buffer.from(chunk); // the chunk is a view into a reused read buffer
        this.fire(() => this.table.trigger('response_chunk', this.flow, copy));
      }
      if (this.decoder !== null) this.decoder.write(Buffer.from(chunk));
      else if (this.parser !== null) this.parse(chunk);
    };
  }

  /** The body is through: the last events, then every pending hook. */
  finish(): Promise<void> | void {
    if (this.parser === null) return this.chain ?? undefined;
    if (this.decoder === null) {
      this.end();
      return this.chain ?? undefined;
    }
    this.decoder.end();
    return this.decoded!.then(() => {
      this.end();
      return this.chain ?? undefined;
    });
  }

  private end(): void {
    this.emit(this.parser!.push(this.text.end()));
    this.emit(this.parser!.end());
  }

  private parse(data: Buffer): void {
    this.emit(this.parser!.push(this.text.write(data)));
  }

  private emit(events: readonly SseEvent[]): void {
    for (const e of events) this.fire(() => this.table.trigger('sse_event', this.flow, e));
  }

  /** Run a hook now, or after the pending ones (a hook returned a promise). */
  private fire(run: () => HookResult): void {
    if (this.chain !== null) {
      this.chain = this.chain.then(run);
      return;
    }
    const r = run();
    if (r) this.chain = r;
  }
}
