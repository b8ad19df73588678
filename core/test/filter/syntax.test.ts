import { describe, expect, it } from 'vitest';
import {
  FILTER_HELP,
  FilterError,
  FilterErrorCode,
  matchAll,
  OPERATORS,
  parseFilter,
  type FilterNode,
} from '../../src/filter/index.js';
import { tflow, ttcpflow } from '../../src/flow/index.js';

/** Compact tree: `(and ~q (or ~c:404 ~c:200))`, regex args shown as `~u:/x/`. */
function shape(n: FilterNode): string {
  switch (n.kind) {
    case 'op':
      return n.arg === null ? `~${n.op}` : typeof n.arg === 'number' ? `~${n.op}:${n.arg}` : `~${n.op}:/${n.arg}/`;
    case 'not':
      return `(not ${shape(n.child)})`;
    default:
      return `(${n.kind} ${n.children.map(shape).join(' ')})`;
  }
}
const p = (s: string) => shape(parseFilter(s).ast);

function error(s: string): FilterError {
  try {
    parseFilter(s);
  } catch (e) {
    expect(e).toBeInstanceOf(FilterError);
    return e as FilterError;
  }
  throw new Error(`expected ${JSON.stringify(s)} to fail`);
}

describe('precedence: ! > & > | > juxtaposition', () => {
  it.each([
    ['~q', '~q'],
    ['!~q', '(not ~q)'],
    ['!!~q', '(not (not ~q))'],
    ['! ~q', '(not ~q)'],
    ['~q & ~s', '(and ~q ~s)'],
    ['~q | ~s', '(or ~q ~s)'],
    ['~q ~s', '(and ~q ~s)'],
    ['~q & ~s & ~e', '(and ~q ~s ~e)'],
    ['~q | ~s | ~e', '(or ~q ~s ~e)'],
    ['~q & ~c 404 | ~c 200', '(or (and ~q ~c:404) ~c:200)'],
    ['~c 200 | ~q & ~c 404', '(or ~c:200 (and ~q ~c:404))'],
    ['~s ~c 404 | ~c 200', '(and ~s (or ~c:404 ~c:200))'],
    ['!~q & ~s', '(and (not ~q) ~s)'],
    ['!~q | ~s', '(or (not ~q) ~s)'],
    ['!(~q | ~s )', '(not (or ~q ~s))'],
    ['!~c 201 !~c 202', '(and (not ~c:201) (not ~c:202))'],
    ['(~q | ~s ) & ~e', '(and (or ~q ~s) ~e)'],
    ['( ~q | ~s ) ~e', '(and (or ~q ~s) ~e)'],
    ['~q & (~s | ~e )', '(and ~q (or ~s ~e))'],
    ['((~q ) )', '~q'],
    ['(~q ~s ) | ~e', '(or (and ~q ~s) ~e)'],
    ['~q ~s & ~e | ~a', '(and ~q (or (and ~s ~e) ~a))'],
    ['~c 1|~q', '(or ~c:1 ~q)'],
    ['~c 2&~s', '(and ~c:2 ~s)'],
    ['~q &~s', '(and ~q ~s)'],
    ['~q |~s', '(or ~q ~s)'],
    ['(~c 200)', '~c:200'],
    ['(~u foo & ~h bar)', '(and ~u:/foo/ ~h:/bar/)'],
    ['~c 200foo', '(and ~c:200 ~u:/foo/)'],
  ])('%s => %s', (expr, tree) => expect(p(expr)).toBe(tree));
});

