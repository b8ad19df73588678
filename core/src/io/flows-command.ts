/**
 * `mitmts flows FILE... [FILTER]`: read `.mitm`, HAR or store files, filter them, print one JSON
 * object per flow (NDJSON), per distinct request (`--dedup`), per endpoint (`--group`,
 * `--schema`) or a summary. Built for reading by people and models: every line bounded
 * (`--max-line`), the whole output bounded (`--budget`), secrets redacted, bodies rendered as
 * values; stable (fields in the order asked for, flows in file order).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { FilterError } from '../filter/errors.js';
import { parseFilter, type Filter } from '../filter/filter.js';
import { runConvertCommand } from './convert-command.js';
import { FlowReadError } from './errors.js';
import { parseFlowsArgs, UsageError, BYTES_PER_TOKEN, DEFAULT_MAX_LINE, type FlowsArgs } from './flows-args.js';
import { DEFAULT_FIELDS, FLOW_FIELDS, FlowFields, UnknownFieldError, type FlowJsonOptions } from './flow-json.js';
import { DedupList, FlowList, Groups, Summary, type FlowSink } from './flows-sinks.js';
import { RecordOutput } from './recon/output.js';
import { Redactor } from './recon/redact.js';
import { prepareFlowFile } from './formats.js';
import { FlowReader } from './reader.js';

export { parseFlowsArgs } from './flows-args.js';

export const FLOWS_HELP = `Usage: mitmts flows FILE... [FILTER] [options]
       mitmts flows convert IN OUT --to 17|21 [FILTER]

Read mitmproxy flow files (.mitm, any format version mitmproxy reads), HAR files or flow store
databases (--set store=flows.db; their indexes answer the filter), keep the flows matching
FILTER (mitmproxy filter syntax, e.g. '~d example.com & ~c 200'), and print one JSON object per
flow, one per line. FILE may be - for standard input.

The last argument is the filter unless it is an existing file or looks like one (starting with
/, ./, ../ or ~/, or ending in .mitm, .har, .json, .db, ...): a missing file is an error, never
a filter. Use --filter when a filter could be mistaken for a file name.

Output:
  --fields LIST       comma-separated fields to print, in this order; +a,+b adds to the default
                      (default: ${DEFAULT_FIELDS.join(',')})
  --filter EXPR       the filter expression (instead of the positional FILTER)
  --dedup             print each distinct request (method, URL, body) once, with "count"
  --group endpoint    one line per endpoint (method, host, path with ids as {id}): count,
                      statuses, content types, query parameter names and one example
  --schema            with the groups, the inferred shape of JSON request and response bodies
                      (and of event-stream events), merged over every flow of the endpoint
  --summary           one line of counts by type, host, method, status and content type
  --list-fields       print the available field names, one per line

Bounds (for reading by people and models):
  --max-body N        bytes of each decoded body (default 1024); longer bodies are cut or,
                      when structured, shrunk, and marked "truncated": true
  --max-line N        bytes per output line, headers included (default ${DEFAULT_MAX_LINE}; 0: no bound);
                      longer lines get their values shortened and "_cut" added
  --budget BYTES      stop printing before the output passes BYTES (k, m suffixes); a last line
                      "_truncated" says how many flows (or endpoints) were left out
  --budget-tokens N   the same in model tokens, counted as ${BYTES_PER_TOKEN} bytes each
  --max-messages N    messages printed per WebSocket/TCP/UDP flow (default 20)
  --limit N           stop after N matching flows

Content:
  --no-redact         print secrets as they are. By default the values of Authorization,
                      Proxy-Authorization, Cookie, Set-Cookie and of every header, query, form
                      and JSON key naming a secret (api key, token, secret, password, session,
                      ...) and credential-looking text (JWTs, Bearer tokens, sk-... keys) print as
                      "<redacted N chars>"
  --binary MODE       binary bodies: summary (type, size, sha256; default) or base64 (the first
                      --max-body bytes)
  -h, --help          show this help

Fields use mitmproxy's names: id, type, request.method, request.url, request.query,
request.cookies, request.headers, request.headers.<name>, request.content,
response.status_code, response.headers, response.cookies, response.content,
server_conn.certificate, server_conn.certificate_list, websocket.messages, messages, error, ...
(see --list-fields). A body prints as {"size", "encoding", "truncated", "data"}: encoding is
"json" (data is the parsed value), "form" or "multipart" (an object of fields), "sse" (a list
of events), "ndjson", "utf-8" (text), "base64", or "binary" (no data: "type" and "sha256"), or "empty".
A field that does not apply to a flow prints as null.

Exit status: 0 on success (also when nothing matched), 1 if a file could not be read (the flows
before the problem are printed), 2 for a usage error or a missing or unreadable file.`;

/** Read size: nothing keeps the flows, so large reads cost no memory and save system calls. */
const READ_CHUNK = 1 << 20;

