import { Kernel, type AddonInput, type HookMap, type HookName, type LogEntry, type LogLevel } from '@mitmts/core';

/**
 * The test harness: loads addons into a kernel without sockets, sets options, fires hooks,
 * calls commands and captures the log (mitmproxy's `taddons.context`).
 *
 * ```ts
 * const tctx = await withAddon(new AntiCache());
 * tctx.configure({ anticache: true });
 * const f = tflow();
 * await tctx.trigger('request', f);
 * ```
 */
export class TestContext {
  readonly kernel: Kernel;
  /** Every log entry so far, in order. */
  readonly logs: LogEntry[] = [];

  constructor(kernel: Kernel) {
    this.kernel = kernel;
    kernel.log.onEntry((e) => this.logs.push(e));
  }

  /** Set options (typed values) atomically; addons get `configure`. */
  configure(values: Readonly<Record<string, unknown>>): void {
    this.kernel.options.update(values);
  }

  /** Set options from `--set`-style strings. */
  set(...specs: string[]): void {
    this.kernel.options.set(specs);
  }

  /** Fire one hook on every loaded addon, awaiting async handlers in order. */
  async trigger<K extends HookName>(name: K, ...args: HookMap[K]): Promise<void> {
    await this.kernel.trigger(name, ...args);
  }

  /** Run a command line (`flow.mark @all`) and return its result. */
  command(line: string): Promise<unknown> {
    return this.kernel.commands.execute(line);
  }

  /** Call a command with typed arguments. */
  call(name: string, ...args: unknown[]): Promise<unknown> {
    return this.kernel.commands.call(name, ...args);
  }

  /** The loaded instance of an addon by name. */
  addon<T extends object = object>(name: string): T {
    const a = this.kernel.get<T>(name);
    if (!a) throw new Error(`No addon named ${name} is loaded (loaded: ${this.kernel.addons.names().join(', ')}).`);
    return a;
  }

  /** Log messages, optionally of one level. */
  messages(level?: LogLevel): string[] {
    return this.logs.filter((e) => level === undefined || e.level === level).map((e) => e.message);
  }

  /** Was something containing `text` logged (at `level`, if given)? */
  hasLog(text: string | RegExp, level?: LogLevel): boolean {
    return this.messages(level).some((m) => (typeof text === 'string' ? m.includes(text) : text.test(m)));
  }

  /** Fire `done` on every addon. */
  async done(): Promise<void> {
    await this.kernel.shutdown();
  }
}

/**
 * A started kernel with these addons loaded (no proxy server, no sockets): `load`, then
 * `configure` with every option, then `running` have fired. Pass `options` to set values
 * before start-up.
 */
export async function withAddon(...addons: AddonInput[]): Promise<TestContext> {
  return withAddons(addons);
}

export async function withAddons(
  addons: readonly AddonInput[],
  options: Readonly<Record<string, unknown>> = {},
): Promise<TestContext> {
  const kernel = new Kernel();
  const tctx = new TestContext(kernel);
  await kernel.add(...addons);
  kernel.options.update(options, { defer: true });
  await kernel.start();
  return tctx;
}

export {
  tflow,
  ttcpflow,
  tudpflow,
  tdnsflow,
  twebsocketflow,
  tclientConn,
  tserverConn,
  treq,
  tresp,
  terr,
  twebsocket,
  tdnsreq,
  tdnsresp,
  type TFlowOptions,
  type TStreamFlowOptions,
  type TWebSocketFlowOptions,
  type TDNSFlowOptions,
} from '@mitmts/core';
export {
  startOrigin,
  requestVia,
  waitForFlow,
  type Origin,
  type OriginHandler,
  type OriginOptions,
  type OriginRequest,
  type ProxiedRequestInit,
  type ProxiedResponse,
  type ProxyEndpoint,
} from './e2e.js';
