/** `save_stream_file` / `save.file` path specs: a leading `+` appends, `~` is the home directory. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface PathSpec {
  /** The path, `~` expanded, `+` removed (may still contain strftime directives). */
  readonly path: string;
  /** Append (`+path`) instead of replacing the file. */
  readonly append: boolean;
}

export function parsePathSpec(spec: string): PathSpec {
  const append = spec.startsWith('+');
  const p = append ? spec.slice(1) : spec;
  const path = p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
  return { path, append };
}