/** Why a file cannot be read, or null when it can. */
function unreadable(file: string): string | null {
  try {
    if (statSync(file).isDirectory()) return `${file}: is a directory, not a flow file`;
    accessSync(file, constants.R_OK);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return `${file}: no such file. Give the flow files first, then the filter (or use --filter).`;
    if (code === 'EACCES' || code === 'EPERM') return `${file}: cannot read it (permission denied)`;
    return `${file}: cannot read it (${(e as Error).message})`;
  }
}

/** The sink for the output the arguments ask for. */
function sinkFor(args: FlowsArgs, out: NodeJS.WritableStream, fields: FlowFields): FlowSink {
  const options: FlowJsonOptions = {
    maxBody: args.maxBody,
    maxMessages: args.maxMessages,
    redactor: new Redactor(args.redact),
    binary: args.binary,
  };
  const limits = { maxLine: args.maxLine, budget: args.budget };
  if (args.summary) return new Summary(new RecordOutput(out, limits, 'summaries'));
  if (args.group !== null) {
    const example = args.fieldsGiven ? fields : new FlowFields(GROUP_EXAMPLE_FIELDS);
    return new Groups(new RecordOutput(out, limits, 'endpoints'), example, options, args.schema);
  }
  const output = new RecordOutput(out, limits, 'flows');
  return args.dedup ? new DedupList(output, fields, options) : new FlowList(output, fields, options);
}

/** The fields of a group's example, unless --fields says otherwise. */
const GROUP_EXAMPLE_FIELDS = [
  'request.url',
  'request.headers',
  'request.content',
  'response.status_code',
  'response.headers',
  'response.content',
];

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
  if (argv[0] === 'convert') return runConvertCommand(argv.slice(1), out, err, stdin);
  let args: FlowsArgs;
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
    const why = f === '-' ? null : unreadable(f);
    if (why !== null) return fail(why, 2);
  }

  const sink = sinkFor(args, out, fields);
  let matched = 0;
  try {
    for (const file of args.files) {
      if (matched >= args.limit) break;
      const source = file === '-' ? stdin : file;
      const name = file === '-' ? '<stdin>' : file;
      if (file !== '-') await prepareFlowFile(file); // a registered format (the store) loads its reader first
      const reader = new FlowReader(source, { name, chunkSize: READ_CHUNK, filter });
      // Files are read synchronously (no thread-pool round trip per chunk); stdin is a stream.
      for await (const flow of file === '-' ? reader : { [Symbol.iterator]: () => reader[Symbol.iterator]() }) {
        matched++;
        const more = sink.add(flow, name);
        if (more === false || (more !== true && !(await more))) return 0; // the reader closed the pipe (e.g. `| head`)
        if (matched >= args.limit) break;
      }
    }
  } catch (e) {
    if (e instanceof FlowReadError) {
      await sink.finish();
      return fail(e.message, 1);
    }
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('E'))
      return fail(e.message, 1);
    throw e;
  }
  await sink.finish();
  return 0;
}
