import type { Flow } from '../flow/flow.js';
import { OPERATORS, type Matcher } from './operators.js';
import { parseExpression, type FilterNode } from './parser.js';

/**
 * A compiled flow filter. Call it (or its `match`) with a flow; `pattern` is the source text,
 * `toString()`/`describe()` a human description such as
 * `url matches /foo/i and response code is 200`.
 */
export interface Filter {
  (flow: Flow): boolean;
  /** Same as calling the filter. */
  match(flow: Flow): boolean;
  /** The expression this filter was parsed from. */
  readonly pattern: string;
  /** The parsed expression. */
  readonly ast: FilterNode;
  /** Human description, e.g. `url matches /foo/i and response code is 200`. */
  describe(): string;
  /** An indented debug tree of the expression. */
  dump(): string;
  toString(): string;
}

/** Options for {@link parseFilter}. */
export interface ParseFilterOptions {
  /**
   * Match regexes case-sensitively. Default: case-insensitive, unless the environment variable
   * `MITMPROXY_CASE_SENSITIVE_FILTERS=1` is set when the filter is parsed.
   */
  caseSensitive?: boolean;
}

function compileNode(node: FilterNode): Matcher {
  switch (node.kind) {
    case 'op': {
      const spec = OPERATORS.get(node.op)!;
      return spec.build(spec.arg === 'regex' ? node.re! : (node.arg as number));
    }
    case 'not': {
      const m = compileNode(node.child);
      return (f) => !m(f);
    }
    case 'and': {
      const ms = node.children.map(compileNode);
      if (ms.length === 2) {
        const [a, b] = ms as [Matcher, Matcher];
        return (f) => a(f) && b(f);
      }
      return (f) => {
        for (let i = 0; i < ms.length; i++) if (!ms[i]!(f)) return false;
        return true;
      };
    }
    case 'or': {
      const ms = node.children.map(compileNode);
      if (ms.length === 2) {
        const [a, b] = ms as [Matcher, Matcher];
        return (f) => a(f) || b(f);
      }
      return (f) => {
        for (let i = 0; i < ms.length; i++) if (ms[i]!(f)) return true;
        return false;
      };
    }
  }
}

function regexText(node: Extract<FilterNode, { kind: 'op' }>): string {
  const spec = OPERATORS.get(node.op)!;
  return `/${String(node.arg)}/${node.ignoreCase ? 'i' : ''}${spec.reFlags ?? ''}`;
}

/** Human description of a filter tree. */
export function describeNode(node: FilterNode): string {
  switch (node.kind) {
    case 'op': {
      const spec = OPERATORS.get(node.op)!;
      if (spec.arg === 'none') return spec.describe;
      if (spec.arg === 'int') return `${spec.describe} ${String(node.arg)}`;
      return `${spec.describe} matches ${regexText(node)}`;
    }
    case 'not':
      return node.child.kind === 'op' ? `not ${describeNode(node.child)}` : `not (${describeNode(node.child)})`;
    case 'and':
      return node.children.map((c) => (c.kind === 'or' ? `(${describeNode(c)})` : describeNode(c))).join(' and ');
    case 'or':
      return node.children.map((c) => (c.kind === 'and' ? `(${describeNode(c)})` : describeNode(c))).join(' or ');
  }
}

function dumpNode(node: FilterNode, indent: number, out: string[]): void {
  const pad = '  '.repeat(indent);
  if (node.kind === 'op') {
    const spec = OPERATORS.get(node.op)!;
    const arg = spec.arg === 'regex' ? ` ${regexText(node)}` : spec.arg === 'int' ? ` ${String(node.arg)}` : '';
    out.push(`${pad}~${node.op}${node.bare ? ' (bare)' : ''}${arg}`);
    return;
  }
  out.push(`${pad}${node.kind}`);
  if (node.kind === 'not') dumpNode(node.child, indent + 1, out);
  else for (const c of node.children) dumpNode(c, indent + 1, out);
}

const CACHE_LIMIT = 512;
const cache = new Map<string, Filter>();

function caseSensitiveDefault(): boolean {
  return process.env['MITMPROXY_CASE_SENSITIVE_FILTERS'] === '1';
}

/**
 * Parse and compile a filter expression (mitmproxy's filter language). Compiled filters are
 * immutable and cached by expression text.
 * @throws FilterError (with `code`, `position`) if the expression is empty or invalid.
 */
export function parseFilter(text: string, options: ParseFilterOptions = {}): Filter {
  const caseSensitive = options.caseSensitive ?? caseSensitiveDefault();
  const key = (caseSensitive ? '1' : '0') + text;
  const hit = cache.get(key);
  if (hit) return hit;
  const ast = parseExpression(text, caseSensitive);
  const m = compileNode(ast);
  const filter = function filter(flow: Flow): boolean {
    return m(flow);
  } as Filter;
  const describe = (): string => describeNode(ast);
  Object.defineProperties(filter, {
    match: { value: (flow: Flow): boolean => m(flow) },
    pattern: { value: text, enumerable: true },
    ast: { value: ast },
    describe: { value: describe },
    toString: { value: describe },
    dump: {
      value: (): string => {
        const out: string[] = [];
        dumpNode(ast, 0, out);
        return out.join('\n');
      },
    },
  });
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, filter);
  return filter;
}

/**
 * Match a flow against a filter or expression (an expression is parsed first, so it can throw
 * FilterError). A null/undefined filter matches everything.
 */
export function matchFilter(filter: string | Filter | null | undefined, flow: Flow): boolean {
  if (filter === null || filter === undefined) return true;
  const f = typeof filter === 'string' ? parseFilter(filter) : filter;
  return f(flow);
}

/** A filter that matches every flow (`~all`). */
export const matchAll: Filter = parseFilter('~all');
