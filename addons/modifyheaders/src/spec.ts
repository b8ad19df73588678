import {
  escapedStrToBytes,
  parseModifySpec,
  parseReplacement,
  SpecError,
  type Filter,
  type Replacement,
} from '@mitmts/sdk';

/** One parsed modify_headers rule. */
export interface ModifyHeadersSpec {
  /** The spec as given, for messages. */
  readonly spec: string;
  readonly matches: Filter;
  /** The header name as bytes. */
  readonly name: Buffer;
  /** The value: literal bytes (empty = remove only) or an `@file` read per use. */
  readonly value: Replacement;
}

// RFC 9110 field-name: one or more tchar.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Why a header value cannot be sent as is, or null if it can. */
export function badValue(value: Buffer): string | null {
  if (value.includes(0x0d) || value.includes(0x0a)) return 'a header value cannot contain a line break (CR or LF)';
  if (value.includes(0x00)) return 'a header value cannot contain a NUL byte';
  return null;
}

/** A value read from a file, without the line break that ends most text files. */
export function fileValue(bytes: Buffer): Buffer {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  return end === bytes.length ? bytes : bytes.subarray(0, end);
}

/**
 * Parse `[/flow-filter]/header-name/[@]header-value` as mitmproxy's
 * `parse_modify_spec(option, False)`: name and value are escape-decoded to bytes; an `@file`
 * must be readable now. The name must be a valid HTTP field name and a literal value must not
 * contain CR, LF or NUL (they would break the message).
 * @throws SpecError naming modify_headers, the spec and the problem.
 */
export function parseModifyHeadersSpec(spec: string): ModifyHeadersSpec {
  const { matches, subject, replacement } = parseModifySpec('modify_headers', spec, {
    requireSubject: true,
    subjectName: 'header-name',
    replacementName: '[@]header-value',
  });
  let name: Buffer;
  try {
    name = escapedStrToBytes(subject);
  } catch (err) {
    throw new SpecError('modify_headers', spec, `bad escape in header name '${subject}': ${(err as Error).message}`);
  }
  if (!TOKEN.test(name.toString('latin1')))
    throw new SpecError('modify_headers', spec, `'${subject}' is not a valid HTTP header name`);
  const value = parseReplacement('modify_headers', spec, replacement);
  const why = value.file === null ? badValue(value.bytes) : null;
  if (why) throw new SpecError('modify_headers', spec, why);
  return { spec, matches, name, value };
}
