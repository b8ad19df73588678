import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caPaths, FlowStore, Kernel, ProxyServer, type AddonInput, type LogEntry } from '@mitmts/core';
import type { CommandArgs, CommandResult, CommandSignatures } from './commands.js';

export interface CreateProxyOptions {
  /** Addons (classes or instances) in chain order, after the proxy runtime itself. */
  readonly addons?: readonly AddonInput[];
  /** Option values (typed), e.g. `{ anticache: true, ssl_insecure: true }`. */
  readonly options?: Readonly<Record<string, unknown>>;
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
}

/** A running, embedded proxy. */
export interface EmbeddedProxy {
  readonly kernel: Kernel;
  readonly host: string;
  readonly port: number;
  /** `http://host:port`: what clients use as their proxy. */
  readonly url: string;
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
  /** Stop listening, fire `done` on every addon. */
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
  const [server] = (await kernel.add(ProxyServer, ...(opts.addons ?? []))) as [ProxyServer];
  kernel.options.update(
    { confdir, listen_host: opts.listenHost ?? '127.0.0.1', listen_port: opts.listenPort ?? 0, ...(opts.options ?? {}) },
    { defer: true },
  );
  let exitCode: number | null = null;
  void kernel.whenExitRequested().then((c) => (exitCode = c));
  await kernel.start();
  await Promise.resolve();
  const address = server.addresses[0];
  if (!address || exitCode !== null) {
    await kernel.shutdown();
    const why = logs.filter((e) => e.level === 'error').map((e) => e.message).join('; ');
    throw new Error(`The proxy did not start${why ? `: ${why}` : ''}.`);
  }
  const host = address.host === '*' ? '127.0.0.1' : address.host;
  return {
    kernel,
    host,
    port: address.port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    flows: kernel.flows,
    logs,
    confdir,
    caCertPath: caPaths(confdir, 'mitmproxy').caCertPem,
    command: ((name: string, ...args: unknown[]) => kernel.commands.callMixed(name, args)) as EmbeddedProxy['command'],
    close: () => kernel.shutdown(),
  };
}