describe('arguments: words, quotes and escapes', () => {
  it.each([
    ['foo', '~u:/foo/'],
    ['moo|path', '~u:/moo|path/'],
    ['~h a&b', '~h:/a&b/'],
    ['~u \\d\\d/path', '~u:/\\d\\d/path/'],
    ['nothing|~q', '(and ~u:/nothing|/ ~q)'],
    ['& ~q', '(and ~u:/&/ ~q)'],
    ['| ~q', '(and ~u:/|/ ~q)'],
    ['!foo', '(not ~u:/foo/)'],
    ['foo!', '~u:/foo!/'],
    ['~q ~u a ~b c', '(and ~q ~u:/a/ ~b:/c/)'],
    ['~u   spaced', '~u:/spaced/'],
    ['~u\tx', '~u:/x/'],
    ["~u 'a b'", '~u:/a b/'],
    ['~u "a b"', '~u:/a b/'],
    ['~u "it\'s"', "~u:/it's/"],
    ['~u \'say "hi"\'', '~u:/say "hi"/'],
    ['~u "a\\"b"', '~u:/a"b/'],
    ["~u 'a\\'b'", "~u:/a'b/"],
    ['~u "a\\\\b"', '~u:/a\\b/'],
    ['~u "\\\\d"', '~u:/\\d/'],
    ['~u "\\d"', '~u:/d/'],
    ['~u "\\t"', '~u:/\t/'],
    ['~u "\\n\\r\\f"', '~u:/\n\r\f/'],
    ['~u "~q (x)"', '~u:/~q (x)/'],
    ["~u ''", '~u://'],
    ["~u 'a' 'b'", '(and ~u:/a/ ~u:/b/)'],
    ["~u foo'bar'", '(and ~u:/foo/ ~u:/bar/)'],
    ['foo(bar)', '(and ~u:/foo/ ~u:/bar/)'],
    ['~s шгн', '(and ~s ~u:/шгн/)'],
    ['~sшгн', '(and ~s ~u:/шгн/)'],
    ['~bs яч', '~bs:/яч/'],
    ['~c 0200', '~c:200'],
  ])('%s => %s', (expr, tree) => expect(p(expr)).toBe(tree));

  it('an empty quoted regex matches everything', () => {
    expect(parseFilter("~u ''")(tflow())).toBe(true);
    expect(parseFilter("''")(ttcpflow())).toBe(false); // ~u applies to HTTP and DNS only
  });
});

describe('errors (reference §5)', () => {
  it('empty expression', () => {
    const e = error('');
    expect(e.code).toBe(FilterErrorCode.EMPTY);
    expect(e.message).toBe('Empty filter expression');
  });

  it.each([
    ['~b', FilterErrorCode.SYNTAX, 2, 'expected a regex argument after ~b'],
    ['~q ~b', FilterErrorCode.SYNTAX, 5, 'expected a regex argument after ~b'],
    ['~c', FilterErrorCode.SYNTAX, 2, 'expected an integer argument after ~c'],
    ['~c abc', FilterErrorCode.SYNTAX, 3, 'expected an integer argument after ~c'],
    ['~c -1', FilterErrorCode.SYNTAX, 3, 'expected an integer argument after ~c'],
    ['~h [', FilterErrorCode.INVALID_REGEX, 3, 'invalid regex in ~h "[": unterminated character set at position 0'],
    ['~b ?', FilterErrorCode.INVALID_REGEX, 3, 'invalid regex in ~b "?": nothing to repeat at position 0'],
    ['(~q', FilterErrorCode.SYNTAX, 3, "expected ')' to close the '(' at position 0"],
    [
      '~q)',
      FilterErrorCode.SYNTAX,
      2,
      "~q must be followed by whitespace or the end of the expression, not ')' (write '~q )')",
    ],
    ['()', FilterErrorCode.SYNTAX, 1, "expected an expression after '('"],
    ['~m get(', FilterErrorCode.SYNTAX, 7, "expected an expression after '('"],
    ["~u 'unterminated", FilterErrorCode.SYNTAX, 3, "unterminated quoted string: missing closing '"],
    ['~nonexistent', FilterErrorCode.UNKNOWN_OPERATOR, 0, 'unknown operator ~nonexistent'],
    ['~websocket2', FilterErrorCode.UNKNOWN_OPERATOR, 0, 'unknown operator ~websocket2'],
    ['~x', FilterErrorCode.UNKNOWN_OPERATOR, 0, 'unknown operator ~x'],
    ['~q ~', FilterErrorCode.SYNTAX, 3, 'expected an operator name after ~ (e.g. ~u, ~h, ~c)'],
    ['!', FilterErrorCode.SYNTAX, 1, 'expected an expression after !'],
    ['~q &', FilterErrorCode.SYNTAX, 4, 'expected an expression after &'],
    ['~q |', FilterErrorCode.SYNTAX, 4, 'expected an expression after |'],
    ['~c 10 |', FilterErrorCode.SYNTAX, 7, 'expected an expression after |'],
    [
      '~q&~s',
      FilterErrorCode.SYNTAX,
      2,
      "~q must be followed by whitespace or the end of the expression, not '&' (write '~q &~s')",
    ],
    [
      '~s|~q',
      FilterErrorCode.SYNTAX,
      2,
      "~s must be followed by whitespace or the end of the expression, not '|' (write '~s |~q')",
    ],
    [
      '(~q)',
      FilterErrorCode.SYNTAX,
      3,
      "~q must be followed by whitespace or the end of the expression, not ')' (write '~q )')",
    ],
    ['~c200', FilterErrorCode.UNKNOWN_OPERATOR, 0, 'unknown operator ~c200'],
    ['~q ) ~s', FilterErrorCode.SYNTAX, 3, "unexpected ')' without a matching '('"],
    [')', FilterErrorCode.SYNTAX, 0, "unexpected ')' without a matching '('"],
    ["~u foo'bar", FilterErrorCode.SYNTAX, 6, "unterminated quoted string: missing closing '"],
    ['~u "a\nb"', FilterErrorCode.SYNTAX, 5, 'quoted strings cannot contain a line break (write \\n or \\r instead)'],
    ['~u (x)', FilterErrorCode.SYNTAX, 3, 'expected a regex argument after ~u'],
    ['~q ( )', FilterErrorCode.SYNTAX, 5, "expected an expression after '('"],
    ['~u "\\"', FilterErrorCode.SYNTAX, 3, 'unterminated quoted string: missing closing "'],
  ])('%j', (expr, code, position, detail) => {
    const e = error(expr);
    expect([e.code, e.position, e.detail]).toEqual([code, position, detail]);
    expect(e.message).toBe(`Invalid filter expression at position ${position}: ${detail}`);
    expect(e.expression).toBe(expr);
  });

  it('points at the error', () => {
    expect(error('~q ~b').pointer()).toBe('~q ~b\n     ^');
  });
});

