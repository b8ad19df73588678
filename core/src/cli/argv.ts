import { MitmtsError, didYouMean } from '../kernel/errors.js';
import type { OptionInfo } from '../options/types.js';
import { FLAGS, type FlagSpec } from './flags.js';

/** What the command line asked for. */
export interface ParsedArgs {
  /** `--set name[=value]`, in order. */
  readonly sets: string[];
  /** Option values from dedicated flags (typed); appended flags collected into lists. */
  readonly flags: Map<string, { value: unknown; flag: string }>;
  /** The positional filter expression (words joined by spaces), or null. */
  readonly filter: string | null;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly version: boolean;
  readonly options: boolean;
  readonly commands: boolean;
  readonly help: boolean;
}

/** Flags generated from declared options (`--name-with-dashes`), for options no dedicated flag covers. */
export function optionFlags(options: readonly OptionInfo[]): FlagSpec[] {
  const taken = new Set(FLAGS.map((f) => f.option));
  return options
    .filter((o) => !taken.has(o.name))
    .map((o) => ({
      long: o.name.replace(/_/g, '-'),
      option: o.name,
      kind:
        o.type === 'bool'
          ? 'bool'
          : o.type === 'str[]'
            ? 'append'
            : o.type === 'int' || o.type === 'int?'
              ? 'int'
              : 'str',
      help: o.help,
      group: `Options of ${o.owner}`,
      ...(o.choices ? { choices: o.choices } : {}),
    }));
}

/**
 * Parse argv the way mitmdump does. Throws MITMTS_ERR_CLI_USAGE for an unknown flag, a missing
 * value or a bad integer; the caller prints the message and the usage.
 */
export function parseArgs(argv: readonly string[], extra: readonly FlagSpec[] = []): ParsedArgs {
  const all = [...FLAGS, ...extra];
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const f of all) {
    byLong.set(f.long, f);
    if (f.short) byShort.set(f.short, f);
  }
  const out = {
    sets: [] as string[],
    flags: new Map<string, { value: unknown; flag: string }>(),
    filter: null as string | null,
    quiet: false,
    verbose: false,
    version: false,
    options: false,
    commands: false,
    help: false,
  };
  const words: string[] = [];
  const usage = (msg: string): never => {
    throw new MitmtsError('MITMTS_ERR_CLI_USAGE', msg);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const takeValue = (flag: string, inline: string | undefined): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined) usage(`${flag} needs a value.`);
      i++;
      return next!;
    };
    const setFlag = (f: FlagSpec, name: string, inline: string | undefined, negated: boolean): void => {
      if (f.kind === 'bool') {
        if (inline !== undefined) usage(`${name} takes no value (got "${inline}").`);
        out.flags.set(f.option, { value: !negated, flag: name });
        return;
      }
      if (negated) usage(`Unknown flag: ${name}.`);
      const raw = takeValue(name, inline);
      if (f.choices && !f.choices.includes(raw))
        usage(`${name}: invalid choice "${raw}" (choose from ${f.choices.join(', ')}).`);
      if (f.kind === 'int') {
        if (!/^[-+]?\d+$/.test(raw)) usage(`${name} expects an integer, got "${raw}".`);
        out.flags.set(f.option, { value: Number.parseInt(raw, 10), flag: name });
      } else if (f.kind === 'append') {
        const prev = out.flags.get(f.option);
        const list = prev && Array.isArray(prev.value) ? (prev.value as string[]) : [];
        out.flags.set(f.option, { value: [...list, raw], flag: name });
      } else {
        out.flags.set(f.option, { value: raw, flag: name });
      }
    };

    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      const bare = name.slice(2);
      switch (bare) {
        case 'set':
          out.sets.push(takeValue('--set', inline));
          continue;
        case 'quiet':
          out.quiet = true;
          continue;
        case 'verbose':
          out.verbose = true;
          continue;
        case 'version':
          out.version = true;
          continue;
        case 'options':
          out.options = true;
          continue;
        case 'commands':
          out.commands = true;
          continue;
        case 'help':
          out.help = true;
          continue;
      }
      const direct = byLong.get(bare);
      if (direct) {
        setFlag(direct, name, inline, false);
        continue;
      }
      if (bare.startsWith('no-')) {
        const f = byLong.get(bare.slice(3));
        if (f && f.kind === 'bool') {
          setFlag(f, name, inline, true);
          continue;
        }
      }
      usage(
        `Unknown flag: ${name}.${didYouMean(name, [...byLong.keys()].map((k) => `--${k}`).concat(['--set', '--quiet', '--verbose', '--version', '--options', '--commands', '--help']))}`,
      );
    }
    if (arg.length > 1 && arg.startsWith('-') && !/^-\d/.test(arg)) {
      const letter = arg[1]!;
      const inline = arg.length > 2 ? arg.slice(2) : undefined;
      if (letter === 'q' && !inline) {
        out.quiet = true;
        continue;
      }
      if (letter === 'v' && !inline) {
        out.verbose = true;
        continue;
      }
      if (letter === 'h' && !inline && !byShort.has('h')) {
        out.help = true;
        continue;
      }
      const f = byShort.get(letter);
      if (!f) usage(`Unknown flag: -${letter}.`);
      if (f!.kind === 'bool') {
        if (inline !== undefined) usage(`-${letter} takes no value.`);
        out.flags.set(f!.option, { value: f!.shortValue ?? true, flag: `-${letter}` });
      } else {
        setFlag(f!, `-${letter}`, inline, false);
      }
      continue;
    }
    words.push(arg);
  }
  if (words.length > 0) out.filter = words.join(' ');
  return out;
}

