/**
 * A parser for Python's `re` syntax (as of CPython 3.12), reproducing its grammar and its
 * errors: inline and scoped flags, `(?P<name>)`, `(?P=name)`, atomic groups and possessive
 * quantifiers, octal/backreference escapes, `{` as a literal when not a quantifier, set syntax
 * with `]` first, and fixed-width look-behinds.
 */
import { PyRegexError, type Category, type PyFlags, type RNode, type SetItem } from './ast.js';

const MAXREPEAT = 4294967295;
const INF = Number.POSITIVE_INFINITY;

const C = (s: string): number => s.charCodeAt(0);
const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const isOct = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x37;
const isHex = (c: number | undefined): boolean =>
  c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
const isAsciiLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
// Python's string.whitespace: skipped in verbose mode.
const isVerboseSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
const CATEGORIES = new Set(['d', 'D', 'w', 'W', 's', 'S']);
const FLAG_LETTERS = new Set(['i', 'L', 'm', 's', 'x', 'a', 'u']);

function width(node: RNode, groupWidths: Map<number, [number, number]>): [number, number] {
  switch (node.t) {
    case 'char':
    case 'any':
    case 'set':
    case 'cat':
      return [1, 1];
    case 'at':
    case 'look':
      return [0, 0];
    case 'seq': {
      let lo = 0;
      let hi = 0;
      for (const it of node.items) {
        const [l, h] = width(it, groupWidths);
        lo += l;
        hi += h;
      }
      return [lo, hi];
    }
    case 'alt': {
      let lo = INF;
      let hi = 0;
      for (const a of node.alts) {
        const [l, h] = width(a, groupWidths);
        lo = Math.min(lo, l);
        hi = Math.max(hi, h);
      }
      return [lo, hi];
    }
    case 'group':
    case 'atomic':
      return width(node.body, groupWidths);
    case 'ref':
      return groupWidths.get(node.index) ?? [0, INF];
    case 'repeat': {
      const [l, h] = width(node.body, groupWidths);
      return [l * node.min, node.max === INF && h ? INF : h * node.max];
    }
  }
}

/** Parse a Python pattern; `binary` for bytes patterns (each char of `pattern` is one byte). */
export function parsePyRegex(pattern: string, binary: boolean, flags: PyFlags): { node: RNode; groups: number } {
  return new Parser(pattern, binary, flags).parse();
}

class Parser {
  private readonly src: number[];
  private pos = 0;
  private groups = 1;
  private readonly names = new Map<string, number>();
  private readonly open = new Set<number>();
  private readonly groupWidths = new Map<number, [number, number]>();
  private lookbehindGroups: number | null = null;

  constructor(
    pattern: string,
    private readonly binary: boolean,
    private readonly flags: PyFlags,
  ) {
    this.src = binary ? Array.from(pattern, (c) => c.charCodeAt(0)) : Array.from(pattern, (c) => c.codePointAt(0)!);
    if (binary) this.flags = { ...flags, a: true };
  }

  parse(): { node: RNode; groups: number } {
    const node = this.parseAlt(0, this.flags);
    if (this.pos < this.src.length) {
      // Only an unmatched ')' stops the top level early.
      throw new PyRegexError('unbalanced parenthesis', this.pos);
    }
    return { node, groups: this.groups - 1 };
  }

  private err(msg: string, pos = this.pos): never {
    throw new PyRegexError(msg, pos);
  }

  private peek(): number | undefined {
    return this.src[this.pos];
  }

  private ch(c: number | undefined): string {
    return c === undefined ? '' : String.fromCodePoint(c);
  }

  private parseAlt(nested: number, flags: PyFlags): RNode {
    const alts = [this.parseSeq(nested, flags, nested === 0)];
    while (this.peek() === C('|')) {
      this.pos++;
      alts.push(this.parseSeq(nested, flags, false));
    }
    return alts.length === 1 ? alts[0]! : { t: 'alt', alts };
  }

