/**
 * The filter expression grammar (mitmproxy's, see shared/reference/flowfilter.md §4):
 *
 * ```
 * expr    := seq
 * seq     := orexpr+                  juxtaposition = AND, the loosest binding
 * orexpr  := andexpr ('|' andexpr)*
 * andexpr := notexpr ('&' notexpr)*
 * notexpr := '!' notexpr | primary
 * primary := '(' seq ')' | '~op' [argument] | bare-regex
 * ```
 *
 * Operators must end at a word end (whitespace, a non-ASCII character or the end), so `~q&~s`
 * and `(~q)` are errors; regex arguments and bare words are unquoted words (anything but
 * whitespace and `()~'"`) or quoted strings with backslash escapes. Inside quotes a backslash
 * escapes any character (only `\t \n \r \f` are control characters), so `~b "\d+"` is the regex
 * `d+`, as in mitmproxy 8.1.1: the regex `\d+` is written unquoted or as `"\\d+"`.
 *
 * This follows shared/reference/flowfilter.md, which differs from what mitmproxy's pyparsing
 * grammar does in two corners (checked against a replica of that grammar on pyparsing 3.3.2):
 * a dangling `!`, `&` or `|` (`~q &`, `!`) is an error here, where pyparsing reads it as a bare
 * regex; and juxtaposition works inside parentheses (`(~q ~s )`), where pyparsing only accepts
 * `!`/`&`/`|` expressions. Everything else parses to the same tree.
 */
import { FilterError, FilterErrorCode } from './errors.js';
import { OPERATORS } from './operators.js';
import { compileFilterRegex, PyRegexError, type RegexTester } from './pyregex/index.js';

/** A parsed filter expression. */
export type FilterNode =
  | {
      kind: 'op';
      /** Operator name without `~` (`u` for bare words). */
      op: string;
      /** The regex source, the integer, or null. */
      arg: string | number | null;
      /** True for a bare regex (an implicit `~u`). */
      bare: boolean;
      /** Position of the operator (or bare word) in the expression. */
      pos: number;
      /** Case-insensitive regex matching (the default). */
      ignoreCase: boolean;
      /** The compiled regex, for regex operators. */
      re: RegexTester | null;
    }
  | { kind: 'not'; child: FilterNode }
  | { kind: 'and'; children: FilterNode[] }
  | { kind: 'or'; children: FilterNode[] };

const isWs = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isPrintable = (code: number): boolean => code >= 0x21 && code <= 0x7e;
const WORD_STOP = '()~\'" \t\n\r';
const ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };

