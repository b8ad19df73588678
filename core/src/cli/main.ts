import { dirname, isAbsolute, join, resolve } from 'node:path';
import { expandHome } from '../certs/files.js';
import { guardSignals } from '../hooks/watchdog.js';
import { Kernel } from '../kernel/kernel.js';
import { MitmtsError, OptionsError } from '../kernel/errors.js';
import { readConfigFile } from '../options/config.js';
import { TYPE_DESCRIPTIONS } from '../options/types.js';
import { rangeText } from '../options/values.js';
import { optionFlags, parseArgs, usageText, type ParsedArgs } from './argv.js';
import { exposureNotice, type ListenerAddress } from './exposure.js';
import { loadFlowFormats, loadManifest, type Distribution } from './manifest.js';
import { runFlowsCommand } from '../io/flows-command.js';

export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Install SIGINT/SIGTERM handlers (default true; tests turn it off). */
  readonly signals?: boolean;
}

export { expandHome };

/** Subcommands a distribution can add (`flows`, `new`, `build`). */
export type Subcommand = (argv: string[], io: CliIO) => Promise<number>;

/** `--help`'s line for the subcommands this package knows; others are listed by name. */
const SUBCOMMAND_HELP: Readonly<Record<string, string>> = {
  flows: 'read flow files (.mitm, HAR, stores) as JSON lines; flows convert IN OUT --to 17|21',
  new: 'create a script, addon or custom build project',
  build: 'bundle a manifest into one file that runs with Node alone',
  run: 'run COMMAND with its HTTP(S) traffic through the proxy',
  web: 'the proxy with the web UI (like mitmweb): prints the URL with its token, opens a browser',
};

/** `mitmts web --help`'s first lines (the flags that follow are mitmts's own). */
const WEB_HELP = (name: string): string => `usage: ${name} web [options] [filter ...]

Start the proxy with the web UI on (mitmweb's job), with mitmts's options (below); the web UI's
are --web-host, --web-port (default 8081), --web-password and --no-web-open-browser. The URL to
open, token included, is printed at start. Flows are shown in the browser, not printed
(flow_detail 0 unless given); flows read with -r stay on show until the proxy is stopped.

`;

/**
 * \`mitmts web\`: the option values it implies, below the command line's and config.yaml's
 * (they are applied first), except \`web\` itself, applied after them.
 */
function webDefaults(kernel: Kernel, name: string): void {
  if (!kernel.options.has('web'))
    throw new OptionsError(
      `the web subcommand needs the web UI addon, which this build lacks: add @mitmts/addon-web to its manifest's addons.`,
    );
  kernel.options.update({ flow_detail: 0 }, { defer: true, source: { label: `${name} web`, optional: true } });
}

/**
 * Apply the command line and config.yaml to a kernel's options. Precedence, lowest first:
 * defaults < config.yaml < `--set` < dedicated flags < the positional filter (mitmts puts
 * `--set` above config.yaml, the reverse of mitmproxy; see mitmproxy issue 5069). Values for
 * options no addon has declared yet are deferred until one does.
 */
