import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  caPaths,
  FlowStore,
  HTTPFlow,
  Kernel,
  ProxyServer,
  type AddonInput,
  type ListenAddress,
  type LogEntry,
} from '@mitmts/core';
import type { CommandArgs, CommandResult, CommandSignatures } from './commands.js';
import { proxyEnv, type ProxyEnv } from './env.js';
import { AddonError, FlowWaiter, type FlowMatcher, type WaitForFlowOptions } from './wait.js';
import { Rules, type RuleBuilder, type RuleMatcher } from './rules.js';
import type { ProxyOptions } from './options.js';

export interface CreateProxyOptions {
  /** Addons (classes or instances) in chain order, after the proxy runtime itself. */
  readonly addons?: readonly AddonInput[];
  /**
   * Option values, e.g. `{ ssl_insecure: true, anticache: true }`: the kernel's and the proxy
   * runtime's options are typed ({@link ProxyOptions}); addons' options are checked by name and
   * type when the proxy starts (an unknown name or a wrong type rejects `createProxy`).
   */
  readonly options?: ProxyOptions;
  /**
   * Where the CA lives. Default: a fresh temporary directory (a new CA per proxy), so tests never
   * touch `~/.mitmproxy`; pass `'~/.mitmproxy'` to use the CA your clients already trust.
   */
  readonly confdir?: string;
  /** Default `127.0.0.1`. */
  readonly listenHost?: string;
  /** Default 0: any free port (read it from `port`). */
  readonly listenPort?: number;
  /** Print the log to the terminal (default false; read `logs` instead). */
  readonly termlog?: boolean;
  /** How many flows `flows` keeps (default 1000). */
  readonly keepFlows?: number;
  /**
   * What an exception in an addon's hook does. `'throw'` (default): it is logged, the chain goes
   * on, and it is kept in `addonErrors`; a pending `waitForFlow` rejects with it and `close()`
   * rejects with it after closing, so a test that awaits `close()` fails. `'log'`: only logged.
   */
  readonly addonErrors?: 'throw' | 'log';
}

/** A running, embedded proxy. */
export interface EmbeddedProxy {
  readonly kernel: Kernel;
  readonly host: string;
  readonly port: number;
  /** `http://host:port`: what clients use as their proxy. */
  readonly url: string;
  /** Every listener, one per `mode` entry in order (`host`, `port`, and the mode spec). */
  readonly addresses: readonly ListenAddress[];
  /** Flows seen so far (live objects; they fill in as exchanges progress). */
  readonly flows: FlowStore;
  /** Log entries so far. */
  readonly logs: LogEntry[];
  readonly confdir: string;
  /** The CA certificate clients must trust (PEM). */
  readonly caCertPath: string;
  /**
   * Run a command by name, as a script or the web UI would: `await proxy.command('replay.server.count')`.
   * Arguments are typed values (a `Flow`, a number) or strings, which are parsed by the declared
   * parameter type as on a command line (`'@all'`, `'~d example.com'`, `'3'`). Rejects with the
   * command manager's `CommandError` (`MITMTS_ERR_UNKNOWN_COMMAND`, `MITMTS_ERR_COMMAND_ARGS`, or
   * the command's own failure). Commands declared in {@link CommandSignatures} get typed results.
   */
  command<K extends keyof CommandSignatures>(name: K, ...args: CommandArgs<K>): Promise<CommandResult<K>>;
  command(name: string, ...args: unknown[]): Promise<unknown>;
  /**
   * The environment a child process needs to use this proxy and trust its CA
   * (`HTTP_PROXY`, `HTTPS_PROXY`, `NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`,
   * ...): `spawn('python3', [...], { env: { ...process.env, ...proxy.env } })`.
   */
  readonly env: ProxyEnv;
  /** HTTP flows seen so far, oldest first, optionally only those matching a filter expression or predicate. */
  httpFlows(match?: FlowMatcher): HTTPFlow[];
  /**
   * The first HTTP flow matching `match` (a filter expression or a predicate) once it is done
   * (response or error; `{ when: 'request' }`: once its request is in), also one seen before the
   * call. Rejects after `timeout` ms (default 10,000) with a message listing the flows seen, or
   * at once with an addon's exception (`addonErrors: 'throw'`).
   */
  waitForFlow(match: FlowMatcher, options?: WaitForFlowOptions): Promise<HTTPFlow>;
  /** Start a stub rule (reply, pass through with a transform, close, delay): see {@link Rules}. */
  rule(match: RuleMatcher): RuleBuilder;
  /** The rules addon behind {@link rule} (list or clear the rules). */
  readonly rules: Rules;
  /** Exceptions thrown by addons' hooks so far (`addonErrors: 'throw'`). */
  readonly addonErrors: readonly AddonError[];
  /** Stop listening, fire `done` on every addon; then reject with the first addon exception, if any (`addonErrors: 'throw'`). */
  close(): Promise<void>;
}

