import {
  addon,
  type Client,
  type Filter,
  filterOption,
  type Flow,
  hook,
  inject,
  LOG,
  type Logger,
  option,
} from '@mitmts/sdk';

/** The flow hooks do something only while a filter is set and interception is on: else they are left out of the chain. */
const HOLDING = { activeWhen: (i: Intercept): boolean => i.holding };

/**
 * Holds flows that match the `intercept` filter (mitmproxy's `intercept` addon): at the request,
 * at the response, at each TCP, UDP and WebSocket message and DNS query or answer, a matching
 * flow is marked intercepted and its connection waits until `flow.resume` or `flow.kill` (the
 * corecommands addon). Other connections go on meanwhile. A client that disconnects while its
 * flow is held gets that flow killed, so the exchange ends and nothing stays behind (the
 * exchange gives the flow mitmproxy's error, "Client disconnected.").
 */
@addon({ name: 'intercept', description: 'Hold matching flows until they are resumed or killed.' })
export class Intercept {
  @option({ type: 'bool', default: false, help: 'Intercept toggle' })
  intercept_active!: boolean;

  @option({ type: 'str?', default: null, help: 'Intercept filter expression.' })
  intercept!: string | null;

  private filter: Filter | null = null;
  /** Flows this addon held; pruned of resumed ones whenever it is looked at. */
  private readonly held = new Set<Flow>();

  constructor(@inject(LOG) private readonly log: Logger) {}

  configure(updated: ReadonlySet<string>): void {
    if (!updated.has('intercept')) return;
    // As in mitmproxy: setting a filter turns interception on, clearing it turns it off.
    this.filter = filterOption('intercept', this.intercept);
    this.intercept_active = this.filter !== null;
  }

  @hook('request', HOLDING)
  request(f: Flow): void {
    this.process(f);
  }
  @hook('response', HOLDING)
  response(f: Flow): void {
    this.process(f);
  }
  @hook('tcp_message', HOLDING)
  tcp_message(f: Flow): void {
    this.process(f);
  }
  @hook('udp_message', HOLDING)
  udp_message(f: Flow): void {
    this.process(f);
  }
  @hook('dns_request', HOLDING)
  dns_request(f: Flow): void {
    this.process(f);
  }
  @hook('dns_response', HOLDING)
  dns_response(f: Flow): void {
    this.process(f);
  }
  @hook('websocket_message', HOLDING)
  websocket_message(f: Flow): void {
    this.process(f);
  }

  /** Release (kill) the held flows of a client that went away: their exchanges end now. */
  client_disconnected(client: Client): void {
    const gone = this.release((f) => f.clientConn === client);
    if (gone > 0)
      this.log.info(
        `intercept: client ${client.peername?.join(':') ?? ''} disconnected; killed ${gone} intercepted flow${gone === 1 ? '' : 's'}.`,
      );
  }

  /** At shutdown, no exchange may wait for a resume that never comes. */
  done(): void {
    this.release(() => true);
  }

  /** Whether flows can be held now (a filter is set and `intercept_active` is on). */
  get holding(): boolean {
    return this.filter !== null && this.intercept_active;
  }

  /** Is `f` one to hold? Replayed flows and flows loaded from files (not live) are not. */
  shouldIntercept(f: Flow): boolean {
    return this.holding && f.live && f.isReplay === null && this.filter!(f);
  }

  private process(f: Flow): void {
    if (!this.shouldIntercept(f)) return;
    this.prune();
    f.intercept();
    this.held.add(f);
  }

  private release(which: (f: Flow) => boolean): number {
    this.prune();
    let n = 0;
    for (const f of this.held) {
      if (!which(f)) continue;
      this.held.delete(f);
      if (f.killable) f.kill();
      else f.resume();
      n++;
    }
    return n;
  }

  private prune(): void {
    for (const f of this.held) if (!f.intercepted) this.held.delete(f);
  }
}