export async function applyCommandLine(kernel: Kernel, args: ParsedArgs): Promise<void> {
  const opts = kernel.options;
  const confdirFlag = args.flags.get('confdir')?.value as string | undefined;
  const confdirSet = [...args.sets]
    .reverse()
    .find((s) => s.startsWith('confdir='))
    ?.slice('confdir='.length);
  const confdir = expandHome(confdirFlag ?? confdirSet ?? (opts.get('confdir') as string));
  for (const name of ['config.yaml', 'config.yml']) {
    const file = await readConfigFile(join(confdir, name));
    if (!file) continue;
    const scripts = file.values['scripts'];
    if (Array.isArray(scripts)) {
      file.values['scripts'] = scripts.map((p: unknown) =>
        typeof p === 'string' && !isAbsolute(expandHome(p)) ? resolve(dirname(file.path), p) : p,
      );
    }
    // One update per file (each update runs every configure listener), each key's line kept for errors.
    opts.update(file.values, {
      defer: true,
      source: (key) => ({ label: `${file.path}:${file.lines[key]} (key ${key})` }),
    });
  }
  opts.set(args.sets, { defer: true, source: { label: '--set' } });
  for (const [option, { value, flag }] of args.flags)
    opts.update({ [option]: value }, { defer: true, source: { label: flag } });
  // flow_detail belongs to the dumper addon, which a custom build may leave out.
  if (args.quiet) {
    opts.update({ termlog_verbosity: 'error' }, { source: { label: '-q' } });
    opts.update({ flow_detail: 0 }, { defer: true, source: { label: '-q', optional: true } });
  }
  if (args.verbose) {
    opts.update({ termlog_verbosity: 'debug' }, { source: { label: '-v' } });
    opts.update({ flow_detail: 2 }, { defer: true, source: { label: '-v', optional: true } });
  }
  if (args.filter !== null) {
    opts.update(
      { dumper_filter: args.filter, save_stream_filter: args.filter, readfile_filter: args.filter },
      { defer: true, source: { label: 'the filter argument', optional: true } },
    );
  }
}

/** `--options`: every option with type, default, current value and help, as commented YAML. */
export function formatOptions(kernel: Kernel): string {
  const out: string[] = [];
  for (const o of kernel.options.list()) {
    for (const line of wrap(o.help, 96)) out.push(`# ${line}`);
    if (o.unimplemented) out.push(`# Not implemented yet (${o.unimplemented}): only the default is accepted.`);
    const range = o.min !== undefined || o.max !== undefined ? `, ${rangeText(o)}` : '';
    out.push(
      `# Type ${TYPE_DESCRIPTIONS[o.type]}${o.choices ? `, one of: ${o.choices.join(', ')}` : ''}${range}. Default: ${JSON.stringify(o.default)}. Declared by ${o.owner}.`,
    );
    out.push(`${o.name}: ${JSON.stringify(o.value)}`, '');
  }
  return out.join('\n');
}

/** `--commands`: every command with its signature and help. */
export function formatCommands(kernel: Kernel): string {
  return kernel.commands
    .list()
    .map((c) => `${c.signature}\n${c.help ? `    ${c.help}\n` : ''}`)
    .join('');
}

/**
 * A kernel as the `mitmts` command runs one: logging to `io` (termlog's normal output to
 * `out`, default `io.stdout`), keeping no flows in memory (like mitmdump, a long capture must
 * not grow without bound). Load the distribution with `loadManifest` next.
 */
export function distributionKernel(io: CliIO, out: () => NodeJS.WritableStream = () => io.stdout): Kernel {
  const kernel = new Kernel({
    termlog: {
      get out() {
        return out();
      },
      get err() {
        return io.stderr;
      },
    },
  });
  kernel.flows.limit = 0;
  return kernel;
}

/**
 * The `mitmts` command line (mitmdump's flags). Loads the distribution's addons, applies
 * config.yaml and argv, starts the kernel and runs until SIGINT/SIGTERM or until an addon asks
 * to shut down. Returns the exit code.
 */
