/**
 * Flow file formats beyond `.mitm` and HAR, added by packages: the store addon registers its
 * SQLite databases here, so that `FlowReader`, `mitmts flows` and `-r` read them like any flow
 * file. A format is recognised by the first bytes of the file (its magic). Core never imports
 * the packages: a distribution imports them (`Distribution.flowFormats`, or its addon manifest)
 * and they call {@link registerFlowFileFormat} when loaded.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { Filter } from '../filter/filter.js';
import type { Flow } from '../flow/flow.js';

/** An open file of a registered format. */
export interface FlowFile {
  /**
   * The flows matching `filter` (every flow when null), oldest first. The result must equal
   * reading every flow and matching `filter` on each; an indexed format uses the filter to skip.
   * Errors are `FlowReadError`s naming the file.
   */
  flows(filter: Filter | null): Iterable<Flow>;
  close(): void;
}

/** A flow file format a package adds. */
export interface FlowFileFormat {
  /** Shown in messages, e.g. `mitmts store (SQLite)`. */
  readonly name: string;
  /** The first bytes of every file of this format, e.g. `SQLite format 3\0`. */
  readonly magic: Uint8Array;
  /**
   * Load what reading needs (asynchronous readers await it before {@link open}), so that a
   * format costs nothing until a file of it is read. Synchronous readers do not call it: then
   * `open` must work without it or say that the file has to be read asynchronously.
   */
  prepare?(): Promise<void>;
  /** Open a file (its magic matched) for reading. */
  open(path: string): FlowFile;
}

const formats = new Map<string, FlowFileFormat>();

/** Add a format (a format with the same name is replaced). */
export function registerFlowFileFormat(format: FlowFileFormat): void {
  formats.set(format.name, format);
}

/** The registered format whose magic starts the file at `path`, if any (unreadable files: none). */
export function flowFileFormatOf(path: string): FlowFileFormat | undefined {
  if (formats.size === 0) return undefined;
  const longest = Math.max(...[...formats.values()].map((f) => f.magic.length));
  const head = Buffer.alloc(longest);
  let n = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      n = readSync(fd, head, 0, longest, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  for (const f of formats.values()) {
    if (n >= f.magic.length && head.subarray(0, f.magic.length).equals(f.magic)) return f;
  }
  return undefined;
}

/**
 * Await this before reading `path` synchronously: if the file is in a registered format, its
 * code is loaded (`prepare()`). Asynchronous readers (`for await ... of new FlowReader(path)`)
 * do it themselves. Resolves to whether the file is in a registered format.
 */
export async function prepareFlowFile(path: string): Promise<boolean> {
  const format = flowFileFormatOf(path);
  if (!format) return false;
  await format.prepare?.();
  return true;
}
