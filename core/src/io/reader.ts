/**
 * Reading flow files: mitmproxy `.mitm` files of any format version mitmproxy reads (migrated
 * to 21) and HAR files. Streaming and constant memory: records are decoded as they arrive.
 */
import type { FlowState } from '../flow/state.js';
import { FlowReadError } from './errors.js';
import { asyncChunks, DEFAULT_CHUNK_SIZE, type FlowSource, sourceName, syncChunks } from './sources.js';
import { FlowStateDecoder } from './state-decoder.js';

export interface FlowReaderOptions {
  /** Name used in error messages (defaults to the path for file sources). */
  name?: string;
  /** Read size for file sources, in bytes. */
  chunkSize?: number;
}

function named(e: unknown, name: string | undefined): unknown {
  return e instanceof FlowReadError && name !== undefined ? e.withFile(name) : e;
}

/** Format 21 states from a source, synchronously (files, bytes, sync iterables). */
export function* readStatesSync(source: FlowSource, options: FlowReaderOptions = {}): Generator<FlowState> {
  const name = options.name ?? sourceName(source);
  const decoder = new FlowStateDecoder();
  try {
    for (const chunk of syncChunks(source, options.chunkSize ?? DEFAULT_CHUNK_SIZE)) yield* decoder.push(chunk);
    yield* decoder.end();
  } catch (e) {
    throw named(e, name);
  }
}

/** Format 21 states from any source, asynchronously. */
export async function* readStates(source: FlowSource, options: FlowReaderOptions = {}): AsyncGenerator<FlowState> {
  const name = options.name ?? sourceName(source);
  const decoder = new FlowStateDecoder();
  try {
    for await (const chunk of asyncChunks(source, options.chunkSize ?? DEFAULT_CHUNK_SIZE)) yield* decoder.push(chunk);
    yield* decoder.end();
  } catch (e) {
    throw named(e, name);
  }
}