describe('worked examples (reference §6)', () => {
  const f = tflow({ resp: true });
  it.each([
    ['~s & ~c 200', true],
    ["~h 'HEADER: QVALUE'", true],
    ["~hq 'header-response: svalue'", false],
    ['~bq message', false],
    ['~bs message', true],
    ['~q | ~s & ~c 201', false],
    ['!~c 201 !~c 202', true],
    ['address:22/path', true],
    ['~src :22', true],
    ['~dst address:22', true],
    ['~u "\\\\d\\\\d/path"', true],
    ['~u "\\d\\d/path"', false],
  ])('%s => %s', (expr, expected) => {
    const flt = parseFilter(expr);
    expect(flt(f)).toBe(expected);
    expect(flt.match(f)).toBe(expected);
  });
});

describe('Filter objects', () => {
  it('carry the pattern, a description and a dump', () => {
    const flt = parseFilter('~u foo & ~c 200');
    expect(flt.pattern).toBe('~u foo & ~c 200');
    expect(String(flt)).toBe('url matches /foo/i and response code is 200');
    expect(flt.describe()).toBe(String(flt));
    expect(flt.dump()).toBe('and\n  ~u /foo/i\n  ~c 200');
    expect(parseFilter('foo').dump()).toBe('~u (bare) /foo/i');
  });

  it.each([
    ['~q | ~s & ~c 201', 'has no response or (has a response and response code is 201)'],
    ['(~q | ~s ) ~e', '(has no response or has a response) and has an error'],
    ['!~h x', 'not header matches /x/im'],
    ['!(~b x & ~m y)', 'not (body matches /x/is and method matches /y/i)'],
    [
      '~all ~http ~websocket ~tcp ~udp ~dns',
      'any flow and is an HTTP flow and is a WebSocket flow and is a TCP flow and is a UDP flow and is a DNS flow',
    ],
    [
      '~marked ~replay ~replayq ~replays ~a',
      'is marked and is replayed and is a replayed client request and is a replayed server response and response is an asset',
    ],
    [
      '~d a ~hq b ~hs c ~t d ~tq e ~ts f',
      'domain matches /a/i and request header matches /b/im and response header matches /c/im and content type matches /d/i and request content type matches /e/i and response content type matches /f/i',
    ],
    [
      '~bq a ~bs b ~src c ~dst d ~meta e ~marker f ~comment g',
      'request body matches /a/is and response body matches /b/is and source address matches /c/i and destination address matches /d/i and metadata matches /e/im and marker matches /f/i and comment matches /g/im',
    ],
  ])('describes %s', (expr, text) => expect(String(parseFilter(expr))).toBe(text));

  it('are cached and shared', () => {
    expect(parseFilter('~q & ~s')).toBe(parseFilter('~q & ~s'));
    expect(parseFilter('~q & ~s', { caseSensitive: true })).not.toBe(parseFilter('~q & ~s'));
  });

  it('matchAll matches everything', () => {
    expect(matchAll(ttcpflow())).toBe(true);
    expect(matchAll.pattern).toBe('~all');
  });

  it('help lists every operator', () => {
    expect(OPERATORS.size).toBe(32);
    expect(FILTER_HELP.length).toBe(36);
    expect(FILTER_HELP).toContainEqual(['~c int', 'HTTP response code']);
    expect(FILTER_HELP).toContainEqual(['~bq regex', 'Request body']);
    expect(FILTER_HELP.slice(-4).map(([k]) => k)).toEqual(['!', '&', '|', '(...)']);
  });
});
