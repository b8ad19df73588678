/**
 * Reading flow files: mitmproxy `.mitm` files of any format version mitmproxy reads (migrated
 * to 21) and HAR files (detected by their leading `{`). Streaming and constant memory: records
 * are decoded as they arrive and nothing is kept after a flow was yielded.
 */
import { flowFromState, type AnyFlow } from '../flow/from-state.js';
import type { Filter } from '../filter/filter.js';
import type { FlowState } from '../flow/state.js';
import { FlowReadError, FlowReadErrorCode } from './errors.js';
import { flowFileFormatOf, type FlowFile } from './formats.js';
import {
  asyncChunks,
  DEFAULT_CHUNK_SIZE,
  type FlowSource,
  ownsChunks,
  sourceName,
  sourcePath,
  syncChunks,
} from './sources.js';
import { FlowStateDecoder } from './state-decoder.js';

export type { FlowSource } from './sources.js';

export interface FlowReaderOptions {
  /** Name used in error messages (defaults to the path for file sources). */
  name?: string;
  /**
   * Read size for file sources, in bytes (default 64 KiB). Flows are views of the chunk they
   * were read in, so this is also the most one flow kept alone holds in memory (or its own
   * record, if larger).
   */
  chunkSize?: number;
  /**
   * Only flows matching this filter (flows, not raw states). A registered indexed format (the
   * store's SQLite files) uses it to skip what cannot match.
   */
  filter?: Filter | null;
}

/** The file at `source` if it is in a format a package registered (formats.ts), else null. */
function registeredFile(source: FlowSource): FlowFile | null {
  const path = sourcePath(source);
  const format = path === undefined ? undefined : flowFileFormatOf(path);
  return format ? format.open(path!) : null;
}

/** {@link registeredFile}, letting the format load what it needs first. */
async function registeredFileAsync(source: FlowSource): Promise<FlowFile | null> {
  const path = sourcePath(source);
  const format = path === undefined ? undefined : flowFileFormatOf(path);
  if (!format) return null;
  await format.prepare?.();
  return format.open(path!);
}

function* flowsOf(file: FlowFile, filter: Filter | null): Generator<AnyFlow> {
  try {
    yield* file.flows(filter) as Iterable<AnyFlow>;
  } finally {
    file.close();
  }
}

function named(e: unknown, name: string | undefined): unknown {
  return e instanceof FlowReadError && name !== undefined ? e.withFile(name) : e;
}

function toFlow(state: FlowState, decoder: FlowStateDecoder): AnyFlow {
  try {
    // The state was decoded for this flow alone: the flow may take over its arrays.
    return flowFromState(state, true);
  } catch (e) {
    const { index, offset } = decoder.last;
    const where = offset >= 0 ? `flow record #${index + 1} at byte ${offset}` : `HAR entry #${index + 1}`;
    throw new FlowReadError(
      FlowReadErrorCode.INVALID,
      `${where} is not a valid ${String(state.type)} flow: ${(e as Error).message} The record is damaged or was not written by mitmproxy.`,
      { offset, record: index, cause: e },
    );
  }
}

/** Format 21 states from a source, synchronously (files, bytes, sync iterables). */
export function* readStatesSync(source: FlowSource, options: FlowReaderOptions = {}): Generator<FlowState> {
  const file = registeredFile(source);
  if (file !== null) {
    for (const flow of flowsOf(file, null)) yield flow.getState();
    return;
  }
  const name = options.name ?? sourceName(source);
  const decoder = new FlowStateDecoder();
  try {
    const owned = ownsChunks(source);
    for (const chunk of syncChunks(source, options.chunkSize ?? DEFAULT_CHUNK_SIZE)) yield* decoder.push(chunk, owned);
    yield* decoder.end();
  } catch (e) {
    throw named(e, name);
  }
}

/** Format 21 states from any source, asynchronously. */
export async function* readStates(source: FlowSource, options: FlowReaderOptions = {}): AsyncGenerator<FlowState> {
  const file = await registeredFileAsync(source);
  if (file !== null) {
    for (const flow of flowsOf(file, null)) yield flow.getState();
    return;
  }
  const name = options.name ?? sourceName(source);
  const decoder = new FlowStateDecoder();
  try {
    const owned = ownsChunks(source);
    for await (const chunk of asyncChunks(source, options.chunkSize ?? DEFAULT_CHUNK_SIZE))
      yield* decoder.push(chunk, owned);
    yield* decoder.end();
  } catch (e) {
    throw named(e, name);
  }
}

