import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  compilePyPattern,
  expandHome,
  parseModifySpec,
  PyRegexError,
  SpecError,
  type Filter,
  type PyPattern,
} from '@mitmts/sdk';

/** One parsed map_local rule. */
export interface MapLocalSpec {
  /** The spec as given, for messages. */
  readonly spec: string;
  readonly matches: Filter;
  /** The URL regex (Python syntax, searched in the request's pretty URL). */
  readonly regex: PyPattern;
  /** The file or directory, absolute with symlinks resolved. */
  readonly root: string;
}

/**
 * Parse `[/flow-filter]/url-regex/file-or-directory-path` (any separator character). The path
 * may start with `~`; it must exist now.
 * @throws SpecError naming map_local, the spec and the problem.
 */
export function parseMapLocalSpec(spec: string): MapLocalSpec {
  const { matches, subject, replacement } = parseModifySpec('map_local', spec, {
    subjectName: 'url-regex',
    replacementName: 'file-or-directory-path',
  });
  let regex: PyPattern;
  try {
    regex = compilePyPattern(subject);
  } catch (err) {
    if (err instanceof PyRegexError)
      throw new SpecError('map_local', spec, `invalid regular expression '${subject}' (${err.message})`);
    throw err;
  }
  if (replacement === '') throw new SpecError('map_local', spec, 'the file-or-directory-path is empty');
  let root: string;
  try {
    root = realpathSync(resolve(expandHome(replacement)));
  } catch (err) {
    throw new SpecError('map_local', spec, `invalid file path '${replacement}' (${(err as Error).message})`);
  }
  return { spec, matches, regex, root };
}
