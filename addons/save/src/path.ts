/** `save_stream_file` / `save.file` path specs: a leading `+` appends, `~` is the home directory. */
import { expandHome } from '@mitmts/sdk';

export interface PathSpec {
  /** The path, `~` expanded, `+` removed (may still contain strftime directives). */
  readonly path: string;
  /** Append (`+path`) instead of replacing the file. */
  readonly append: boolean;
}

export function parsePathSpec(spec: string): PathSpec {
  const append = spec.startsWith('+');
  return { path: expandHome(append ? spec.slice(1) : spec), append };
}
