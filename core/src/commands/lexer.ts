import { CommandError } from '../kernel/errors.js';

/**
 * Split a command line into words: whitespace separates, single or double quotes group, and a
 * backslash inside quotes escapes the next character.
 */
export function lex(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && /\s/.test(line[i]!)) i++;
    if (i >= n) break;
    let word = '';
    let started = false;
    while (i < n && !/\s/.test(line[i]!)) {
      const ch = line[i]!;
      if (ch === '"' || ch === "'") {
        const quote = ch;
        const start = i;
        i++;
        started = true;
        while (i < n && line[i] !== quote) {
          if (line[i] === '\\' && i + 1 < n) {
            i++;
          }
          word += line[i];
          i++;
        }
        if (i >= n) {
          throw new CommandError(
            `Unterminated quote in command at position ${start}: ${line.slice(start)} (close it with ${quote}).`,
            'MITMTS_ERR_COMMAND_ARGS',
          );
        }
        i++;
      } else {
        word += ch;
        started = true;
        i++;
      }
    }
    if (started) words.push(word);
  }
  return words;
}

/** Quote a word for a command line if it needs it. */
export function quote(word: string): string {
  if (word !== '' && !/[\s"'\\]/.test(word)) return word;
  return `"${word.replace(/["\\]/g, (c) => '\\' + c)}"`;
}
