import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import {
  applyCommandLine,
  distributionKernel,
  expandHome,
  FLAGS,
  loadManifest,
  optionFlags,
  parseArgs,
  type CliIO,
  type Distribution,
  type FlagSpec,
  type Kernel,
  type ParsedArgs,
  type ProxyServer,
  type Subcommand,
} from '@mitmts/core';
import { runTagCredentials, type RunTag } from '../runtag.js';

/**
 * `mitmts run [options] [--] COMMAND [ARGS...]`: run a program with its HTTP(S) traffic through
 * the proxy, without configuring it: the proxy variables and CA bundles every common client
 * reads are set for that process alone, Node.js programs get a preload that routes `fetch`,
 * `node:http` and `node:https` too, and its flows are tagged with its command line.
 */

export const RUN_HELP = `usage: mitmts run [options] [--proxy URL] [--bypass HOSTS] [--] COMMAND [ARGS...]

Start the proxy (with the mitmts options given before COMMAND: -w, -s, --set, ...) on a free
port of 127.0.0.1, run COMMAND with its HTTP and HTTPS traffic going through it, and stop the
proxy when COMMAND ends. The exit status is COMMAND's (128 + N when signal N ended it).

For COMMAND alone, the environment gets:
  HTTP_PROXY, HTTPS_PROXY (and lower case)   the proxy, with credentials that tag its flows
  NO_PROXY (and no_proxy)                    --bypass HOSTS (default: empty, capture everything)
  NODE_EXTRA_CA_CERTS                        the mitmts CA certificate
  SSL_CERT_FILE, REQUESTS_CA_BUNDLE,         a bundle of the usual root CAs plus the mitmts CA
  CURL_CA_BUNDLE, GIT_SSL_CAINFO
  NODE_OPTIONS                               + --require of a preload that routes Node's global
                                             fetch, node:http and node:https through the proxy
Flows get metadata "mitmts.run" (the command line) and "mitmts.run_id" (one id per run):
filter them with ~meta, read them with mitmts flows FILE --fields +metadata.

Options:
  --proxy URL     use a proxy that is already running (http://host:port, or https://host:port
                  to speak TLS to it) instead of starting one; its CA is read from --confdir
                  (default ~/.mitmproxy). Its flows are tagged when it runs the runtag addon
                  (the default build does).
  --bypass HOSTS  comma-separated hosts (and domains) COMMAND reaches directly
  -h, --help      show this help
Any other option before COMMAND is a mitmts option (mitmts --help). The proxy logs to standard
error, so COMMAND's standard output stays its own; -q silences the flow lines (for programs
that draw on the terminal), -w FILE saves the flows.

Examples:
  mitmts run -w api.mitm -- node client.mjs
  mitmts run -q -w api.mitm -- python3 client.py
  mitmts flows api.mitm --group endpoint --schema`;

/** What `mitmts run`'s arguments ask for. */
export interface RunArgs {
  /** The mitmts options before the command. */
  readonly proxyArgs: string[];
  readonly command: string[];
  readonly proxy: string | undefined;
  readonly bypass: string;
  readonly help: boolean;
}

class RunUsageError extends Error {}

/**
 * Split `mitmts run`'s arguments into mitmts options and the command: the command starts after
 * `--`, or at the first word that is neither an option nor an option's value (`flags` says
 * which options take a value).
 */
