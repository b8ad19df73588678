import {
  compilePyPattern,
  compilePyTemplate,
  escapedStrToBytes,
  parseModifySpec,
  parseReplacement,
  PyRegexError,
  SpecError,
  type Filter,
  type PyPattern,
  type PyTemplate,
  type Replacement,
} from '@mitmts/sdk';

/** One parsed modify_body rule. */
export interface ModifyBodySpec {
  /** The spec as given, for messages. */
  readonly spec: string;
  readonly matches: Filter;
  /** A bytes regex (Python syntax, DOTALL), matched against the body as latin1 text. */
  readonly regex: PyPattern;
  readonly replacement: Replacement;
  /** The parsed `re.sub` template of a literal replacement; null for `@file` (parsed per use). */
  readonly template: PyTemplate | null;
}

/**
 * Parse `[/flow-filter]/regex/[@]replacement` as mitmproxy's `parse_modify_spec(option, True)`:
 * regex and replacement are escape-decoded to bytes (`\n`, `\x00`, ...; `\d` stays a regex
 * escape), the regex is compiled as a bytes pattern, and an `@file` must be readable now.
 * @throws SpecError naming modify_body, the spec and the problem.
 */
export function parseModifyBodySpec(spec: string): ModifyBodySpec {
  const { matches, subject, replacement } = parseModifySpec('modify_body', spec, {
    subjectName: 'regex',
    replacementName: '[@]replacement',
  });
  let pattern: string;
  try {
    pattern = escapedStrToBytes(subject).toString('latin1');
  } catch (err) {
    throw new SpecError('modify_body', spec, `bad escape in regex '${subject}': ${(err as Error).message}`);
  }
  let regex: PyPattern;
  try {
    regex = compilePyPattern(pattern, { binary: true, dotAll: true });
  } catch (err) {
    if (err instanceof PyRegexError)
      throw new SpecError('modify_body', spec, `invalid regular expression '${subject}' (${err.message})`);
    throw err;
  }
  const r = parseReplacement('modify_body', spec, replacement);
  let template: PyTemplate | null = null;
  if (r.file === null) {
    try {
      template = compilePyTemplate(r.bytes.toString('latin1'), regex);
    } catch (err) {
      if (err instanceof PyRegexError)
        throw new SpecError('modify_body', spec, `invalid replacement '${replacement}' (${err.message})`);
      throw err;
    }
  }
  return { spec, matches, regex, replacement: r, template };
}
