/**
 * POSIX shell quoting for exported commands (sh, dash, bash, zsh). Pure functions, no I/O.
 */

/** `s` as one shell word: bare when it is plainly safe, else in single quotes (mitmproxy's shlex.quote). */
export function shQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/** Valid UTF-8 text, or null. */
export function utf8Text(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Bytes a terminal shows plainly: printable ASCII, tab, newline, and (in UTF-8 text) non-ASCII characters. */
function plain(b: number, utf8: boolean): boolean {
  return (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || (utf8 && b >= 0x80);
}

/** Whether `bytes` can go on a command line as a quoted word, exactly (valid UTF-8, no control characters but tab and newline). */
export function isPlainText(bytes: Buffer): boolean {
  if (utf8Text(bytes) === null) return false;
  for (const b of bytes) if (!plain(b, true)) return false;
  return true;
}

/**
 * A `printf` that writes exactly `bytes` to standard output, for piping a body into a command:
 * `printf '...' | curl --data-binary @- ...`. Control characters, bytes of invalid UTF-8, `'`,
 * `%` and `\` become escapes (`\ooo`, `%%`, `\\`, which POSIX printf decodes in its format),
 * the rest stays readable. printf is a shell builtin: a large body meets no argument-size limit.
 */
export function printfBytes(bytes: Buffer): string {
  const utf8 = utf8Text(bytes) !== null;
  const parts: string[] = [];
  let run = -1;
  const flush = (i: number): void => {
    if (run >= 0) parts.push(bytes.toString(utf8 ? 'utf8' : 'latin1', run, i));
    run = -1;
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (plain(b, utf8) && b !== 0x25 && b !== 0x5c && b !== 0x27 && b !== 0x0a && b !== 0x09) {
      if (run < 0) run = i;
      continue;
    }
    flush(i);
    parts.push(
      b === 0x25
        ? '%%'
        : b === 0x5c
          ? '\\\\'
          : b === 0x0a
            ? '\\n'
            : b === 0x09
              ? '\\t'
              : `\\${b.toString(8).padStart(3, '0')}`,
    );
  }
  flush(bytes.length);
  return `printf '${parts.join('')}'`;
}