export function splitRunArgv(argv: readonly string[], flags: readonly FlagSpec[]): RunArgs {
  const byLong = new Map(flags.map((f) => [f.long, f]));
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const proxyArgs: string[] = [];
  let proxy: string | undefined;
  let bypass = '';
  let help = false;
  let i = 0;
  const value = (name: string): string => {
    const v = argv[++i];
    if (v === undefined) throw new RunUsageError(`${name} needs a value`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    if (name === '--proxy') proxy = inline ?? value(name);
    else if (name === '--bypass') bypass = inline ?? value(name);
    else if (name === '-h' || name === '--help') help = true;
    else {
      proxyArgs.push(a);
      if (inline !== undefined) continue;
      const spec = name.startsWith('--')
        ? byLong.get(name.slice(2))
        : name.length === 2
          ? byShort.get(name[1]!)
          : undefined;
      if (name === '--set' || (spec !== undefined && spec.kind !== 'bool')) proxyArgs.push(value(name));
    }
  }
  return { proxyArgs, command: argv.slice(i), proxy, bypass, help };
}

/** A command line as a shell would show it. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The preload for Node.js children, next to this file (or resolved from the SDK when bundled). */
function preloadPath(): string | null {
  const here = fileURLToPath(new URL('./run-preload.cjs', import.meta.url));
  if (existsSync(here)) return here;
  try {
    return fileURLToPath(import.meta.resolve('@mitmts/sdk/run-preload'));
  } catch {
    return null;
  }
}

/**
 * curl trusts an https:// proxy only through `--proxy-cacert` (CURL_CA_BUNDLE is for servers):
 * a curl home of its own whose `.curlrc` is the user's (if any) plus that line. Returns the
 * directory for CURL_HOME.
 */
function curlHomeTrusting(dir: string, caBundle: string, base: NodeJS.ProcessEnv): string {
  const home = join(dir, 'curl-home');
  mkdirSync(home, { recursive: true });
  const candidates = [
    base.CURL_HOME && join(base.CURL_HOME, '.curlrc'),
    base.XDG_CONFIG_HOME && join(base.XDG_CONFIG_HOME, 'curlrc'),
    base.HOME && join(base.HOME, '.curlrc'),
  ];
  const own = candidates.find((f): f is string => typeof f === 'string' && existsSync(f));
  const mine = `# mitmts run: trust the proxy's certificate (TLS to the proxy)\nproxy-cacert = "${caBundle.replace(/[\\"]/g, '\\$&')}"\n`;
  writeFileSync(join(home, '.curlrc'), `${own !== undefined ? `${readFileSync(own, 'utf8').trimEnd()}\n` : ''}${mine}`);
  return home;
}

/** The environment for the command: proxies, CAs, the Node preload (and curl's home for an https:// proxy). */
export function runEnvironment(
  base: NodeJS.ProcessEnv,
  o: { proxyUrl: string; bypass: string; caCert: string; caBundle: string; preload: string | null; curlHome?: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  if (o.curlHome !== undefined) env.CURL_HOME = o.curlHome;
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) env[k] = o.proxyUrl;
  for (const k of ['ALL_PROXY', 'all_proxy']) delete env[k];
  env.NO_PROXY = env.no_proxy = o.bypass;
  env.NODE_EXTRA_CA_CERTS = o.caCert;
  for (const k of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO']) env[k] = o.caBundle;
  if (o.preload !== null) env.NODE_OPTIONS = `${base.NODE_OPTIONS ?? ''} --require ${JSON.stringify(o.preload)}`.trim();
  return env;
}

/** A proxy URL with the tag credentials, unless it carries credentials of its own. */
function taggedUrl(url: URL, tag: RunTag): string {
  if (url.username) return url.href;
  const { user, password } = runTagCredentials(tag);
  const u = new URL(url.href);
  u.username = user;
  u.password = password;
  return u.href.replace(/\/$/, '');
}

/** Start the distribution's proxy with the command line given before COMMAND; its URL. */
async function startProxy(kernel: Kernel, args: ParsedArgs): Promise<URL> {
  await applyCommandLine(kernel, args);
  // A free loopback port unless the command line chose: the proxy is for this process alone.
  const explicit = (o: string): boolean => args.flags.has(o) || args.sets.some((s) => s === o || s.startsWith(`${o}=`));
  const defaults: Record<string, unknown> = {};
  if (!explicit('listen_port')) defaults.listen_port = 0;
  if (!explicit('listen_host')) defaults.listen_host = '127.0.0.1';
  kernel.options.update(defaults, { source: { label: 'mitmts run' } });
  if (kernel.options.get('server') === false)
    throw new RunUsageError('mitmts run needs the proxy server: drop -n / --no-server');
  await kernel.start();
  const address = kernel.get<ProxyServer>('proxyserver')?.addresses[0];
  if (address === undefined) throw new RunUsageError('the proxy did not start listening (see the errors above)');
  const host =
    address.host === '*' || address.host === '0.0.0.0' || address.host === ''
      ? '127.0.0.1'
      : address.host === '::'
        ? '::1'
        : address.host;
  return new URL(`http://${host.includes(':') ? `[${host}]` : host}:${address.port}`);
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Run the child to its end, forwarding signals. A terminal's Ctrl-C reaches the child by itself
 * (same process group), so SIGINT is forwarded only when standard input is not a terminal (a
 * `kill -INT` aimed at mitmts): forwarding it too would interrupt the child twice.
 */
function runChild(
  command: string[],
  env: NodeJS.ProcessEnv,
  io: CliIO,
): { child: ChildProcess; exit: Promise<number> } {
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of SIGNALS) {
    const h = (): void => {
      if (sig === 'SIGINT' && process.stdin.isTTY) return;
      child.kill(sig);
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  const exit = new Promise<number>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ENOENT' ? 'command not found' : err.code === 'EACCES' ? 'permission denied' : err.message;
      io.stderr.write(`mitmts run: cannot run ${command[0]}: ${why}\n`);
      resolve(err.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0)));
  }).finally(() => {
    for (const [sig, h] of handlers) process.off(sig, h);
  });
  return { child, exit };
}

