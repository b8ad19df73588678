import {
  addon,
  CLIENT_REPLAY,
  type ClientReplay,
  command,
  type Flow,
  FlowError,
  type HTTPFlow,
  inject,
  KERNEL,
  type Kernel,
  LOG,
  type Logger,
  option,
  OptionsError,
  withFlowFiles,
} from '@mitmts/sdk';
import { describeFlow, replayProblem } from './check.js';

/**
 * Replays recorded requests to their servers (mitmproxy's `clientplayback`, `-C`): each queued
 * flow's request goes out again through the proxy runtime's client replay (its own server
 * connection, HTTPS with SNI), its hooks fire (`requestheaders` ... `response` or `error`, so
 * addons may change or kill it), and the flow, marked `isReplay = 'request'`, gets the new
 * response or error. `client_replay_concurrency` requests run at once (1: one after another;
 * -1: all). Replayed flows go to the kernel's flow store, so `-w` saves them and the web UI
 * shows them.
 */
@addon({ name: 'clientplayback', description: 'Replay recorded requests to their servers.' })
export class ClientPlayback {
  @option({ type: 'str[]', default: [], help: 'Replay client requests from a saved file.' })
  client_replay!: readonly string[];

  @option({
    type: 'int',
    default: 1,
    help:
      'Concurrency limit on in-flight client replay requests: 1 replays one request at a time, -1 all at once (no limit), ' +
      'a larger number up to that many at once.',
  })
  client_replay_concurrency!: number;

  /** Flows waiting for their turn, from `head` on. */
  private queue: HTTPFlow[] = [];
  private head = 0;
  private readonly inflight = new Set<HTTPFlow>();
  /** Between `running` and `done`: replays start only then (the runtime is configured). */
  private active = false;
  private replayer: ClientReplay | null = null;

  constructor(
    @inject(KERNEL) private readonly kernel: Kernel,
    @inject(LOG) private readonly log: Logger,
  ) {}

  configure(updated: ReadonlySet<string>): void | Promise<void> {
    if (updated.has('client_replay_concurrency')) {
      const n = this.client_replay_concurrency;
      if (n !== -1 && n < 1) {
        throw new OptionsError(
          `client_replay_concurrency must be -1 (no limit) or a number of requests at once (1 or more), got ${n}.`,
        );
      }
    }
    if (updated.has('client_replay') && this.client_replay.length > 0) {
      // Read here: a missing or damaged file is an error of the option (at start-up, mitmts
      // exits with it); nothing is queued then.
      return withFlowFiles(this.client_replay, { option: 'client_replay' }, (flows) => this.replay(flows));
    } else if (updated.has('client_replay_concurrency')) {
      this.pump();
    }
  }

  running(): void {
    this.active = true;
    this.pump();
  }

  /** At shutdown nothing new starts; replays under way end on their own (or with the process). */
  done(): void {
    this.active = false;
    this.takeQueued();
  }

  @command('replay.client', {
    args: ['flows'],
    help: "Add flows to the replay queue, skipping flows that can't be replayed.",
  })
  replay(flows: readonly Flow[]): void {
    const queued: HTTPFlow[] = [];
    for (const f of flows) {
      const problem = replayProblem(f);
      if (problem) {
        this.log.warn(`${problem} (${describeFlow(f)})`);
        continue;
      }
      const h = f as HTTPFlow;
      // As mitmproxy: a backup first (flow.revert undoes the replay), then a clean slate.
      h.backup();
      h.isReplay = 'request';
      h.response = null;
      h.error = null;
      this.queue.push(h);
      queued.push(h);
    }
    if (queued.length === 0) return;
    void this.kernel.trigger('update', queued);
    this.pump();
  }

  @command('replay.client.file', { args: ['path'], help: 'Load flows from file, and add them to the replay queue.' })
  loadFile(path: string): void | Promise<void> {
    return withFlowFiles([path], { command: 'replay.client.file' }, (flows) => this.replay(flows));
  }

  @command('replay.client.count', { returns: 'int', help: 'The number of flows queued for replay or being replayed.' })
  count(): number {
    return this.queue.length - this.head + this.inflight.size;
  }

  @command('replay.client.stop', { help: 'Clear the replay queue (replays under way finish).' })
  stop(): void {
    const cleared = this.takeQueued();
    for (const f of cleared) f.revert();
    if (cleared.length > 0) void this.kernel.trigger('update', cleared);
    this.log.alert('Client replay queue cleared.');
  }

  /** Start queued replays while the concurrency limit allows. */
  private pump(): void {
    if (!this.active) return;
    const limit = this.client_replay_concurrency;
    while (this.head < this.queue.length && (limit === -1 || this.inflight.size < limit)) {
      const f = this.queue[this.head]!;
      this.head++;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      this.start(f);
    }
  }

  private start(f: HTTPFlow): void {
    this.inflight.add(f);
    // Flows read from a file are new to the store (flows replayed from the UI are in it already).
    if (this.kernel.flows.get(f.id) !== f) this.kernel.flows.add(f);
    let run: Promise<void>;
    try {
      run = this.runtime().replay(f);
    } catch (err) {
      run = Promise.reject(err);
    }
    run
      .catch((err: unknown) => {
        const msg = `Client replay of ${describeFlow(f)} failed: ${(err as Error)?.message ?? String(err)}`;
        this.log.error(msg);
        f.error ??= new FlowError(msg);
        f.live = false;
      })
      .finally(() => {
        this.inflight.delete(f);
        this.pump();
      });
  }

  /**
   * The proxy runtime's client replay, taken from the kernel on first use (not by constructor
   * injection: the test harness has no proxy runtime until a test registers one).
   */
  private runtime(): ClientReplay {
    if (this.replayer === null) {
      if (!this.kernel.container.isRegistered(CLIENT_REPLAY, true)) {
        throw new Error('client replay needs the proxy runtime (ProxyServer), which this kernel does not have.');
      }
      this.replayer = this.kernel.resolve(CLIENT_REPLAY);
    }
    return this.replayer;
  }

  private takeQueued(): HTTPFlow[] {
    const rest = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    return rest;
  }
}