/**
 * Start a proxy in this process with the given addons: `createProxy({ addons: [new MyAddon()] })`.
 * Resolves once it listens; rejects if it cannot (e.g. the port is taken, a bad option).
 */
export async function createProxy(opts: CreateProxyOptions = {}): Promise<EmbeddedProxy> {
  const kernel = new Kernel({ termlog: opts.termlog ?? false });
  kernel.flows.limit = opts.keepFlows ?? 1000;
  const logs: LogEntry[] = [];
  kernel.log.onEntry((e) => logs.push(e));
  const confdir = opts.confdir ?? mkdtempSync(join(tmpdir(), 'mitmts-'));
  const waiter = new FlowWaiter(kernel);
  const rules = new Rules();
  const errors: AddonError[] = [];
  if ((opts.addonErrors ?? 'throw') === 'throw') {
    kernel.addons.onError((addon, hook, err) => {
      const e = new AddonError(addon, hook, err);
      errors.push(e);
      waiter.fail(e);
    });
  }
  const [server] = (await kernel.add(ProxyServer, ...(opts.addons ?? []), rules, waiter)) as [ProxyServer];
  kernel.options.update(
    {
      confdir,
      listen_host: opts.listenHost ?? '127.0.0.1',
      listen_port: opts.listenPort ?? 0,
      ...(opts.options ?? {}),
    },
    { defer: true },
  );
  let exitCode: number | null = null;
  void kernel.whenExitRequested().then((c) => (exitCode = c));
  await kernel.start();
  await Promise.resolve();
  const address = server.addresses[0];
  if (!address || exitCode !== null) {
    await kernel.shutdown();
    const why = logs
      .filter((e) => e.level === 'error')
      .map((e) => e.message)
      .join('; ');
    throw new Error(`The proxy did not start${why ? `: ${why}` : ''}.`);
  }
  const host = address.host === '*' ? '127.0.0.1' : address.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  const caCertPath = caPaths(confdir, 'mitmproxy').caCertPem;
  return {
    kernel,
    host,
    port: address.port,
    url,
    addresses: server.addresses.map((a) => ({ ...a, host: a.host === '*' ? '127.0.0.1' : a.host })),
    flows: kernel.flows,
    logs,
    confdir,
    caCertPath,
    env: proxyEnv(url, caCertPath),
    httpFlows: (match) => waiter.matching(match),
    waitForFlow: (match, options) => waiter.wait(match, options),
    rule: (match) => rules.rule(match),
    rules,
    addonErrors: errors,
    command: ((name: string, ...args: unknown[]) => kernel.commands.callMixed(name, args)) as EmbeddedProxy['command'],
    close: async () => {
      await kernel.shutdown();
      if (errors.length > 0) {
        const more =
          errors.length > 1
            ? ` (and ${errors.length - 1} more addon exception${errors.length > 2 ? 's' : ''}: see addonErrors)`
            : '';
        throw new AddonError(errors[0]!.addon, errors[0]!.hook, errors[0]!.cause, more);
      }
    },
  };
}
