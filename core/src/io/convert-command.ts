/**
 * `mitmts flows convert IN OUT --to 17|21 [FILTER]`: rewrite a flow file (any format mitmproxy
 * reads, or HAR) at another flow format: 17 for mitmproxy 7 and 8 (Debian's mitmproxy 8.1.1),
 * 21 for current mitmproxy and mitmts.
 */
import { FilterError } from '../filter/errors.js';
import { parseFilter, type Filter } from '../filter/filter.js';
import { FLOW_FORMAT_VERSION } from '../flow/state.js';
import { FlowReadError } from './errors.js';
import { FlowReader } from './reader.js';
import { FlowWriter, WRITABLE_FORMATS, type WritableFormat } from './writer.js';

export const CONVERT_HELP = `Usage: mitmts flows convert IN OUT --to FORMAT [FILTER]

Read IN (a .mitm file of any format mitmproxy reads, or HAR; - for standard input), keep the
flows matching FILTER, and write them to OUT (- for standard output) at flow format FORMAT:
  --to 17    mitmproxy 7 and 8 (e.g. Debian's mitmproxy 8.1.1); UDP and DNS flows, which
             that format cannot hold, are left out and counted
  --to 21    current mitmproxy and mitmts (the default)
  --filter EXPR   the filter (instead of the positional FILTER)

Exit status: 0 on success, 1 if IN could not be read completely (the flows before the problem
are written), 2 for a usage error.`;

class ConvertUsage extends Error {}

interface ConvertArgs {
  input: string;
  output: string;
  format: WritableFormat;
  filter: string | undefined;
}

function parseConvertArgs(argv: readonly string[]): ConvertArgs | 'help' {
  const pos: string[] = [];
  let format: WritableFormat = FLOW_FORMAT_VERSION;
  let filter: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    if (flag === '-h' || flag === '--help') return 'help';
    if (flag === '--to') {
      const v = inline ?? argv[++i];
      if (!(WRITABLE_FORMATS as readonly number[]).includes(Number(v))) {
        throw new ConvertUsage(
          `--to takes a flow format this version writes (${WRITABLE_FORMATS.join(' or ')}), got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
        );
      }
      format = Number(v) as WritableFormat;
    } else if (flag === '--filter') {
      filter = inline ?? argv[++i];
      if (filter === undefined) throw new ConvertUsage('--filter needs an expression');
    } else if (a.startsWith('-') && a !== '-') throw new ConvertUsage(`unknown option ${a}`);
    else pos.push(a);
  }
  if (pos.length < 2 || pos.length > 3) throw new ConvertUsage('give IN and OUT (and optionally a filter)');
  if (pos.length === 3) {
    if (filter !== undefined) throw new ConvertUsage('a filter was given twice (positional and --filter)');
    filter = pos[2];
  }
  return { input: pos[0]!, output: pos[1]!, format, filter };
}

/** Run `mitmts flows convert` (arguments after `convert`). Resolves to the exit code. */
export async function runConvertCommand(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  stdin: NodeJS.ReadableStream,
): Promise<number> {
  const fail = (msg: string, code: number): number => {
    err.write(`mitmts flows convert: ${msg}\n`);
    return code;
  };
  let args: ConvertArgs | 'help';
  let filter: Filter | null = null;
  try {
    args = parseConvertArgs(argv);
    if (args === 'help') {
      out.write(CONVERT_HELP + '\n');
      return 0;
    }
    if (args.filter !== undefined) filter = parseFilter(args.filter);
  } catch (e) {
    if (e instanceof ConvertUsage || e instanceof FilterError)
      return fail(`${e.message}\nRun 'mitmts flows convert --help' for usage.`, 2);
    throw e;
  }
  const { input, output, format } = args;
  let writer: FlowWriter;
  try {
    // Opening the input first: a missing input must not truncate an existing output.
    const reader = new FlowReader(input === '-' ? stdin : input, { name: input === '-' ? '<stdin>' : input });
    const flows = reader[Symbol.asyncIterator]();
    const first = await flows.next();
    writer = new FlowWriter(output === '-' ? out : output, { format });
    try {
      for (let r = first; !r.done; r = await flows.next())
        if (filter === null || filter.match(r.value)) writer.add(r.value);
    } finally {
      await writer.close();
    }
  } catch (e) {
    if (e instanceof FlowReadError) return fail(e.message, 1);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && (e as NodeJS.ErrnoException).path === input) return fail(`${input}: no such file`, 2);
    if (typeof code === 'string') return fail((e as Error).message, input === '-' ? 1 : 2);
    throw e;
  }
  const skipped =
    writer.skipped > 0 ? `; left out ${writer.skipped} UDP/DNS flows, which format ${format} cannot hold` : '';
  err.write(
    `mitmts flows convert: wrote ${writer.count} flows at format ${format} to ${output === '-' ? '<stdout>' : output}${skipped}\n`,
  );
  return 0;
}