/** The `run` subcommand of a distribution. */
export function runCommand(dist: Distribution): Subcommand {
  return async (argv: string[], io: CliIO): Promise<number> => {
    const usage = (msg: string): number => {
      io.stderr.write(`mitmts run: ${msg}\nRun 'mitmts run --help' for usage.\n`);
      return 2;
    };
    const kernel = distributionKernel(io, () => io.stderr);
    let started = false;
    const tmp = mkdtempSync(join(tmpdir(), 'mitmts-run-'));
    try {
      await loadManifest(kernel, dist);
      // The command's standard output is its own: the flow lines of the dumper (mitmdump's
      // output, by default on stdout) go to standard error with the log.
      const dumper = kernel.get<{ out?: NodeJS.WritableStream }>('dumper');
      if (dumper !== undefined && 'out' in dumper) dumper.out = io.stderr;
      const extra = optionFlags(kernel.options.list());
      let run: RunArgs;
      let args: ParsedArgs;
      try {
        run = splitRunArgv(argv, [...FLAGS, ...extra]);
        if (run.help) {
          io.stdout.write(RUN_HELP + '\n');
          return 0;
        }
        if (run.command.length === 0)
          throw new RunUsageError('no command given: mitmts run [options] [--] COMMAND [ARGS...]');
        args = parseArgs(run.proxyArgs, extra);
      } catch (err) {
        return usage((err as Error).message);
      }
      if (args.filter !== null) return usage(`"${args.filter}" is not an option; put the command after --`);

      let proxyUrl: URL;
      let confdir: string;
      if (run.proxy !== undefined) {
        try {
          proxyUrl = new URL(run.proxy);
        } catch {
          return usage(`--proxy ${JSON.stringify(run.proxy)} is not a URL (e.g. http://127.0.0.1:8080)`);
        }
        if (proxyUrl.protocol !== 'http:' && proxyUrl.protocol !== 'https:')
          return usage(`--proxy must be an http:// or https:// URL, got ${proxyUrl.protocol}//`);
        const others = [...args.flags.keys()].filter((o) => o !== 'confdir');
        if (others.length > 0 || args.sets.some((s) => !s.startsWith('confdir='))) {
          return usage(
            `with --proxy, the running proxy's own options apply; only --confdir (where its CA is) is taken here`,
          );
        }
        confdir = expandHome(
          (args.flags.get('confdir')?.value as string | undefined) ??
            args.sets.findLast((s) => s.startsWith('confdir='))?.slice(8) ??
            '~/.mitmproxy',
        );
      } else {
        try {
          proxyUrl = await startProxy(kernel, args);
          started = true;
        } catch (err) {
          if (err instanceof RunUsageError) return usage(err.message);
          throw err;
        }
        confdir = expandHome(kernel.options.get('confdir') as string);
      }
      const caCert = join(confdir, 'mitmproxy-ca-cert.pem');
      if (!existsSync(caCert)) return usage(`no CA certificate at ${caCert}: give the running proxy's --confdir`);
      const caBundle = join(tmp, 'ca-bundle.pem');
      writeFileSync(caBundle, [...tls.rootCertificates, readFileSync(caCert, 'utf8').trim()].join('\n') + '\n');

      const cmd = shellLine(run.command);
      const tag: RunTag = { id: randomBytes(6).toString('hex'), cmd };
      const preload = preloadPath();
      if (preload === null)
        kernel.log.warn(
          'mitmts run: the Node.js preload was not found: Node programs will not send fetch/http traffic through the proxy unless they read HTTPS_PROXY themselves',
        );
      if (started && kernel.get('runtag') === undefined)
        kernel.log.warn(`mitmts run: this build has no runtag addon: flows will not be tagged with the command line`);
      if (proxyUrl.username)
        kernel.log.info(
          'mitmts run: the proxy URL has its own credentials: they are used as given, and flows are not tagged',
        );
      kernel.log.info(`mitmts run: ${cmd} (run ${tag.id}) through the proxy at ${proxyUrl.href}`);
      const curlHome = proxyUrl.protocol === 'https:' ? curlHomeTrusting(tmp, caBundle, process.env) : undefined;
      const env = runEnvironment(process.env, {
        proxyUrl: taggedUrl(proxyUrl, tag),
        bypass: run.bypass,
        caCert,
        caBundle,
        preload,
        curlHome,
      });
      // Last resort, as in mitmts itself: a bug in one connection must not take the proxy away
      // from the command.
      const onCrash = (err: unknown): void =>
        kernel.log.error(`internal error (the proxy keeps running): ${(err as Error)?.stack ?? String(err)}`);
      process.on('uncaughtException', onCrash);
      process.on('unhandledRejection', onCrash);
      const { child, exit } = runChild(run.command, env, io);
      // An addon may end the proxy (shutdown command, errorcheck): the command goes with it.
      void kernel.whenExitRequested().then(() => child.kill('SIGTERM'));
      return await exit;
    } catch (err) {
      io.stderr.write(`mitmts run: ${(err as Error)?.message ?? String(err)}\n`);
      return 1;
    } finally {
      if (started) await kernel.shutdown().catch(() => undefined);
      rmSync(tmp, { recursive: true, force: true });
    }
  };
}
