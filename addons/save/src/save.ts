import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  addon,
  command,
  CommandError,
  type DNSFlow,
  encodeFlow,
  type Filter,
  filterOption,
  type Flow,
  FlowWriter,
  type HTTPFlow,
  inject,
  KERNEL,
  type Kernel,
  LOG,
  type Logger,
  option,
  OptionsError,
  type TCPFlow,
  type UDPFlow,
} from '@mitmts/sdk';
import { parsePathSpec, type PathSpec } from './path.js';
import { hasDirectives, strftime } from './strftime.js';

/** An open stream file. */
interface Stream {
  readonly fd: number;
  /** The formatted path it was opened as. */
  readonly path: string;
}

/**
 * Write flows to a `.mitm` file as they complete (mitmproxy's `save` addon), and save chosen
 * flows with the `save.file` command. Each flow is written with one synchronous write when it
 * completes (`response`/`error`, `websocket_end`, `tcp_end`/`tcp_error`, `udp_*`, `dns_*`), so
 * a killed process loses at most the flows in progress; those are written on shutdown.
 */
@addon({ name: 'save', description: 'Stream flows to a file; save chosen flows.' })
export class Save {
  @option({
    type: 'str?',
    default: null,
    help:
      'Stream flows to file as they arrive. Prefix path with + to append. The full path can use python strftime() ' +
      'formating, missing directories are created as needed. A new file is opened every time the formatted string changes.',
  })
  save_stream_file!: string | null;

  @option({ type: 'str?', default: null, help: 'Filter which flows are written to file.' })
  save_stream_filter!: string | null;

  private stream: Stream | null = null;
  private spec: PathSpec | null = null;
  private filter: Filter | null = null;
  /** Flows begun but not complete: written at shutdown so that nothing is lost. */
  private readonly active = new Set<Flow>();

  constructor(
    @inject(LOG) private readonly log: Logger,
    @inject(KERNEL) private readonly kernel: Kernel,
  ) {}

  configure(updated: ReadonlySet<string>): void {
    const fileChanged = updated.has('save_stream_file');
    const filterChanged = updated.has('save_stream_filter');
    if (!fileChanged && !filterChanged) return;
    let filter = this.filter;
    if (filterChanged) filter = filterOption('save_stream_filter', this.save_stream_filter);
    const file = this.save_stream_file;
    if (!file) {
      this.filter = filter;
      this.finish();
      return;
    }
    const spec = parsePathSpec(file);
    try {
      this.rotate(spec);
    } catch (err) {
      throw new OptionsError(`Cannot open save_stream_file ${file}: ${(err as Error).message}`);
    }
    this.spec = spec;
    this.filter = filter;
  }

  done(): void {
    this.finish();
  }

  @command('save.file', {
    args: ['flows', 'path'],
    help: 'Save flows to a file. If the path starts with a +, flows are appended to the file, otherwise it is over-written.',
  })
  saveFile(flows: Flow[], path: string): void {
    const spec = parsePathSpec(path);
    let writer: FlowWriter;
    try {
      writer = new FlowWriter(spec.path, { append: spec.append });
    } catch (err) {
      throw new CommandError(`Cannot save flows to ${spec.path}: ${(err as Error).message}`);
    }
    try {
      for (const f of flows) writer.add(f);
    } catch (err) {
      throw new CommandError(`Cannot save flows to ${spec.path}: ${(err as Error).message}`);
    } finally {
      void writer.close();
    }
    this.log.alert(`Saved ${flows.length} flows.`);
  }

  // Flows begin...
  request(flow: HTTPFlow): void {
    if (this.stream) this.active.add(flow);
  }
  tcp_start(flow: TCPFlow): void {
    if (this.stream) this.active.add(flow);
  }
  udp_start(flow: UDPFlow): void {
    if (this.stream) this.active.add(flow);
  }
  dns_request(flow: DNSFlow): void {
    if (this.stream) this.active.add(flow);
  }

  // ...and complete. WebSocket flows are saved once the WebSocket ends.
  response(flow: HTTPFlow): void {
    if (flow.websocket === null) this.saveFlow(flow);
  }
  error(flow: HTTPFlow): void {
    if (flow.websocket === null) this.saveFlow(flow);
  }
  websocket_end(flow: HTTPFlow): void {
    this.saveFlow(flow);
  }
  tcp_end(flow: TCPFlow): void {
    this.saveFlow(flow);
  }
  tcp_error(flow: TCPFlow): void {
    this.saveFlow(flow);
  }
  udp_end(flow: UDPFlow): void {
    this.saveFlow(flow);
  }
  udp_error(flow: UDPFlow): void {
    this.saveFlow(flow);
  }
  dns_response(flow: DNSFlow): void {
    this.saveFlow(flow);
  }
  dns_error(flow: DNSFlow): void {
    this.saveFlow(flow);
  }

  /** Write one flow (if it passes the filter), moving to a new file if the formatted name changed. */
  private saveFlow(flow: Flow): void {
    if (!this.stream || !this.spec) return;
    this.active.delete(flow);
    try {
      if (hasDirectives(this.spec.path)) this.rotate(this.spec);
      this.write(flow);
    } catch (err) {
      // Better to stop visibly than to let traffic through unrecorded.
      const path = this.stream?.path ?? this.spec.path;
      this.log.error(`Error while writing to ${path}: ${(err as Error).message}`);
      this.closeFile();
      this.spec = null;
      this.active.clear();
      this.kernel.requestShutdown(1);
    }
  }

  private write(flow: Flow): void {
    const s = this.stream;
    if (!s || (this.filter && !this.filter(flow))) return;
    const record = encodeFlow(flow);
    let off = 0;
    while (off < record.length) off += writeSync(s.fd, record, off);
  }

  /** Open the file the spec names now, unless it is the one already open. */
  private rotate(spec: PathSpec): void {
    const path = hasDirectives(spec.path) ? strftime(spec.path) : spec.path;
    if (this.stream?.path === path) return;
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, spec.append ? 'a' : 'w');
    this.closeFile();
    this.stream = { fd, path };
  }

  private closeFile(): void {
    const s = this.stream;
    this.stream = null;
    if (s) closeSync(s.fd);
  }

  /** Stop streaming: write the flows still in progress, close the file. */
  private finish(): void {
    if (this.stream) {
      for (const f of this.active) {
        try {
          this.write(f);
        } catch (err) {
          this.log.error(`Error while writing to ${this.stream.path}: ${(err as Error).message}`);
          break;
        }
      }
    }
    this.active.clear();
    this.spec = null;
    this.closeFile();
  }
}