/** mitmdump's option groups, for `--help` (flags not listed here: "Other options"). */
const FLAG_GROUPS: Readonly<Record<string, string>> = {
  scripts: 'Common options',
  rfile: 'Common options',
  'save-stream-file': 'Common options',
  'flow-detail': 'Common options',
  confdir: 'Common options',
  anticache: 'Common options',
  anticomp: 'Common options',
  stickycookie: 'Common options',
  stickyauth: 'Common options',
  mode: 'Proxy options',
  'listen-host': 'Proxy options',
  'listen-port': 'Proxy options',
  server: 'Proxy options',
  'ignore-hosts': 'Proxy options',
  'allow-hosts': 'Proxy options',
  'tcp-hosts': 'Proxy options',
  'upstream-auth': 'Proxy options',
  proxyauth: 'Proxy options',
  'store-streamed-bodies': 'Proxy options',
  rawtcp: 'Proxy options',
  http2: 'Proxy options',
  showhost: 'Proxy options',
  'show-ignored-hosts': 'Proxy options',
  'ssl-insecure': 'SSL',
  certs: 'SSL',
  'cert-passphrase': 'SSL',
  'client-replay': 'Client replay',
  'server-replay': 'Server replay',
  'server-replay-kill-extra': 'Server replay',
  'server-replay-extra': 'Server replay',
  'server-replay-reuse': 'Server replay',
  'server-replay-refresh': 'Server replay',
  'map-local': 'Map local and map remote',
  'map-remote': 'Map local and map remote',
  'modify-body': 'Modify body and headers',
  'modify-headers': 'Modify body and headers',
};

/** What `--help` describes besides the flags. */
export interface UsageInfo {
  /** The program's name (a custom build's own). */
  readonly name?: string;
  /** Subcommands, name to one-line description. */
  readonly subcommands?: Readonly<Record<string, string>>;
}

/**
 * The usage text of `--help`, grouped as mitmdump's. With `declared`, a flag is listed only if
 * its option is declared (by the kernel or a loaded addon) and implemented: `-S` shows once
 * server replay is in the build, never before. Flags generated from addon options (`extra`) are
 * grouped by the addon that declares them (their `group`).
 */
export function usageText(
  extra: readonly FlagSpec[] = [],
  declared: (option: string) => boolean = () => true,
  info: UsageInfo = {},
): string {
  const name = info.name ?? 'mitmts';
  const subcommands = Object.entries(info.subcommands ?? {});
  const lines = [`usage: ${name} [options] [filter ...]`];
  for (const [sub] of subcommands) lines.push(`       ${name} ${sub} ...`);
  if (subcommands.length > 0) {
    lines.push('', 'subcommands (each has its own --help):');
    for (const [sub, help] of subcommands) lines.push(`  ${sub.padEnd(20)}${help}`);
  }
  lines.push(
    '',
    'options:',
    '  -h, --help            show this help and exit',
    '  --version             show version number and exit',
    '  --options             show all options and their default values',
    '  --commands            show all commands and their signatures',
    '  --set option[=value]  set an option; repeat for sequences; bare name = true for bools',
    '  -q, --quiet           quiet (termlog_verbosity=error, flow_detail=0)',
    '  -v, --verbose         verbose (termlog_verbosity=debug, flow_detail=2)',
  );
  const groups = new Map<string, string[]>();
  for (const f of [...FLAGS, ...extra]) {
    if (!declared(f.option)) continue;
    const group = FLAG_GROUPS[f.long] ?? f.group ?? 'Other options';
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group)!.push(flagLine(f));
  }
  for (const [group, flagLines] of groups) lines.push('', `${group}:`, ...flagLines);
  lines.push('', 'A trailing filter expression sets dumper_filter, save_stream_filter and readfile_filter.');
  return lines.join('\n') + '\n';
}

function flagLine(f: FlagSpec): string {
  const names = [f.short ? `-${f.short}` : null, f.kind === 'bool' ? `--${f.long}, --no-${f.long}` : `--${f.long}`]
    .filter(Boolean)
    .join(', ');
  const meta = f.kind === 'bool' ? '' : ` ${f.metavar ?? f.option.toUpperCase()}`;
  const left = `  ${names}${meta}`;
  return left.length < 24
    ? left.padEnd(24) + firstSentence(f.help)
    : `${left}\n${' '.repeat(24)}${firstSentence(f.help)}`;
}

function firstSentence(s: string): string {
  const m = /^(.*?\.)(\s|$)/.exec(s);
  return m ? m[1]! : s;
}
