import { spawn } from 'node:child_process';
import { addon, inject, KERNEL, type Kernel, LOG, type Logger, option, OptionsError } from '@mitmts/sdk';
import type { FlowIndex } from '@mitmts/sdk/store';
import type { WebState } from './protocol.js';
import type { WebServer } from './server.js';
import type { WebLive } from './live.js';
import type { FlowBackend } from './backend.js';

const VERSION = '0.1.0';
const WEB_OPTIONS = new Set(['web', 'web_host', 'web_port', 'web_password']);

/** Open a URL in the desktop's browser; a missing opener is not an error. */
function openBrowser(url: string, log: Logger): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => log.info(`No browser opened (${cmd} is not available): open ${url} yourself.`));
    child.unref();
  } catch {
    log.info(`No browser opened: open ${url} yourself.`);
  }
}

interface Running {
  readonly server: WebServer;
  backend: FlowBackend & { close?(): void };
  /** The kernel's index the backend reads (a store's, or the memory one). */
  index: FlowIndex;
  readonly live: WebLive;
  readonly offLog: () => void;
  readonly offIndex: () => void;
  /** The flow limit to restore when the UI stops. */
  flowLimit: number;
}

/**
 * The web UI (mitmweb's job): an HTTP server with the page, a REST API and a WebSocket of live
 * updates, started when the `web` option is on. The server's code is loaded only then, so a
 * proxy without the UI pays nothing for it.
 */
@addon({ name: 'web', description: 'The web UI: flows live in the browser, a REST and WebSocket API.' })
export class Web {
  @option({
    type: 'bool',
    default: false,
    help: 'Start the web UI (like mitmweb): open the URL it prints, token included.',
  })
  web!: boolean;

  @option({ type: 'str', default: '127.0.0.1', help: 'Web UI host.' })
  web_host!: string;

  @option({ type: 'int', default: 8081, help: 'Web UI port (0: any free port).' })
  web_port!: number;

  @option({
    type: 'str?',
    default: null,
    help: 'Password for the web UI (used as the token). Default: a random token, printed at start with the full URL.',
  })
  web_password!: string | null;

  @option({
    type: 'bool',
    default: true,
    help: 'Open a browser on the web UI when it starts (never fails if none can be opened).',
  })
  web_open_browser!: boolean;

  private running_: Running | null = null;
  private isRunning = false;
  /** The flow store's limit before the UI raised it. */
  private savedLimit = 0;
  /** Start/stop work in progress: changes apply in order. */
  private work: Promise<void> = Promise.resolve();

  constructor(
    @inject(KERNEL) private readonly kernel: Kernel,
    @inject(LOG) private readonly log: Logger,
  ) {}

  /** The running server (for tests and embedders), or null. */
  get server(): WebServer | null {
    return this.running_?.server ?? null;
  }

  configure(updated: ReadonlySet<string>): void {
    // Keep every flow from the start (flows read with -r arrive before the server runs), unless
    // a store keeps them.
    const flows = this.kernel.flows;
    if (updated.has('web') && this.web && !this.running_ && flows.index === flows.memory) this.keepFlows();
    if (updated.has('web_port') && (this.web_port < 0 || this.web_port > 65535)) {
      throw new OptionsError(`Option web_port: ${this.web_port} is not a port (0-65535).`);
    }
    if (updated.has('web_password') && this.web_password?.startsWith('$argon2')) {
      throw new OptionsError(
        'Option web_password: argon2 hashes are not supported by mitmts; give the password itself.',
      );
    }
    this.running_?.server.optionsChanged(updated);
    if (this.isRunning && [...updated].some((n) => WEB_OPTIONS.has(n))) this.restart();
  }

  running(): Promise<void> {
    this.isRunning = true;
    this.restart();
    return this.work;
  }

  async done(): Promise<void> {
    this.isRunning = false;
    await this.work;
    await this.stop();
  }

  /** Wait for start/stop work queued so far (a changed option restarts the server). */
  settled(): Promise<void> {
    return this.work;
  }

  private restart(): void {
    this.work = this.work.then(async () => {
      await this.stop();
      if (this.isRunning && this.web) await this.start();
    });
    void this.kernel.track(this.work);
  }

