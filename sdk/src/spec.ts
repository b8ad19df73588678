/**
 * The `[/flow-filter]/subject/replacement` specs of map_local, map_remote, modify_body and
 * modify_headers (mitmproxy's `parse_spec` / `parse_modify_spec`), Python's escaped-string
 * decoding used for their subjects and replacements, and `@file` replacements.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { expandHome, FilterError, matchAll, OptionsError, parseFilter, type Filter } from '@mitmts/core';

/** A parsed spec: which flows it applies to, its subject and its replacement (both raw text). */
export interface ModifySpec {
  /** The flow filter; matches every flow when the spec has none. */
  readonly matches: Filter;
  readonly subject: string;
  readonly replacement: string;
}

/** Options for {@link parseModifySpec}. */
export interface ParseModifySpecOptions {
  /** Reject a spec whose subject is empty (e.g. a header name). */
  readonly requireSubject?: boolean;
  /** What the subject is called in messages and in the expected form, e.g. `url-regex`. Default `subject`. */
  readonly subjectName?: string;
  /** What the replacement is called, e.g. `file-or-directory-path`. Default `replacement`. */
  readonly replacementName?: string;
}

/**
 * A spec an option cannot use. `option`, `spec` and `reason` are also available separately; the
 * message reads `Invalid map_local spec '|~q|[|/tmp': invalid regular expression ...`.
 */
export class SpecError extends OptionsError {
  constructor(
    readonly option: string,
    readonly spec: string,
    readonly reason: string,
  ) {
    super(`Invalid ${option} spec '${spec}': ${reason}.`);
    this.name = 'SpecError';
  }
}

/**
 * Split and check one spec as mitmproxy's `parse_spec` does: the first character is the
 * separator; two parts are `subject` and `replacement`, three put a flow filter first; the
 * replacement may contain the separator.
 * @param option the option's name, for the error message (`map_local`).
 * @throws SpecError naming the option, the spec and what is wrong.
 */
export function parseModifySpec(option: string, spec: string, opts: ParseModifySpecOptions = {}): ModifySpec {
  const subjectName = opts.subjectName ?? 'subject';
  const form = `[/flow-filter]/${subjectName}/${opts.replacementName ?? 'replacement'}, where the first character (here /) is the separator and may be any character`;
  if (spec.length === 0) throw new SpecError(option, spec, `the spec is empty; expected ${form}`);
  const sep = spec[0]!;
  const rest = spec.slice(1);
  const first = rest.indexOf(sep);
  if (first < 0) {
    throw new SpecError(
      option,
      spec,
      `expected 2 or 3 parts separated by '${sep}' (the spec's first character), found 1; the form is ${form}`,
    );
  }
  const second = rest.indexOf(sep, first + 1);
  let matches = matchAll;
  let subject: string;
  let replacement: string;
  if (second < 0) {
    subject = rest.slice(0, first);
    replacement = rest.slice(first + 1);
  } else {
    const filter = rest.slice(0, first);
    subject = rest.slice(first + 1, second);
    replacement = rest.slice(second + 1);
    try {
      matches = parseFilter(filter);
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      throw new SpecError(option, spec, `invalid flow filter '${filter}': ${err.message}`);
    }
  }
  if (opts.requireSubject && subject.length === 0) throw new SpecError(option, spec, `the ${subjectName} is empty`);
  return { matches, subject, replacement };
}

const SIMPLE_ESCAPES: Record<string, number> = {
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
};
const isOct = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/**
 * Python's `codecs.escape_decode` (mitmproxy's `strutils.escaped_str_to_bytes`): the text as
 * UTF-8 bytes with bytes-literal escapes decoded (`\n`, `\t`, `\\`, `\x41`, octal `\101`, ...).
 * Unknown escapes such as `\d` are kept as written, so regexes survive.
 * @throws Error for a trailing backslash or a malformed `\x` escape.
 */
export function escapedStrToBytes(text: string): Buffer {
  if (!text.includes('\\')) return Buffer.from(text, 'utf8');
  const out: number[] = [];
  const pushText = (s: string): void => {
    for (const b of Buffer.from(s, 'utf8')) out.push(b);
  };
  let i = 0;
  while (i < text.length) {
    const j = text.indexOf('\\', i);
    if (j < 0) {
      pushText(text.slice(i));
      break;
    }
    pushText(text.slice(i, j));
    const cp = text.codePointAt(j + 1);
    if (cp === undefined) throw new Error('Trailing \\ in string');
    const c = String.fromCodePoint(cp);
    i = j + 1 + c.length;
    if (c === '\n') continue;
    if (c in SIMPLE_ESCAPES) {
      out.push(SIMPLE_ESCAPES[c]!);
    } else if (isOct(c)) {
      let digits = c;
      if (isOct(text[i])) digits += text[i++];
      if (isOct(text[i])) digits += text[i++];
      out.push(Number.parseInt(digits, 8) & 0xff);
    } else if (c === 'x') {
      if (!isHex(text[i]) || !isHex(text[i + 1])) throw new Error(`invalid \\x escape at position ${j}`);
      out.push(Number.parseInt(text.slice(i, i + 2), 16));
      i += 2;
    } else {
      out.push(0x5c);
      pushText(c);
    }
  }
  return Buffer.from(out);
}

/** A replacement as given in a spec: literal bytes, or a file (`@path`) read each time it is used. */
export type Replacement =
  { readonly file: null; readonly bytes: Buffer } | { readonly file: string; readonly bytes: null };

/**
 * Check a spec's replacement as mitmproxy's `parse_modify_spec` does: `@path` must name a
 * readable file (`~` expands to the home directory); anything else is escape-decoded.
 * @throws SpecError for an unreadable file or a malformed escape.
 */
export function parseReplacement(option: string, spec: string, replacement: string): Replacement {
  if (replacement.startsWith('@')) {
    const file = expandHome(replacement.slice(1));
    try {
      if (!statSync(file).isFile()) throw new Error('not a regular file');
      accessSync(file, constants.R_OK);
    } catch (err) {
      throw new SpecError(option, spec, `cannot read replacement file '${file}' (${(err as Error).message})`);
    }
    return { file, bytes: null };
  }
  try {
    return { file: null, bytes: escapedStrToBytes(replacement) };
  } catch (err) {
    throw new SpecError(option, spec, `bad escape in replacement '${replacement}': ${(err as Error).message}`);
  }
}

/**
 * The replacement's bytes now: a file replacement is read again on every call (edit the file
 * while the proxy runs), as mitmproxy does. @throws the file system error if it cannot be read.
 */
export async function readReplacement(r: Replacement): Promise<Buffer> {
  return r.file === null ? r.bytes : readFile(r.file);
}

/**
 * Compile the value of a filter option (`dumper_filter`, `stickycookie`, ...): null or empty
 * means "no filter" (null); a bad expression is an OptionsError naming the option and saying
 * what is wrong where. For `configure`, so a bad value is rejected when it is set.
 */
export function filterOption(option: string, expr: string | null): Filter | null {
  if (!expr) return null;
  try {
    return parseFilter(expr);
  } catch (err) {
    throw new OptionsError(`Invalid ${option} ${JSON.stringify(expr)}: ${(err as Error).message}`);
  }
}