  private parseSeq(nested: number, flags: PyFlags, first: boolean): RNode {
    const items: RNode[] = [];
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      if (c === C('|') || c === C(')')) {
        if (c === C(')') && nested === 0) this.err('unbalanced parenthesis');
        break;
      }
      const start = this.pos++;
      if (flags.x) {
        if (isVerboseSpace(c)) continue;
        if (c === C('#')) {
          while (this.pos < this.src.length && this.src[this.pos] !== 0x0a) this.pos++;
          continue;
        }
      }
      switch (c) {
        case C('['):
          items.push(this.parseSet(flags, start));
          break;
        case C('.'):
          items.push({ t: 'any', s: flags.s });
          break;
        case C('^'):
          items.push({ t: 'at', at: 'bol', m: flags.m, a: flags.a });
          break;
        case C('$'):
          items.push({ t: 'at', at: 'eol', m: flags.m, a: flags.a });
          break;
        case C('('): {
          const g = this.parseGroup(nested, flags, start, first && items.length === 0);
          if (g === 'flags') {
            // Global flags changed (e.g. verbose): continue with the updated flag object.
            continue;
          }
          if (g) items.push(g);
          break;
        }
        case C('\\'):
          items.push(this.parseEscape(flags, start));
          break;
        case C('*'):
          this.repeat(items, 0, INF, start);
          break;
        case C('+'):
          this.repeat(items, 1, INF, start);
          break;
        case C('?'):
          this.repeat(items, 0, 1, start);
          break;
        case C('{'): {
          const q = this.braces();
          if (q) this.repeat(items, q[0], q[1], start);
          else items.push({ t: 'char', cp: c, i: flags.i, a: flags.a });
          break;
        }
        default:
          items.push({ t: 'char', cp: c, i: flags.i, a: flags.a });
      }
    }
    return items.length === 1 ? items[0]! : { t: 'seq', items };
  }

  /** After `{`: a `{m}`, `{m,}`, `{,n}` or `{m,n}` quantifier, or null (then `{` is literal). */
  private braces(): [number, number] | null {
    const here = this.pos;
    if (this.peek() === C('}')) return null;
    let lo = '';
    let hi = '';
    while (isDigit(this.peek())) lo += this.ch(this.src[this.pos++]);
    let hasComma = false;
    if (this.peek() === C(',')) {
      this.pos++;
      hasComma = true;
      while (isDigit(this.peek())) hi += this.ch(this.src[this.pos++]);
    } else {
      hi = lo;
    }
    if (this.peek() !== C('}')) {
      this.pos = here;
      return null;
    }
    this.pos++;
    const min = lo ? Number(lo) : 0;
    const max = hi ? Number(hi) : hasComma || !lo ? INF : min;
    if (min >= MAXREPEAT || (max !== INF && max >= MAXREPEAT)) this.err('the repetition number is too large', here);
    if (max < min) this.err('min repeat greater than max repeat', here);
    return [min, max];
  }

  private repeat(items: RNode[], min: number, max: number, start: number): void {
    const last = items[items.length - 1];
    if (!last || last.t === 'at') this.err('nothing to repeat', start);
    if (last.t === 'repeat') this.err('multiple repeat', start);
    let lazy = false;
    let possessive = false;
    if (this.peek() === C('?')) {
      this.pos++;
      lazy = true;
    } else if (this.peek() === C('+')) {
      this.pos++;
      possessive = true;
    }
    items[items.length - 1] = { t: 'repeat', body: last, min, max, lazy, possessive };
  }

  private readName(term: number, what: string): string {
    const start = this.pos;
    while (this.pos < this.src.length && this.src[this.pos] !== term) this.pos++;
    if (this.pos >= this.src.length) this.err(`missing ${this.ch(term)}, unterminated name`, start);
    const name = String.fromCodePoint(...this.src.slice(start, this.pos));
    this.pos++;
    if (!name) this.err(`missing ${what}`, start);
    return name;
  }

  private checkName(name: string, pos: number): void {
    const ok = this.binary ? /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) : /^[\p{ID_Start}_][\p{ID_Continue}]*$/u.test(name);
    if (!ok) this.err(`bad character in group name '${name}'`, pos);
  }

  private checkRef(gid: number, pos: number): void {
    if (this.open.has(gid)) this.err('cannot refer to an open group', pos);
    if (this.lookbehindGroups !== null && gid >= this.lookbehindGroups) {
      this.err('cannot refer to group defined in the same lookbehind subpattern', pos);
    }
  }

  private body(nested: number, flags: PyFlags, start: number): RNode {
    const node = this.parseAlt(nested + 1, flags);
    if (this.peek() !== C(')')) this.err('missing ), unterminated subpattern', start);
    this.pos++;
    return node;
  }

  private capture(name: string | null, nested: number, flags: PyFlags, start: number): RNode {
    const gid = this.groups++;
    if (name !== null) this.names.set(name, gid);
    this.open.add(gid);
    const body = this.body(nested, flags, start);
    this.open.delete(gid);
    this.groupWidths.set(gid, width(body, this.groupWidths));
    return { t: 'group', index: gid, name, body };
  }

  /** After `(`. Returns a node, null for a comment, or 'flags' for global inline flags. */
  private parseGroup(nested: number, flags: PyFlags, start: number, atStart: boolean): RNode | null | 'flags' {
    if (this.peek() !== C('?')) return this.capture(null, nested, flags, start);
    this.pos++;
    const c = this.src[this.pos++];
    if (c === undefined) this.err('unexpected end of pattern', this.pos);
    switch (String.fromCodePoint(c)) {
      case ':':
        return { t: 'group', index: null, name: null, body: this.body(nested, flags, start) };
      case 'P': {
        const k = this.src[this.pos++];
        if (k === C('<')) {
          const namePos = this.pos;
          const name = this.readName(C('>'), 'group name');
          this.checkName(name, namePos);
          const prev = this.names.get(name);
          if (prev !== undefined)
            this.err(`redefinition of group name '${name}' as group ${this.groups}; was group ${prev}`, namePos);
          return this.capture(name, nested, flags, start);
        }
        if (k === C('=')) {
          const namePos = this.pos;
          const name = this.readName(C(')'), 'group name');
          this.checkName(name, namePos);
          const gid = this.names.get(name);
          if (gid === undefined) this.err(`unknown group name '${name}'`, namePos);
          this.checkRef(gid, namePos);
          return { t: 'ref', index: gid, i: flags.i };
        }
        if (k === undefined) this.err('unexpected end of pattern', this.pos);
        return this.err(`unknown extension ?P${this.ch(k)}`, start + 1);
      }
      case '=':
      case '!':
        return { t: 'look', behind: false, neg: c === C('!'), body: this.body(nested, flags, start) };
      case '<': {
        const k = this.src[this.pos++];
        if (k !== C('=') && k !== C('!')) {
          if (k === undefined) this.err('unexpected end of pattern', this.pos);
          return this.err(`unknown extension ?<${this.ch(k)}`, start + 1);
        }
        const outer = this.lookbehindGroups;
        if (outer === null) this.lookbehindGroups = this.groups;
        const body = this.body(nested, flags, start);
        this.lookbehindGroups = outer;
        const [lo, hi] = width(body, this.groupWidths);
        if (lo !== hi) this.err('look-behind requires fixed-width pattern', start);
        return { t: 'look', behind: true, neg: k === C('!'), body };
      }
      case '#':
        while (this.pos < this.src.length && this.src[this.pos] !== C(')')) this.pos++;
        if (this.pos >= this.src.length) this.err('missing ), unterminated comment', start);
        this.pos++;
        return null;
      case '>':
        return { t: 'atomic', body: this.body(nested, flags, start) };
      case '(':
        return this.err('conditional groups (?(id)yes|no) are not supported by mitmts filters', start);
      default:
        if (FLAG_LETTERS.has(String.fromCodePoint(c)) || c === C('-'))
          return this.inlineFlags(c, nested, flags, start, atStart);
        return this.err(`unknown extension ?${this.ch(c)}`, start + 1);
    }
  }

  private inlineFlags(first: number, nested: number, flags: PyFlags, start: number, atStart: boolean): RNode | 'flags' {
    const add = new Set<string>();
    const del = new Set<string>();
    let c: number | undefined = first;
    if (c !== C('-')) {
      for (;;) {
        const f = String.fromCodePoint(c);
        if (!this.binary && f === 'L') this.err("bad inline flags: cannot use 'L' flag with a str pattern");
        if (this.binary && f === 'u') this.err("bad inline flags: cannot use 'u' flag with a bytes pattern");
        add.add(f);
        if (['a', 'u', 'L'].filter((x) => add.has(x)).length > 1)
          this.err("bad inline flags: flags 'a', 'u' and 'L' are incompatible");
        c = this.src[this.pos++];
        if (c === undefined) this.err('missing -, : or )');
        if (c === C(')') || c === C('-') || c === C(':')) break;
        if (!FLAG_LETTERS.has(String.fromCodePoint(c))) {
          this.err(/\p{L}/u.test(String.fromCodePoint(c)) ? 'unknown flag' : 'missing -, : or )', this.pos - 1);
        }
      }
    }
    if (c === C(')')) {
      if (!atStart) this.err('global flags not at the start of the expression', start);
      this.applyFlags(this.flags, add, del);
      return 'flags';
    }
    if (c === C('-')) {
      c = this.src[this.pos++];
      if (c === undefined) this.err('missing flag');
      if (!FLAG_LETTERS.has(String.fromCodePoint(c))) {
        this.err(/\p{L}/u.test(String.fromCodePoint(c)) ? 'unknown flag' : 'missing flag', this.pos - 1);
      }
      for (;;) {
        const f = String.fromCodePoint(c);
        if (f === 'a' || f === 'u' || f === 'L') this.err("bad inline flags: cannot turn off flags 'a', 'u' and 'L'");
        del.add(f);
        c = this.src[this.pos++];
        if (c === undefined) this.err('missing :');
        if (c === C(':')) break;
        if (!FLAG_LETTERS.has(String.fromCodePoint(c))) {
          this.err(/\p{L}/u.test(String.fromCodePoint(c)) ? 'unknown flag' : 'missing :', this.pos - 1);
        }
      }
    }
    for (const f of add) if (del.has(f)) this.err('bad inline flags: flag turned on and off', this.pos - 1);
    const scoped = { ...flags };
    this.applyFlags(scoped, add, del);
    return { t: 'group', index: null, name: null, body: this.body(nested, scoped, start) };
  }

  private applyFlags(target: PyFlags, add: Set<string>, del: Set<string>): void {
    for (const f of add) {
      if (f === 'i' || f === 'm' || f === 's' || f === 'x') target[f] = true;
      else if (f === 'a' || f === 'L') target.a = true;
      else if (f === 'u') target.a = false;
    }
    for (const f of del) if (f === 'i' || f === 'm' || f === 's' || f === 'x') target[f] = false;
  }

  private hexEscape(n: number, start: number, prefix: string): number {
    let s = '';
    while (s.length < n && isHex(this.peek())) s += this.ch(this.src[this.pos++]);
    if (s.length !== n) this.err(`incomplete escape \\${prefix}${s}`, start);
    return parseInt(s, 16);
  }

  /** Escapes shared by both contexts; returns null if not one of them. */
  private commonEscape(c: number, start: number): number | null {
    const k = String.fromCodePoint(c);
    if (k === 'x') return this.hexEscape(2, start, 'x');
    if (!this.binary && k === 'u') return this.hexEscape(4, start, 'u');
    if (!this.binary && k === 'U') {
      const v = this.hexEscape(8, start, 'U');
      if (v > 0x10ffff) this.err(`bad escape \\U${v.toString(16).padStart(8, '0')}`, start);
      return v;
    }
    if (!this.binary && k === 'N')
      this.err('named Unicode escapes (\\N{...}) are not supported by mitmts filters', start);
    return null;
  }

  private parseEscape(flags: PyFlags, start: number): RNode {
    const c = this.src[this.pos++];
    if (c === undefined) this.err('bad escape (end of pattern)', start);
    const k = String.fromCodePoint(c);
    const lit = (cp: number): RNode => ({ t: 'char', cp, i: flags.i, a: flags.a });
    if (k === 'A') return { t: 'at', at: 'A', m: flags.m, a: flags.a };
    if (k === 'Z' || k === 'z') return { t: 'at', at: 'Z', m: flags.m, a: flags.a };
    if (k === 'b') return { t: 'at', at: 'b', m: flags.m, a: flags.a };
    if (k === 'B') return { t: 'at', at: 'B', m: flags.m, a: flags.a };
    if (CATEGORIES.has(k)) return { t: 'cat', cat: k as Category, a: flags.a };
    if (k in SIMPLE_ESCAPES) return lit(SIMPLE_ESCAPES[k]!);
    const common = this.commonEscape(c, start);
    if (common !== null) return lit(common);
    if (k === '0') {
      let s = '0';
      while (s.length < 3 && isOct(this.peek())) s += this.ch(this.src[this.pos++]);
      return lit(parseInt(s, 8));
    }
    if (isDigit(c)) {
      let s = k;
      if (isDigit(this.peek())) {
        s += this.ch(this.src[this.pos++]);
        if (isOct(c) && isOct(s.charCodeAt(1)) && isOct(this.peek())) {
          s += this.ch(this.src[this.pos++]);
          const v = parseInt(s, 8);
          if (v > 0o377) this.err(`octal escape value \\${s} outside of range 0-0o377`, start);
          return lit(v);
        }
      }
      const gid = Number(s);
      if (gid < this.groups) {
        this.checkRef(gid, start);
        return { t: 'ref', index: gid, i: flags.i };
      }
      return this.err(`invalid group reference ${gid}`, start + 1);
    }
    if (c < 0x80 && isAsciiLetter(c)) this.err(`bad escape \\${k}`, start);
    return lit(c);
  }

  private classEscape(start: number): SetItem {
    const c = this.src[this.pos++];
    if (c === undefined) this.err('bad escape (end of pattern)', start);
    const k = String.fromCodePoint(c);
    if (k === 'b') return { k: 'char', cp: 8 };
    if (k in SIMPLE_ESCAPES) return { k: 'char', cp: SIMPLE_ESCAPES[k]! };
    if (CATEGORIES.has(k)) return { k: 'cat', cat: k as Category };
    const common = this.commonEscape(c, start);
    if (common !== null) return { k: 'char', cp: common };
    if (isOct(c)) {
      let s = k;
      while (s.length < 3 && isOct(this.peek())) s += this.ch(this.src[this.pos++]);
      const v = parseInt(s, 8);
      if (v > 0o377) this.err(`octal escape value \\${s} outside of range 0-0o377`, start);
      return { k: 'char', cp: v };
    }
    if (isDigit(c) || (c < 0x80 && isAsciiLetter(c))) this.err(`bad escape \\${k}`, start);
    return { k: 'char', cp: c };
  }

  private parseSet(flags: PyFlags, start: number): RNode {
    const items: SetItem[] = [];
    let neg = false;
    if (this.peek() === C('^')) {
      this.pos++;
      neg = true;
    }
    for (;;) {
      const here = this.pos;
      const c = this.src[this.pos++];
      if (c === undefined) this.err('unterminated character set', start);
      if (c === C(']') && items.length > 0) break;
      const code1: SetItem = c === C('\\') ? this.classEscape(here) : { k: 'char', cp: c };
      if (this.peek() === C('-')) {
        this.pos++;
        const thatPos = this.pos;
        const that = this.src[this.pos++];
        if (that === undefined) this.err('unterminated character set', start);
        if (that === C(']')) {
          items.push(code1, { k: 'char', cp: C('-') });
          break;
        }
        const code2: SetItem = that === C('\\') ? this.classEscape(thatPos) : { k: 'char', cp: that };
        const text = (a: number, b: number) => String.fromCodePoint(...this.src.slice(a, b));
        if (code1.k !== 'char' || code2.k !== 'char' || code2.cp < code1.cp) {
          this.err(`bad character range ${text(here, thatPos - 1)}-${text(thatPos, this.pos)}`, here);
        }
        items.push({ k: 'range', lo: code1.cp, hi: code2.cp });
      } else {
        items.push(code1);
      }
    }
    return { t: 'set', neg, items, i: flags.i, a: flags.a };
  }
}
