import { writeFileSync } from 'node:fs';
import {
  addon,
  command,
  CommandError,
  type AddonHooks,
  expandHome,
  type Filter,
  filterOption,
  type Flow,
  flowsToHar,
  type HTTPFlow,
  inject,
  KERNEL,
  type Kernel,
  LOG,
  type Logger,
  option,
  serializeHar,
} from '@mitmts/sdk';

/**
 * Save flows as a HAR (HTTP Archive) file (mitmproxy's `savehar`): all completed HTTP flows on
 * exit with `hardump`, or chosen flows with the `save.har` command. `.zhar` paths are
 * zlib-compressed; `-` writes to standard output. `save_stream_filter` (the save addon's option)
 * chooses which flows `hardump` keeps.
 */
@addon({ name: 'savehar', description: 'Export flows as a HAR file.' })
export class SaveHar implements AddonHooks {
  @option({
    type: 'str',
    default: '',
    help:
      'Save a HAR file with all flows on exit. You may select particular flows by setting save_stream_filter. ' +
      'For mitmdump, enabling this option will mean that flows are kept in memory.',
  })
  hardump!: string;

  /** Flows kept for `hardump`. */
  readonly flows: HTTPFlow[] = [];
  private filter: Filter | null = null;

  constructor(
    @inject(KERNEL) private readonly kernel: Kernel,
    @inject(LOG) private readonly log: Logger,
  ) {}

  /** Where `-` writes (standard output; tests replace it). */
  stdout: (text: string) => void = (t) => void process.stdout.write(t);

  configure(updated: ReadonlySet<string>): void {
    if (updated.has('save_stream_filter') && this.kernel.options.has('save_stream_filter')) {
      this.filter = filterOption('save_stream_filter', this.kernel.options.get<string | null>('save_stream_filter'));
    }
    if (updated.has('hardump') && !this.hardump) this.flows.length = 0;
  }

  @command('save.har', {
    args: ['flows', 'path'],
    help: 'Export flows to an HAR (HTTP Archive) file (.zhar: compressed; -: standard output).',
  })
  saveHar(flows: Flow[], path: string): void {
    const bytes = serializeHar(flowsToHar(flows), { compress: path.endsWith('.zhar') });
    if (path === '-') {
      this.stdout(`${bytes.toString('utf8')}\n`);
      return;
    }
    try {
      writeFileSync(expandHome(path), bytes);
    } catch (err) {
      throw new CommandError(`Cannot save the HAR file ${path}: ${(err as Error).message}`);
    }
    this.log.alert(`HAR file saved (${bytes.length} bytes).`);
  }

  response(flow: HTTPFlow): void {
    // WebSocket flows are kept when the WebSocket ends.
    if (flow.websocket === null) this.keep(flow);
  }

  error(flow: HTTPFlow): void {
    this.response(flow);
  }

  websocket_end(flow: HTTPFlow): void {
    this.keep(flow);
  }

  done(): void {
    if (!this.hardump) return;
    try {
      this.saveHar(this.flows, this.hardump);
    } catch (err) {
      this.log.error(`hardump: ${(err as Error).message}`);
    }
  }

  private keep(flow: HTTPFlow): void {
    if (this.hardump && (this.filter === null || this.filter(flow))) this.flows.push(flow);
  }
}
