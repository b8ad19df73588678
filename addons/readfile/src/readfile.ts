import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  addon,
  command,
  type Filter,
  filterOption,
  type Flow,
  FlowReader,
  type FlowSource,
  type HTTPFlow,
  inject,
  type Kernel,
  KERNEL,
  LOG,
  type Logger,
  option,
  parseMode,
} from '@mitmts/sdk';
import { eventSequence } from './eventsequence.js';

/**
 * Read flows from a file at start-up (`-r`, mitmproxy's `readfile` addon): a mitmproxy `.mitm`
 * file of any version, or HAR, or `-` for stdin. Each flow is replayed into the addon chain
 * with the hooks it would have gone through live (see eventsequence.ts), so the dumper prints
 * it, save writes it, scripts see it. With `keepserving` off, the keepserving addon ends the
 * process once `readfile.reading` turns false.
 */
@addon({ name: 'readfile', description: 'Read flows from a file at start-up.' })
export class ReadFile {
  @option({ type: 'str?', default: null, help: 'Read flows from file.' })
  rfile!: string | null;

  @option({ type: 'str?', default: null, help: 'Read only matching flows.' })
  readfile_filter!: string | null;

  private stdinStream: NodeJS.ReadableStream | null = null;

  /** Where `-` reads from (default: stdin, opened only when `-` is read: an idle proxy needs no stdin stream). */
  get stdin(): NodeJS.ReadableStream {
    return (this.stdinStream ??= process.stdin);
  }

  set stdin(stream: NodeJS.ReadableStream) {
    this.stdinStream = stream;
  }

  private filter: Filter | null = null;
  private task: Promise<number> | null = null;
  private stopped = false;

  constructor(
    @inject(LOG) private readonly log: Logger,
    @inject(KERNEL) private readonly kernel: Kernel,
  ) {}

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('readfile_filter')) return;
    this.filter = filterOption('readfile_filter', this.readfile_filter);
  }

  /**
   * Start reading. The file is checked here, so that a missing file is a start-up error (and
   * errorcheck ends the process with status 1); the flows are then read in the background.
   */
  async running(): Promise<void> {
    const rfile = this.rfile;
    if (!rfile) return;
    const source = await this.open(rfile);
    if (source === null) return;
    this.stopped = false;
    const task = this.loadFlows(source, rfile === '-' ? '<stdin>' : rfile);
    this.task = task;
    void task.finally(() => {
      if (this.task === task) this.task = null;
    });
  }

  done(): void {
    this.stopped = true;
  }

  @command('readfile.reading', { help: 'Is a flow file being read right now?', returns: 'bool' })
  reading(): boolean {
    return this.task !== null;
  }

  /** Resolves once the flow file being read, if any, is read (for tests and embedders). */
  async idle(): Promise<void> {
    await this.task;
  }

  /**
   * Read flows from a source into the addon chain; resolves with the number of flows loaded.
   * Read errors are logged (a damaged file keeps the flows before the damage).
   */
  async loadFlows(source: FlowSource, name: string): Promise<number> {
    let count = 0;
    try {
      // The reader applies the filter (a store database answers it from its indexes).
      for await (const flow of new FlowReader(source, { name, filter: this.filter })) {
        if (this.stopped) break;
        await this.loadFlow(flow);
        count++;
      }
    } catch (err) {
      if (count) this.log.warn(`Flow file corrupted - loaded ${count} flows.`);
      else this.log.error('Flow file corrupted.');
      this.log.error(`Failed to read ${name}: ${(err as Error).message}`);
    }
    return count;
  }

  /**
   * Load one flow: in reverse proxy mode, point HTTP requests at the reverse target (so that
   * replaying them goes there), then fire its hook sequence, each followed by `update`.
   */
  async loadFlow(flow: Flow): Promise<void> {
    if (flow.type === 'http') this.retarget(flow as HTTPFlow);
    this.kernel.flows.add(flow);
    const chain = this.kernel.addons;
    for (const [hook, f] of eventSequence(flow)) {
      const r = chain.triggerFlow(hook as 'request', f as HTTPFlow);
      if (r) await r;
    }
  }

  private retarget(flow: HTTPFlow): void {
    const o = this.kernel.options;
    const modes = o.has('mode') ? o.get<readonly string[]>('mode') : [];
    if (modes.length !== 1 || !modes[0]!.startsWith('reverse:')) return;
    const server = parseMode(modes[0]!).server;
    if (!server) return;
    flow.request.host = server.host;
    flow.request.port = server.port;
    flow.request.scheme = server.scheme === 'http' ? 'http' : 'https';
  }

  private async open(rfile: string): Promise<FlowSource | null> {
    if (rfile === '-') return this.stdin;
    const path = rfile === '~' ? homedir() : rfile.startsWith('~/') ? join(homedir(), rfile.slice(2)) : rfile;
    try {
      const s = await stat(path);
      if (s.isDirectory()) throw new Error(`${path} is a directory, not a flow file`);
      return path;
    } catch (err) {
      this.log.error(`Cannot load flows: ${(err as Error).message}`);
      return null;
    }
  }
}
