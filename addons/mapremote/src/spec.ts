import {
  compilePyPattern,
  compilePyTemplate,
  parseModifySpec,
  PyRegexError,
  SpecError,
  type Filter,
  type PyPattern,
  type PyTemplate,
} from '@mitmts/sdk';

/** One parsed map_remote rule. */
export interface MapRemoteSpec {
  /** The spec as given, for messages. */
  readonly spec: string;
  readonly matches: Filter;
  /** The URL regex (Python syntax). */
  readonly regex: PyPattern;
  /** The replacement, a Python `re.sub` template (`\1`, `\g<name>`). */
  readonly template: PyTemplate;
}

/**
 * Parse `[/flow-filter]/url-regex/replacement` (any separator character); regex and
 * replacement are checked now, so a bad group reference fails here and not on a request.
 * @throws SpecError naming map_remote, the spec and the problem.
 */
export function parseMapRemoteSpec(spec: string): MapRemoteSpec {
  const { matches, subject, replacement } = parseModifySpec('map_remote', spec, { subjectName: 'url-regex' });
  let regex: PyPattern;
  try {
    regex = compilePyPattern(subject);
  } catch (err) {
    if (err instanceof PyRegexError)
      throw new SpecError('map_remote', spec, `invalid regular expression '${subject}' (${err.message})`);
    throw err;
  }
  let template: PyTemplate;
  try {
    template = compilePyTemplate(replacement, regex);
  } catch (err) {
    if (err instanceof PyRegexError)
      throw new SpecError('map_remote', spec, `invalid replacement '${replacement}' (${err.message})`);
    throw err;
  }
  return { spec, matches, regex, template };
}
