/**
 * `mitmts flows FILE... [FILTER]`: read `.mitm` or HAR files, filter them, print one JSON
 * object per flow (NDJSON) or a summary. Output is bounded (bodies cut to `--max-body`,
 * messages to `--max-messages`, flows to `--limit`) and stable (fields in the order asked for,
 * flows in file order), so programs can consume it.
 */
import { existsSync } from 'node:fs';
import { FilterError } from '../filter/errors.js';
import { parseFilter, type Filter } from '../filter/filter.js';
import { FlowReadError } from './errors.js';
import { DEFAULT_FIELDS, FLOW_FIELDS, FlowFields, UnknownFieldError } from './flow-json.js';
import { SummaryCounter } from './flow-summary.js';
import { FlowReader } from './reader.js';

export const FLOWS_HELP = `Usage: mitmts flows FILE... [FILTER] [options]

Read mitmproxy flow files (.mitm, any format version mitmproxy reads) or HAR files, keep the
flows matching FILTER (mitmproxy filter syntax, e.g. '~d example.com & ~c 200'), and print one
JSON object per flow, one per line. FILE may be - for standard input.

The last argument is the filter when it is not an existing file; use --filter when a filter
could be mistaken for a file name.

Options:
  --fields LIST       comma-separated fields to print, in this order
                      (default: ${DEFAULT_FIELDS.join(',')})
  --filter EXPR       the filter expression (instead of the positional FILTER)
  --max-body N        bytes of each decoded body to print (default 1024); longer bodies are cut
                      and marked "truncated": true; "size" is always the full decoded size
  --max-messages N    messages printed per WebSocket/TCP/UDP flow (default 20)
  --limit N           stop after N matching flows
  --summary           print one JSON object with counts by type, host, method, status and
                      content type instead of the flows
  --list-fields       print the available field names, one per line
  -h, --help          show this help

Fields use mitmproxy's names: id, type, request.method, request.url, request.headers,
request.headers.<name>, request.content, response.status_code, response.headers,
response.content, websocket.messages, messages, error, ... (see --list-fields).
A body prints as {"size", "truncated", "encoding": "utf-8"|"base64", "data"}.
A field that does not apply to a flow prints as null.

Exit status: 0 on success (also when nothing matched), 1 if a file could not be read (the flows
before the problem are printed), 2 for a usage error.`;

interface Args {
  files: string[];
  filter: string | undefined;
  fields: string[];
  maxBody: number;
  maxMessages: number;
  limit: number;
  summary: boolean;
  listFields: boolean;
  help: boolean;
}

class UsageError extends Error {}

function intArg(name: string, v: string | undefined): number {
  if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`${name} needs a non-negative integer, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  return Number(v);
}

export function parseFlowsArgs(argv: readonly string[]): Args {
  const a: Args = {
    files: [],
    filter: undefined,
    fields: [...DEFAULT_FIELDS],
    maxBody: 1024,
    maxMessages: 20,
    limit: Infinity,
    summary: false,
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
        a.fields = v.split(',').map((s) => s.trim()).filter(Boolean);
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
      case '--limit':
        a.limit = intArg('--limit', next());
        break;
      case '--summary':
        a.summary = true;
        break;
      case '--list-fields':
        a.listFields = true;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  if (a.filter === undefined && positional.length >= 2) {
    const last = positional[positional.length - 1]!;
    if (last !== '-' && !existsSync(last)) a.filter = positional.pop();
  }
  a.files = positional;
  return a;
}

/** Write a line, waiting when the stream asks for it; false once the reader went away. */
function writer(out: NodeJS.WritableStream): (line: string) => Promise<boolean> {
  let closed = false;
  out.on('error', () => (closed = true));
  return async (line) => {
    if (closed) return false;
    if (out.write(line + '\n')) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        out.off('drain', done);
        out.off('error', fail);
        out.off('close', fail);
        resolve();
      };
      const fail = (): void => {
        closed = true;
        done();
      };
      out.on('drain', done);
      out.on('error', fail);
      out.on('close', fail);
    });
    return !closed;
  };
}

/**
 * Run `mitmts flows` with its arguments (without the `flows` word). Resolves to the exit code.
 * `stdin` is what the file name `-` reads.
 */
export async function runFlowsCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<number> {
  const fail = (msg: string, code: number): number => {
    err.write(`mitmts flows: ${msg}\n`);
    return code;
  };
  let args: Args;
  let fields: FlowFields;
  let filter: Filter | null = null;
  try {
    args = parseFlowsArgs(argv);
    if (args.help) {
      out.write(FLOWS_HELP + '\n');
      return 0;
    }
    if (args.listFields) {
      out.write([...Object.keys(FLOW_FIELDS), 'request.headers.<name>', 'response.headers.<name>'].join('\n') + '\n');
      return 0;
    }
    if (args.files.length === 0) throw new UsageError('no flow file given');
    fields = new FlowFields(args.fields);
    if (args.filter !== undefined) filter = parseFilter(args.filter);
  } catch (e) {
    if (e instanceof UsageError || e instanceof FilterError || e instanceof UnknownFieldError) {
      return fail(`${e.message}\nRun 'mitmts flows --help' for usage.`, 2);
    }
    throw e;
  }
  for (const f of args.files) {
    if (f !== '-' && !existsSync(f)) {
      return fail(`${f}: no such file. Give the flow files first, then the filter (or use --filter).`, 2);
    }
  }

  const write = writer(out);
  const summary = args.summary ? new SummaryCounter() : null;
  let printed = 0;
  try {
    for (const file of args.files) {
      if (printed >= args.limit) break;
      const source = file === '-' ? stdin : file;
      const name = file === '-' ? '<stdin>' : file;
      for await (const flow of new FlowReader(source, { name, filter })) {
        printed++;
        if (summary !== null) summary.add(flow);
        else if (!(await write(JSON.stringify(fields.extract(flow, { maxBody: args.maxBody, maxMessages: args.maxMessages, file: name }))))) {
          return 0; // the reader closed the pipe (e.g. `| head`)
        }
        if (printed >= args.limit) break;
      }
    }
  } catch (e) {
    if (e instanceof FlowReadError) {
      if (summary !== null) await write(JSON.stringify(summary.result()));
      return fail(e.message, 1);
    }
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('E')) return fail(e.message, 1);
    throw e;
  }
  if (summary !== null) await write(JSON.stringify(summary.result()));
  return 0;
}