/** Parse `text` into a tree; regexes are compiled here so that errors carry positions. */
export function parseExpression(text: string, caseSensitive: boolean): FilterNode {
  if (text === '') throw new FilterError(FilterErrorCode.EMPTY, text, 0, 'empty filter expression');
  return new Parser(text, caseSensitive).parse();
}

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly caseSensitive: boolean,
  ) {}

  parse(): FilterNode {
    const node = this.parseSeq(false);
    this.skipWs();
    if (this.pos < this.text.length) this.fail(this.pos, "unexpected ')' without a matching '('");
    return node;
  }

  private fail(pos: number, detail: string, code: FilterErrorCode = FilterErrorCode.SYNTAX): never {
    throw new FilterError(code, this.text, pos, detail);
  }

  private skipWs(): void {
    while (isWs(this.text[this.pos])) this.pos++;
  }

  private atOperandEnd(): boolean {
    return this.pos >= this.text.length || this.text[this.pos] === ')';
  }

  private parseSeq(inGroup: boolean): FilterNode {
    const items: FilterNode[] = [];
    for (;;) {
      this.skipWs();
      if (this.atOperandEnd()) {
        if (!inGroup && this.pos < this.text.length) this.fail(this.pos, "unexpected ')' without a matching '('");
        break;
      }
      items.push(this.parseOr());
    }
    if (!items.length) this.fail(this.pos, inGroup ? "expected an expression after '('" : 'expected an expression');
    return items.length === 1 ? items[0]! : { kind: 'and', children: items };
  }

  private parseBinary(op: '|' | '&', next: () => FilterNode): FilterNode {
    const children = [next()];
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== op) break;
      this.pos++;
      this.skipWs();
      if (this.atOperandEnd()) this.fail(this.pos, `expected an expression after ${op}`);
      children.push(next());
    }
    if (children.length === 1) return children[0]!;
    return { kind: op === '|' ? 'or' : 'and', children };
  }

  private parseOr(): FilterNode {
    return this.parseBinary('|', () => this.parseAnd());
  }

  private parseAnd(): FilterNode {
    return this.parseBinary('&', () => this.parseNot());
  }

  private parseNot(): FilterNode {
    this.skipWs();
    if (this.text[this.pos] === '!') {
      this.pos++;
      this.skipWs();
      if (this.atOperandEnd()) this.fail(this.pos, 'expected an expression after !');
      return { kind: 'not', child: this.parseNot() };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): FilterNode {
    this.skipWs();
    const start = this.pos;
    const c = this.text[start];
    if (c === undefined) return this.fail(start, 'expected an expression');
    if (c === '(') {
      this.pos++;
      const inner = this.parseSeq(true);
      this.skipWs();
      if (this.text[this.pos] !== ')') this.fail(this.pos, `expected ')' to close the '(' at position ${start}`);
      this.pos++;
      return inner;
    }
    if (c === ')') return this.fail(start, "unexpected ')' without a matching '('");
    if (c === '~') return this.parseOperator();
    return this.regexNode('u', this.parseArgument(), start, true);
  }

  private parseOperator(): FilterNode {
    const start = this.pos;
    let end = start + 1;
    while (end < this.text.length && isPrintable(this.text.charCodeAt(end))) end++;
    const name = this.text.slice(start + 1, end);
    if (!name) this.fail(start, 'expected an operator name after ~ (e.g. ~u, ~h, ~c)');
    const spec = OPERATORS.get(name);
    if (!spec) {
      // `~q)` or `~q&~s`: a known operator glued to punctuation.
      for (let i = name.length - 1; i > 0; i--) {
        if (OPERATORS.has(name.slice(0, i)) && !/[A-Za-z0-9]/.test(name[i]!)) {
          const op = `~${name.slice(0, i)}`;
          this.fail(
            start + 1 + i,
            `${op} must be followed by whitespace or the end of the expression, not '${name[i]}' (write '${op} ${name.slice(i)}')`,
          );
        }
      }
      this.fail(start, `unknown operator ~${name}`, FilterErrorCode.UNKNOWN_OPERATOR);
    }
    this.pos = end;
    if (spec.arg === 'none')
      return { kind: 'op', op: name, arg: null, bare: false, pos: start, ignoreCase: false, re: null };
    this.skipWs();
    const argPos = this.pos;
    if (spec.arg === 'int') {
      while (
        this.pos < this.text.length &&
        this.text.charCodeAt(this.pos) >= 0x30 &&
        this.text.charCodeAt(this.pos) <= 0x39
      )
        this.pos++;
      if (this.pos === argPos) this.fail(argPos, `expected an integer argument after ~${name}`);
      return {
        kind: 'op',
        op: name,
        arg: Number(this.text.slice(argPos, this.pos)),
        bare: false,
        pos: start,
        ignoreCase: false,
        re: null,
      };
    }
    const next = this.text[argPos];
    if (next === undefined || next === '(' || next === ')' || next === '~')
      this.fail(argPos, `expected a regex argument after ~${name}`);
    return this.regexNode(name, this.parseArgument(), start, false, argPos);
  }

  /** An unquoted word or a quoted string at the current position. */
  private parseArgument(): string {
    const start = this.pos;
    const q = this.text[start];
    if (q === '"' || q === "'") return this.parseQuoted(q);
    let end = start;
    while (end < this.text.length && !WORD_STOP.includes(this.text[end]!)) end++;
    this.pos = end;
    return this.text.slice(start, end);
  }

  private parseQuoted(q: string): string {
    const start = this.pos;
    let out = '';
    let i = start + 1;
    for (;;) {
      const c = this.text[i];
      if (c === undefined) this.fail(start, `unterminated quoted string: missing closing ${q}`);
      if (c === '\n' || c === '\r')
        this.fail(i, `quoted strings cannot contain a line break (write \\n or \\r instead)`);
      if (c === q) break;
      if (c === '\\') {
        const n = this.text[i + 1];
        if (n === undefined) this.fail(start, `unterminated quoted string: missing closing ${q}`);
        if (n === '\n') this.fail(i + 1, `quoted strings cannot contain a line break (write \\n instead)`);
        out += ESCAPES[n] ?? n;
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    this.pos = i + 1;
    return out;
  }

  private regexNode(op: string, source: string, pos: number, bare: boolean, argPos = pos): FilterNode {
    const spec = OPERATORS.get(op)!;
    const ignoreCase = !this.caseSensitive;
    let re: RegexTester;
    try {
      re = compileFilterRegex(spec.binary ? Buffer.from(source, 'utf8').toString('latin1') : source, {
        binary: spec.binary ?? false,
        ignoreCase,
        multiline: spec.reFlags === 'm',
        dotAll: spec.reFlags === 's',
      });
    } catch (err) {
      if (!(err instanceof PyRegexError)) throw err;
      const what = bare ? `the bare regex ${JSON.stringify(source)}` : `~${op} ${JSON.stringify(source)}`;
      return this.fail(argPos, `invalid regex in ${what}: ${err.message}`, FilterErrorCode.INVALID_REGEX);
    }
    return { kind: 'op', op, arg: source, bare, pos, ignoreCase, re };
  }
}
