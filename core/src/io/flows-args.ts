/**
 * The command line of `mitmts flows`: options, files and the filter. Files come first; the last
 * word is the filter unless it names a file, exists, or looks like a flow file name (so that a
 * mistyped file is reported, never taken for a filter).
 */
import { existsSync } from 'node:fs';
import { DEFAULT_FIELDS } from './flow-json.js';
import { MIN_MAX_LINE } from './recon/output.js';

export interface FlowsArgs {
  files: string[];
  filter: string | undefined;
  fields: string[];
  /** --fields was given (group examples then use it too). */
  fieldsGiven: boolean;
  maxBody: number;
  maxMessages: number;
  /** Longest output line in bytes; 0 for no bound. */
  maxLine: number;
  /** Output budget in bytes (Infinity: none). */
  budget: number;
  limit: number;
  summary: boolean;
  group: 'endpoint' | null;
  schema: boolean;
  dedup: boolean;
  redact: boolean;
  binary: 'summary' | 'base64';
  listFields: boolean;
  help: boolean;
}

/** A usage mistake: exit status 2 with the message and a pointer to --help. */
export class UsageError extends Error {}

/** Bytes in a token for `--budget-tokens`: 3 is on the safe side for JSON with most tokenizers. */
export const BYTES_PER_TOKEN = 3;
export const DEFAULT_MAX_LINE = 8192;

function intArg(name: string, v: string | undefined): number {
  if (v === undefined || !/^\d+$/.test(v))
    throw new UsageError(
      `${name} needs a non-negative integer, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
    );
  return Number(v);
}

/** A byte count with an optional k or m suffix (powers of 1024). */
function sizeArg(name: string, v: string | undefined): number {
  const m = v === undefined ? null : /^(\d+)([km]?)$/i.exec(v);
  if (m === null)
    throw new UsageError(
      `${name} needs a number of bytes (k and m suffixes allowed, e.g. 64k), got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
    );
  return Number(m[1]) * (m[2]!.toLowerCase() === 'k' ? 1024 : m[2]!.toLowerCase() === 'm' ? 1024 * 1024 : 1);
}

/**
 * Names that are files, never filters: flow files, HAR, the flow store, or a path that starts
 * like one (`/`, `./`, `../`, `~/`). `example.com/api` stays a filter (a URL regex).
 */
const FILE_LIKE = /\.(mitm|flows?|har|zhar|json|db|sqlite3?|dump)$/i;
export function looksLikeFile(word: string): boolean {
  return FILE_LIKE.test(word) || /^(\.{0,2}\/|~\/)/.test(word);
}

export function parseFlowsArgs(argv: readonly string[]): FlowsArgs {
  const a: FlowsArgs = {
    files: [],
    filter: undefined,
    fields: [...DEFAULT_FIELDS],
    fieldsGiven: false,
    maxBody: 1024,
    maxMessages: 20,
    maxLine: DEFAULT_MAX_LINE,
    budget: Infinity,
    limit: Infinity,
    summary: false,
    group: null,
    schema: false,
    dedup: false,
    redact: true,
    binary: 'summary',
    listFields: false,
    help: false,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--') && arg.includes('=')) {
      value = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    }
    const next = (): string | undefined => value ?? argv[++i];
    switch (arg) {
      case '-h':
      case '--help':
        a.help = true;
        break;
      case '--fields': {
        const v = next();
        if (!v) throw new UsageError('--fields needs a comma-separated list of fields');
        const names = v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        // `+name` adds to the default fields instead of replacing them.
        a.fields = names.every((n) => n.startsWith('+'))
          ? [...DEFAULT_FIELDS, ...names.map((n) => n.slice(1))]
          : names.map((n) => n.replace(/^\+/, ''));
        a.fieldsGiven = true;
        break;
      }
      case '--filter':
        a.filter = next();
        if (a.filter === undefined) throw new UsageError('--filter needs an expression');
        break;
      case '--max-body':
        a.maxBody = intArg('--max-body', next());
        break;
      case '--max-messages':
        a.maxMessages = intArg('--max-messages', next());
        break;
      case '--max-line':
        a.maxLine = intArg('--max-line', next());
        if (a.maxLine !== 0 && a.maxLine < MIN_MAX_LINE)
          throw new UsageError(`--max-line must be 0 (no bound) or at least ${MIN_MAX_LINE} bytes, got ${a.maxLine}`);
        break;
      case '--budget':
        a.budget = sizeArg('--budget', next());
        break;
      case '--budget-tokens':
        a.budget = intArg('--budget-tokens', next()) * BYTES_PER_TOKEN;
        break;
      case '--limit':
        a.limit = intArg('--limit', next());
        break;
      case '--summary':
        a.summary = true;
        break;
      case '--group': {
        const v = next();
        if (v !== 'endpoint')
          throw new UsageError(
            `--group takes 'endpoint' (method, host and path template), got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
          );
        a.group = v;
        break;
      }
      case '--schema':
        a.schema = true;
        a.group = 'endpoint';
        break;
      case '--dedup':
        a.dedup = true;
        break;
      case '--no-redact':
        a.redact = false;
        break;
      case '--binary': {
        const v = next();
        if (v !== 'summary' && v !== 'base64')
          throw new UsageError(
            `--binary takes 'summary' or 'base64', got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
          );
        a.binary = v;
        break;
      }
      case '--list-fields':
        a.listFields = true;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  if (a.summary && a.group !== null)
    throw new UsageError('--summary and --group/--schema are two different outputs: pick one');
  if (a.dedup && (a.summary || a.group !== null))
    throw new UsageError('--dedup applies to the flow list; --summary and --group already aggregate');
  if (a.filter === undefined && positional.length >= 2) {
    const last = positional[positional.length - 1]!;
    if (last !== '-' && !existsSync(last) && !looksLikeFile(last)) a.filter = positional.pop();
  }
  a.files = positional;
  return a;
}
