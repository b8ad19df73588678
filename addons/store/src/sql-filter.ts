/**
 * Filter expressions as SQL prefilters. Each node of a parsed filter becomes two conditions on
 * the indexed columns: a necessary one (every matching flow satisfies it: the candidates) and a
 * sufficient one (only matching flows satisfy it). `!x` swaps them, `&`/`|` combine them, and
 * an operator SQL cannot see (headers, bodies, metadata) is necessary TRUE / sufficient FALSE.
 * The real filter then runs on the candidates, so results equal the in-memory filter exactly;
 * when both conditions coincide the prefilter is exact and no flow needs decoding to filter.
 *
 * Regexes become `LIKE` (case-insensitive, ASCII folding) or `GLOB` (case-sensitive) when they
 * are literal alternations (`example`, `api\.example\.com`, `^/v1|^/v2`). Python folds more
 * than ASCII (`k` matches the Kelvin sign), so a case-insensitive candidate condition also
 * admits every row with a non-ASCII character in a searched column (`ascii = 0`), and the real
 * filter decides those.
 */
import { regexLiterals, type Filter, type FilterNode, type LiteralBranch } from '@mitmts/sdk/store';

/** A SQL condition with its bound parameters (`?`, in order). */
export interface Sql {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** What a filter says in SQL. */
export interface Prefilter {
  /** Candidates: every flow the filter matches satisfies this. */
  readonly where: Sql;
  /** Sure matches: a candidate satisfying this matches (no need to decode it and run the filter). */
  readonly sure: Sql;
  /** True if {@link where} and {@link sure} are the same condition: SQL alone answers the filter. */
  readonly exact: boolean;
}

const TRUE: Sql = { sql: '1', params: [] };
const FALSE: Sql = { sql: '0', params: [] };
const raw = (sql: string): Sql => ({ sql, params: [] });

interface Cond {
  /** Necessary. */
  readonly n: Sql;
  /** Sufficient. */
  readonly s: Sql;
}

const exactly = (c: Sql): Cond => ({ n: c, s: c });
const UNKNOWN: Cond = { n: TRUE, s: FALSE };

function and(parts: readonly Sql[]): Sql {
  const kept = parts.filter((p) => p !== TRUE);
  if (kept.some((p) => p === FALSE)) return FALSE;
  if (kept.length === 0) return TRUE;
  if (kept.length === 1) return kept[0]!;
  return { sql: kept.map((p) => `(${p.sql})`).join(' AND '), params: kept.flatMap((p) => p.params) };
}

function or(parts: readonly Sql[]): Sql {
  const kept = parts.filter((p) => p !== FALSE);
  if (kept.some((p) => p === TRUE)) return TRUE;
  if (kept.length === 0) return FALSE;
  if (kept.length === 1) return kept[0]!;
  return { sql: kept.map((p) => `(${p.sql})`).join(' OR '), params: kept.flatMap((p) => p.params) };
}

function not(p: Sql): Sql {
  if (p === TRUE) return FALSE;
  if (p === FALSE) return TRUE;
  return { sql: `NOT (${p.sql})`, params: p.params };
}

const both = (f: (parts: readonly Sql[]) => Sql, cs: readonly Cond[]): Cond => ({
  n: f(cs.map((c) => c.n)),
  s: f(cs.map((c) => c.s)),
});

/** Some searched column of the row holds a non-ASCII character (the writer sets `ascii`). */
const NON_ASCII = raw('ascii = 0');

function likePattern(b: LiteralBranch): string {
  let p = b.anchoredStart ? '' : '%';
  for (const c of b.chars)
    p +=
      c === -1
        ? '_'
        : /[%_\\]/.test(String.fromCodePoint(c))
          ? `\\${String.fromCodePoint(c)}`
          : String.fromCodePoint(c);
  return `${p}%`;
}

function globPattern(b: LiteralBranch): string {
  let p = b.anchoredStart ? '' : '*';
  for (const c of b.chars)
    p +=
      c === -1 ? '?' : /[*?[]/.test(String.fromCodePoint(c)) ? `[${String.fromCodePoint(c)}]` : String.fromCodePoint(c);
  return `${p}*`;
}

/**
 * One literal branch on one column. `folded`: the column holds the subject upper-cased (the
 * method), so only case-insensitive conditions are sound on it.
 */
function branchCond(col: string, b: LiteralBranch, folded: boolean): Cond {
  // NUL would cut the pattern short inside SQLite's LIKE/GLOB: no prefilter.
  if (b.chars.includes(0)) return UNKNOWN;
  // An empty regex matches everything, as does a lone ^ or $; `^$` is left to the real filter.
  if (b.chars.length === 0) return b.anchoredStart && b.anchoredEnd ? UNKNOWN : exactly(TRUE);
  const wild = b.chars.includes(-1);
  const ascii = b.chars.every((c) => c >= -1 && c < 0x80);
  if (b.fold === 'none' && !folded) {
    // Case-sensitive: GLOB is exact, but its `?` also matches a newline where `.` does not.
    const c: Sql = { sql: `${col} GLOB ?`, params: [globPattern(b)] };
    return { n: c, s: wild || b.anchoredEnd ? FALSE : c };
  }
  const like: Sql = { sql: `${col} LIKE ? ESCAPE '\\'`, params: [likePattern(b)] };
  const n = or([like, NON_ASCII]);
  // Upper-casing can turn a non-ASCII character into ASCII ones (ß -> SS): nothing is sure on a folded column.
  const sound = !folded && b.fold === 'all' && ascii && !wild && !b.anchoredEnd;
  return { n, s: sound ? and([like, raw('ascii = 1')]) : FALSE };
}

/** The regex of `node` on the given columns (any of them matching), or UNKNOWN. */
function regexOn(node: Extract<FilterNode, { kind: 'op' }>, cols: readonly string[], folded = false): Cond | null {
  const lit = regexLiterals(node);
  if (!lit) return null;
  return both(
    or,
    cols.map((col) =>
      both(
        or,
        lit.branches.map((b) => branchCond(col, b, folded)),
      ),
    ),
  );
}

/** A Content-Type column: values joined by newlines, `''` when there are none. */
function contentType(node: Extract<FilterNode, { kind: 'op' }>, col: string): Cond | null {
  const lit = regexLiterals(node);
  if (!lit) return null;
  // A non-empty literal cannot match inside an empty value; an empty regex needs a header to exist, which '' cannot tell.
  if (lit.branches.some((b) => b.chars.length === 0)) return { n: TRUE, s: FALSE };
  return both(and, [exactly(raw(`${col} <> ''`)), regexOn(node, [col])!]);
}

const HTTP = raw("type = 'http'");
const HTTP_OR_DNS = raw("type IN ('http', 'dns')");
const ASSET = raw(
  "type = 'http' AND has_response = 1 AND (" +
    [
      'text/javascript',
      'application/x-javascript',
      'application/javascript',
      'text/css',
      'image/',
      'font/',
      'application/font',
    ]
      .map((t) => `instr(resp_ctype, '${t}') > 0`)
      .join(' OR ') +
    ')',
);

function opCond(node: Extract<FilterNode, { kind: 'op' }>): Cond {
  const http = (c: Cond | null): Cond => (c ? both(and, [exactly(HTTP), c]) : UNKNOWN);
  switch (node.op) {
    case 'all':
      return exactly(TRUE);
    case 'http':
    case 'tcp':
    case 'udp':
    case 'dns':
      return exactly(raw(`type = '${node.op}'`));
    case 'websocket':
      return exactly(raw("type = 'http' AND websocket = 1"));
    case 'q':
      return exactly(and([HTTP_OR_DNS, raw('has_response = 0')]));
    case 's':
      return exactly(and([HTTP_OR_DNS, raw('has_response = 1')]));
    case 'e':
      return exactly(raw('error IS NOT NULL'));
    case 'marked':
      return exactly(raw("marked <> ''"));
    case 'replay':
      return exactly(raw('is_replay IS NOT NULL'));
    case 'replayq':
      return exactly(raw("is_replay IS 'request'"));
    case 'replays':
      return exactly(raw("is_replay IS 'response'"));
    case 'a':
      return exactly(ASSET);
    case 'c':
      return exactly({ sql: "type = 'http' AND has_response = 1 AND status = ?", params: [node.arg] });
    case 'u': {
      const c = regexOn(node, ['url']);
      if (!c) return UNKNOWN;
      // DNS flows without a question have url '' and never match ~u.
      return { n: and([HTTP_OR_DNS, c.n]), s: or([and([HTTP, c.s]), and([raw("type = 'dns' AND url <> ''"), c.s])]) };
    }
    case 'd':
      return http(regexOn(node, ['host', 'pretty_host']));
    case 'm':
      return http(regexOn(node, ['method'], true));
    case 't': {
      const req = contentType(node, 'req_ctype');
      const resp = contentType(node, 'resp_ctype');
      return req && resp ? http(both(or, [req, resp])) : UNKNOWN;
    }
    case 'tq':
      return http(contentType(node, 'req_ctype'));
    case 'ts':
      return http(contentType(node, 'resp_ctype'));
    case 'src':
    case 'dst': {
      const col = node.op;
      const c = regexOn(node, [col]);
      return c ? both(and, [exactly(raw(`${col} <> ''`)), c]) : UNKNOWN;
    }
    case 'marker':
      return regexOn(node, ['marked']) ?? UNKNOWN;
    case 'comment':
      return regexOn(node, ['comment']) ?? UNKNOWN;
    default:
      // ~h ~hq ~hs ~b ~bq ~bs ~meta: not in the columns.
      return UNKNOWN;
  }
}

function nodeCond(node: FilterNode): Cond {
  switch (node.kind) {
    case 'op':
      return opCond(node);
    case 'not': {
      const c = nodeCond(node.child);
      return { n: not(c.s), s: not(c.n) };
    }
    case 'and':
      return both(and, node.children.map(nodeCond));
    case 'or':
      return both(or, node.children.map(nodeCond));
  }
}

/** The SQL prefilter of a filter (none: every row). */
export function prefilter(filter: Filter | null): Prefilter {
  if (filter === null) return { where: TRUE, sure: TRUE, exact: true };
  const c = nodeCond(filter.ast);
  const exact =
    c.n.sql === c.s.sql && c.n.params.length === c.s.params.length && c.n.params.every((p, i) => p === c.s.params[i]);
  return { where: c.n, sure: c.s, exact };
}