  /** The kernel's flow index changed (a store was plugged in or out): read the new one. */
  private switchBackend(): void {
    this.work = this.work.then(async () => {
      const r = this.running_;
      if (!r || r.index === this.kernel.flows.index) return;
      const old = r.backend;
      r.index = this.kernel.flows.index;
      const { backend, flowLimit } = await this.backend();
      r.backend = backend;
      r.flowLimit = flowLimit;
      r.server.useBackend(backend);
      old.close?.();
    });
    void this.kernel.track(this.work);
  }

  /** Like mitmweb's view, the UI keeps every flow until it is cleared or deleted. Returns the old limit. */
  private keepFlows(): number {
    const flows = this.kernel.flows;
    if (flows.limit !== Infinity) this.savedLimit = flows.limit;
    flows.limit = Infinity;
    return this.savedLimit;
  }

  /**
   * The backend the view reads: the store's index when a store is plugged into the kernel (it
   * keeps every flow, so the kernel's memory bound stays as the store set it), else the flows
   * in memory, all of them kept while the UI runs.
   */
  private async backend(): Promise<{ backend: Running['backend']; flowLimit: number }> {
    const flows = this.kernel.flows;
    if (flows.index !== flows.memory) {
      // Undo keepFlows(): the store holds every flow; memory keeps what the store's bound says.
      if (flows.limit === Infinity && this.savedLimit > 0) flows.limit = this.savedLimit;
      const { IndexBackend } = await import('./index-backend.js');
      this.log.info(`Web UI reads flows from the store (${flows.index.name}).`);
      return { backend: new IndexBackend(flows, flows.index), flowLimit: flows.limit };
    }
    const { MemoryBackend } = await import('./memory-backend.js');
    const flowLimit = this.keepFlows();
    return { backend: new MemoryBackend(flows), flowLimit };
  }

  private async start(): Promise<void> {
    const [{ WebServer }, { WebLive }] = await Promise.all([import('./server.js'), import('./live.js')]);
    const flows = this.kernel.flows;
    const { backend, flowLimit } = await this.backend();
    let server: WebServer;
    try {
      server = await WebServer.start(this.kernel, backend, {
        host: this.web_host,
        port: this.web_port,
        token: this.web_password ?? (await import('./auth.js')).Auth.randomToken(),
        log: this.log,
        state: () => this.state(),
      });
    } catch (err) {
      backend.close?.();
      flows.limit = flowLimit;
      this.log.error(
        `Web UI cannot listen on ${this.web_host}:${this.web_port}: ${(err as Error).message}. The proxy keeps running without it.`,
      );
      return;
    }
    const live = new WebLive((f) => server.hub.touched(f));
    await this.kernel.add(live);
    const offLog = this.kernel.log.onEntry((e) => server.hub.event(server.events.add(e)));
    // A store opened (or closed) while the UI runs is read at once, without a restart.
    const offIndex = flows.onIndexChange(() => this.switchBackend());
    this.running_ = { server, backend, index: flows.index, live, offLog, offIndex, flowLimit };
    this.log.info(`Web server listening at ${server.url}`);
    if (this.web_open_browser) openBrowser(server.url, this.log);
  }

  private async stop(): Promise<void> {
    const r = this.running_;
    if (!r) return;
    this.running_ = null;
    r.offLog();
    r.offIndex();
    if (this.kernel.addons.find(r.live)) await this.kernel.remove(r.live);
    await r.server.close();
    r.backend.close?.();
    this.kernel.flows.limit = r.flowLimit;
  }

  private state(): WebState {
    const proxy = this.kernel.get<{ addresses?: ReadonlyArray<{ mode: string; host: string; port: number }> }>(
      'proxyserver',
    );
    return {
      version: VERSION,
      platform: `${process.platform}-${process.arch}`,
      servers: (proxy?.addresses ?? []).map((a) => ({ mode: a.mode, host: a.host, port: a.port })),
      features: {
        intercept: this.kernel.options.has('intercept'),
        replay: this.kernel.commands.has('replay.client'),
        export: this.kernel.commands.has('export'),
      },
    };
  }
}
