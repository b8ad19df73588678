import {
  addon,
  COMMANDS,
  inject,
  KERNEL,
  OPTIONS,
  option,
  type CommandManager,
  type Kernel,
  type OptionsManager,
} from '@mitmts/sdk';

/** Options that start work keepserving waits for (those that exist in this build). */
const WORK_OPTIONS = ['client_replay', 'server_replay', 'rfile'] as const;

/**
 * Commands asked every 100 ms whether work is left: file reading, client and server replay,
 * and open client connections (a replayed response may still be on its way out; mitmproxy
 * issue 7569). Commands no loaded addon provides count as "nothing left".
 */
const CHECKS = [
  'readfile.reading',
  'replay.client.count',
  'replay.server.count',
  'proxyserver.active_connections',
] as const;

/**
 * Options that open an interactive tool (the web UI): while one is on, the user looks at the
 * flows there, so the proxy keeps serving (as mitmweb, which never exits by itself).
 */
const INTERACTIVE_OPTIONS = ['web'] as const;

/**
 * Exit once reading a flow file (`-r`) or client/server replay is done, unless `keepserving`
 * is set (mitmproxy's `keepserving` addon). So `mitmts -n -r dump.mitm` prints the flows and
 * exits, while `mitmts -r dump.mitm --set keepserving` keeps running.
 */
@addon({ name: 'keepserving', description: 'Exit when file reading and replays are done, unless keepserving is set.' })
export class KeepServing {
  @option({
    type: 'bool',
    default: false,
    help:
      'Continue serving after client playback, server playback or file read. ' +
      'This option is ignored by interactive tools, which always keep serving.',
  })
  keepserving!: boolean;

  /** How often to check, in milliseconds. */
  interval = 100;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    @inject(KERNEL) private readonly kernel: Kernel,
    @inject(OPTIONS) private readonly options: OptionsManager,
    @inject(COMMANDS) private readonly commands: CommandManager,
  ) {}

  running(): void {
    if (this.keepserving || this.timer || this.interactive()) return;
    if (!WORK_OPTIONS.some((name) => this.hasWork(name))) return;
    this.watch();
  }

  done(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Is any reading, replaying or connection still going on? */
  async keepgoing(): Promise<boolean> {
    for (const name of CHECKS) {
      if (!this.commands.has(name)) continue;
      if (await this.commands.call(name)) return true;
    }
    return false;
  }

  /** Is an interactive tool (the web UI) on? */
  private interactive(): boolean {
    return INTERACTIVE_OPTIONS.some((name) => this.options.has(name) && this.options.get(name) === true);
  }

  private hasWork(name: string): boolean {
    if (!this.options.has(name)) return false;
    const v = this.options.get(name);
    return Array.isArray(v) ? v.length > 0 : Boolean(v);
  }

  private watch(): void {
    this.timer = setTimeout(() => {
      this.keepgoing().then(
        (busy) => {
          if (this.timer === null) return;
          if (this.interactive()) this.timer = null;
          else if (busy) this.watch();
          else {
            this.timer = null;
            this.kernel.requestShutdown(0);
          }
        },
        () => this.watch(),
      );
    }, this.interval);
  }
}