export async function main(
  argv: readonly string[],
  dist: Distribution,
  io: CliIO,
  subcommands: Record<string, Subcommand> = {},
): Promise<number> {
  const [first, ...rest] = argv;
  // `mitmts web ...` is mitmts with the web UI on (mitmweb): the same flags, the same kernel.
  const web = first === 'web' && !Object.hasOwn(subcommands, 'web');
  if (web) argv = rest;
  const flows: Subcommand = async (a, o) => {
    try {
      await loadFlowFormats(dist);
    } catch (err) {
      o.stderr.write(`mitmts flows: ${(err as Error).message}\n`);
      return 1;
    }
    return runFlowsCommand(a, o.stdout, o.stderr);
  };
  const all: Record<string, Subcommand> = { flows, ...subcommands };
  if (first !== undefined && Object.hasOwn(all, first)) return all[first]!(rest, io);
  if (argv.includes('--version')) {
    // mitmdump's first line is "Mitmproxy: VERSION"; a custom build names itself.
    io.stdout.write(
      `${dist.name === 'mitmts' ? 'Mitmts' : dist.name}: ${dist.version}\nNode.js: ${process.version}\nPlatform: ${process.platform}-${process.arch}\n`,
    );
    return 0;
  }
  // Output piped into a reader that stopped (`mitmts ... | head`): end quietly, as a Unix tool
  // does. Without this, each failed write is reported, to the same broken pipe, without end.
  for (const stream of [io.stdout, io.stderr]) stream.on('error', brokenPipe);
  const kernel = distributionKernel(io);
  let started = false;
  try {
    await loadFlowFormats(dist);
    await kernel.trusting(() => loadManifest(kernel, dist));
    const extra = optionFlags(kernel.options.list());
    let args: ParsedArgs;
    try {
      args = parseArgs(argv, extra);
    } catch (err) {
      io.stderr.write(`${dist.name}: ${(err as Error).message} See ${dist.name} --help.\n`);
      return 1;
    }
    if (args.help) {
      const implemented = (o: string): boolean =>
        kernel.options.has(o) && kernel.options.info(o).unimplemented === undefined;
      const names = [...Object.keys(all), ...(kernel.options.has('web') ? ['web'] : [])];
      const subs = Object.fromEntries(names.map((k) => [k, SUBCOMMAND_HELP[k] ?? '']));
      io.stdout.write(
        (web ? WEB_HELP(dist.name) : '') +
          usageText(extra, implemented, { name: dist.name, subcommands: web ? {} : subs }),
      );
      return 0;
    }
    if (web) webDefaults(kernel, dist.name);
    await applyCommandLine(kernel, args);
    if (web) kernel.options.update({ web: true }, { source: { label: `${dist.name} web` } });
    if (args.options || args.commands) {
      // Configure (so -s scripts load and declare their options and commands), never serve.
      await kernel.start({ running: false });
      io.stdout.write(args.options ? formatOptions(kernel) : formatCommands(kernel));
      await kernel.shutdown();
      return 0;
    }
    const stop = new Promise<number>((resolveStop) => {
      if (io.signals === false) return;
      let signalled = false;
      const onSignal = (): void => {
        if (signalled) process.exit(130);
        signalled = true;
        resolveStop(0);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    // Last resort: a bug in one connection's code must not take the proxy down for everyone.
    const onCrash = (err: unknown): void =>
      kernel.log.error(`internal error (the proxy keeps running): ${(err as Error)?.stack ?? String(err)}`);
    if (io.signals !== false) {
      process.on('uncaughtException', onCrash);
      process.on('unhandledRejection', onCrash);
    }
    // A signal during start-up (a hook that never settles) ends the process too.
    const early = await Promise.race([kernel.start().then(() => null), stop]);
    started = true;
    if (early !== null) {
      await kernel.shutdown();
      return early;
    }
    noticeExposure(kernel);
    // SIGTERM/SIGINT end the process even while a hook blocks the event loop (hook_watchdog).
    if (io.signals !== false) guardSignals();
    // Like mitmdump, keep running until told to stop, even with no server listening.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const code = await Promise.race([stop, kernel.whenExitRequested()]).finally(() => clearInterval(keepAlive));
    await kernel.shutdown();
    return code;
  } catch (err) {
    const message =
      err instanceof MitmtsError || (err as Error)?.name === 'OptionsError'
        ? (err as Error).message
        : ((err as Error)?.stack ?? String(err));
    io.stderr.write(`${dist.name}: ${message}\n`);
    if (started) await kernel.shutdown().catch(() => undefined);
    return 1;
  }
}

function brokenPipe(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
}

/** Warn once when the proxy listens beyond loopback without proxyauth (see exposure.ts). */
function noticeExposure(kernel: Kernel): void {
  const server = kernel.get<{ addresses?: readonly ListenerAddress[] }>('proxyserver');
  const auth = kernel.options.has('proxyauth') ? kernel.options.get<string | null>('proxyauth') : null;
  const notice = exposureNotice(server?.addresses ?? [], auth);
  if (notice) kernel.log.warn(notice);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
