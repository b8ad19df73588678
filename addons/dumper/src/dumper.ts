import {
  addon,
  type AddonHooks,
  type DNSFlow,
  type Filter,
  filterOption,
  type Flow,
  hook,
  type HTTPFlow,
  inject,
  option,
  OPTIONS,
  type OptionsManager,
  type TCPFlow,
  type UDPFlow,
} from '@mitmts/sdk';
import { VIEW_NAMES } from './contentviews.js';
import * as fmt from './format.js';
import { colored, plain } from './style.js';

/** The flow hooks print only at `flow_detail` above 0 (`-q` sets 0): below, they are left out of the chain. */
const PRINTING = { activeWhen: (d: Dumper): boolean => d.flow_detail > 0 };

/**
 * mitmdump's terminal output (mitmproxy's `dumper` addon): one line per request and one per
 * response at `flow_detail` 1, headers at 2, bodies at 3 (cut) and 4; TCP, UDP and WebSocket
 * messages, DNS answers and errors. Coloured when writing to a terminal. Each event is written
 * with a single `write`.
 */
@addon({ name: 'dumper', description: "mitmdump's terminal output of flows." })
export class Dumper implements AddonHooks {
  @option({
    type: 'int',
    default: 1,
    min: 0,
    max: 4,
    help:
      'The display detail level for flows in mitmdump: 0 (quiet) to 4 (very verbose). 0: no output; ' +
      '1: shortened request URL with response status code; 2: full request URL with response status code and HTTP headers; ' +
      '3: 2 + truncated response content, content of WebSocket and TCP messages (content_view_lines_cutoff: 512); ' +
      '4: 3 + nothing is truncated',
  })
  flow_detail!: number;

  @option({ type: 'str', default: 'auto', help: 'The default content view mode.', choices: VIEW_NAMES })
  dumper_default_contentview!: string;

  @option({ type: 'str?', default: null, help: 'Limit which flows are dumped.' })
  dumper_filter!: string | null;

  private outStream: NodeJS.WritableStream | null = null;

  /** Where the output goes (default: stdout, opened on the first line printed). */
  get out(): NodeJS.WritableStream {
    return (this.outStream ??= process.stdout);
  }

  set out(stream: NodeJS.WritableStream) {
    this.outStream = stream;
  }
  /** Force colour on or off; by default, colour when `out` is a terminal. */
  color: boolean | undefined = undefined;

  private filter: Filter | null = null;

  constructor(@inject(OPTIONS) private readonly options: OptionsManager) {}

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('dumper_filter')) return;
    this.filter = filterOption('dumper_filter', this.dumper_filter);
  }

  /** Is this flow printed at all (detail above 0 and the filter matches)? */
  match(flow: Flow): boolean {
    if (this.flow_detail <= 0) return false;
    return this.filter === null || this.filter(flow);
  }

  @hook('response', PRINTING)
  response(flow: HTTPFlow): void {
    if (this.match(flow)) this.emit(fmt.httpFlow, flow);
  }

  @hook('error', PRINTING)
  error(flow: HTTPFlow): void {
    if (this.match(flow)) this.emit(fmt.httpFlow, flow);
  }

  @hook('websocket_message', PRINTING)
  websocket_message(flow: HTTPFlow): void {
    if (this.match(flow)) this.emit(fmt.websocketMessage, flow);
  }

  @hook('websocket_end', PRINTING)
  websocket_end(flow: HTTPFlow): void {
    if (this.match(flow)) this.emit(fmt.websocketEnd, flow);
  }

  @hook('tcp_message', PRINTING)
  tcp_message(flow: TCPFlow): void {
    if (this.match(flow)) this.emit(fmt.streamMessage, flow);
  }

  @hook('tcp_error', PRINTING)
  tcp_error(flow: TCPFlow): void {
    if (this.match(flow)) this.emit(fmt.streamError, flow);
  }

  @hook('udp_message', PRINTING)
  udp_message(flow: UDPFlow): void {
    if (this.match(flow)) this.emit(fmt.streamMessage, flow);
  }

  @hook('udp_error', PRINTING)
  udp_error(flow: UDPFlow): void {
    if (this.match(flow)) this.emit(fmt.streamError, flow);
  }

  @hook('dns_response', PRINTING)
  dns_response(flow: DNSFlow): void {
    if (this.match(flow)) this.emit(fmt.dnsResponse, flow);
  }

  @hook('dns_error', PRINTING)
  dns_error(flow: DNSFlow): void {
    if (this.match(flow)) this.emit(fmt.dnsError, flow);
  }

  /** The current formatting settings (options, terminal width, colour). */
  settings(): fmt.FormatSettings {
    const o = this.options;
    const color = this.color ?? (this.out as { isTTY?: boolean }).isTTY === true;
    return {
      detail: this.flow_detail,
      showhost: o.has('showhost') && o.get<boolean>('showhost'),
      contentView: this.dumper_default_contentview,
      linesCutoff: o.has('content_view_lines_cutoff') ? Math.max(1, o.get<number>('content_view_lines_cutoff')) : 512,
      urlWidth: Math.max(terminalColumns() - 25, 50),
      style: color ? colored : plain,
    };
  }

  private emit<F extends Flow>(format: (l: fmt.Lines, flow: F) => void, flow: F): void {
    const lines = new fmt.Lines(this.settings());
    format(lines, flow);
    const text = lines.toString();
    if (text) this.out.write(text);
  }
}

/** Python's `shutil.get_terminal_size()[0]`: $COLUMNS, else stdout's width, else 80. */
function terminalColumns(): number {
  const env = Number(process.env['COLUMNS']);
  if (Number.isInteger(env) && env > 0) return env;
  const cols = process.stdout.isTTY ? process.stdout.columns : undefined;
  return cols && cols > 0 ? cols : 80;
}