/**
 * mitmproxy's `FlowReader`: iterate a flow file (or stream) as Flow objects.
 *
 * ```ts
 * for await (const flow of new FlowReader('dump.mitm')) console.log(flow.id);
 * for (const flow of new FlowReader('dump.mitm')) ...       // files, Buffers: also synchronously
 * for await (const state of new FlowReader(stream).readStates()) ...  // raw format 21 states
 * ```
 *
 * Errors are {@link FlowReadError}s (`code` TRUNCATED, CORRUPT, VERSION, INVALID, HAR), thrown
 * after every flow before the problem was yielded. An empty input is zero flows.
 * Bytes fields of the flows are views into the file's read chunks (fresh for every read) or
 * into copies of the input, never into a buffer that is reused.
 */
export class FlowReader implements AsyncIterable<AnyFlow>, Iterable<AnyFlow> {
  constructor(
    readonly source: FlowSource,
    readonly options: FlowReaderOptions = {},
  ) {}

  /** Flows, asynchronously (any source). */
  async *stream(): AsyncGenerator<AnyFlow> {
    const filter = this.options.filter ?? null;
    const file = await registeredFileAsync(this.source);
    if (file !== null) return yield* flowsOf(file, filter);
    const name = this.options.name ?? sourceName(this.source);
    const decoder = new FlowStateDecoder();
    try {
      const owned = ownsChunks(this.source);
      for await (const chunk of asyncChunks(this.source, this.options.chunkSize ?? DEFAULT_CHUNK_SIZE)) {
        for (const state of decoder.push(chunk, owned)) {
          const flow = toFlow(state, decoder);
          if (filter === null || filter.match(flow)) yield flow;
        }
      }
      for (const state of decoder.end()) {
        const flow = toFlow(state, decoder);
        if (filter === null || filter.match(flow)) yield flow;
      }
    } catch (e) {
      throw named(e, name);
    }
  }

  /** Flows, synchronously (files, Buffers and sync iterables only). */
  *streamSync(): Generator<AnyFlow> {
    const filter = this.options.filter ?? null;
    const file = registeredFile(this.source);
    if (file !== null) return yield* flowsOf(file, filter);
    const name = this.options.name ?? sourceName(this.source);
    const decoder = new FlowStateDecoder();
    try {
      const owned = ownsChunks(this.source);
      for (const chunk of syncChunks(this.source, this.options.chunkSize ?? DEFAULT_CHUNK_SIZE)) {
        for (const state of decoder.push(chunk, owned)) {
          const flow = toFlow(state, decoder);
          if (filter === null || filter.match(flow)) yield flow;
        }
      }
      for (const state of decoder.end()) {
        const flow = toFlow(state, decoder);
        if (filter === null || filter.match(flow)) yield flow;
      }
    } catch (e) {
      throw named(e, name);
    }
  }

  /** Raw format 21 states instead of Flow objects; iterate with `for` or `for await`. */
  readStates(): AsyncIterable<FlowState> & Iterable<FlowState> {
    const { source, options } = this;
    return {
      [Symbol.asyncIterator]: () => readStates(source, options),
      [Symbol.iterator]: () => readStatesSync(source, options),
    };
  }

  [Symbol.asyncIterator](): AsyncGenerator<AnyFlow> {
    return this.stream();
  }

  [Symbol.iterator](): Generator<AnyFlow> {
    return this.streamSync();
  }
}

/**
 * Read all flows of several files, in order (mitmproxy's `read_flows_from_paths`). Fails on
 * the first error, naming the file.
 */
export async function readFlowsFromPaths(paths: Iterable<string>): Promise<AnyFlow[]> {
  const flows: AnyFlow[] = [];
  for (const path of paths) {
    for await (const f of new FlowReader(path)) flows.push(f);
  }
  return flows;
}

/**
 * {@link readFlowsFromPaths}, synchronously (for an option read in `configure`, whose error must
 * reject the update). The error says `cannot read flows from PATH: why`.
 */
export function readFlowsFromPathsSync(paths: Iterable<string>): AnyFlow[] {
  const flows: AnyFlow[] = [];
  for (const path of paths) {
    try {
      for (const f of new FlowReader(path)) flows.push(f);
    } catch (e) {
      throw new Error(`cannot read flows from ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  return flows;
}

/**
 * The flows of an option's files, read in `configure`: synchronously (so that an error rejects
 * the update) unless a file is in a registered format that loads its reading code first (a
 * store database), then asynchronously: a promise, which the kernel's start-up awaits (an error
 * stops the start). Errors as {@link readFlowsFromPathsSync}'s.
 */
export function readFlowsForOption(paths: readonly string[]): AnyFlow[] | Promise<AnyFlow[]> {
  if (!paths.some((p) => flowFileFormatOf(p)?.prepare)) return readFlowsFromPathsSync(paths);
  return (async () => {
    const flows: AnyFlow[] = [];
    for (const path of paths) {
      try {
        for await (const f of new FlowReader(path)) flows.push(f);
      } catch (e) {
        throw new Error(`cannot read flows from ${path}: ${(e as Error).message}`, { cause: e });
      }
    }
    return flows;
  })();
}
