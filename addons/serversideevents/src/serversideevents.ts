import {
  addon,
  type HTTPFlow,
  inject,
  isEventStream,
  LOG,
  liveMatcher,
  type LiveMatcher,
  type Logger,
  OPTIONS,
  type OptionsManager,
} from '@mitmts/sdk';

/**
 * Server-sent events (`text/event-stream`) are live by default (`live_bodies`): each event goes
 * to the client as it is sent, and the response is still recorded. When `live_bodies` was set so
 * that an event stream is not live, and nothing streams it, it reaches the client only once the
 * whole response is in (mitmproxy's behaviour, mitmproxy issue 4469): this addon says so for each
 * one it sees, with the way out.
 */
@addon({
  name: 'serversideevents',
  description: 'Warn when a server-sent event stream is held instead of forwarded live.',
})
export class ServerSideEvents {
  private live: LiveMatcher | null = null;
  private liveSpec: string | null = null;

  constructor(
    @inject(LOG) private readonly log: Logger,
    @inject(OPTIONS) private readonly options: OptionsManager,
  ) {}

  responseheaders(f: HTTPFlow): void {
    const r = f.response;
    if (!r || r.stream || !isEventStream(r.headers.get('content-type'))) return;
    if (this.matcher()?.(f)) return;
    this.log.warn(
      `${f.request.prettyUrl}: server-sent events are held until the response ends, because live_bodies does not match this response. ` +
        `Make it live: --set live_bodies='~ts text/event-stream' (the default), or set flow.response.stream = true in a script (responseheaders).`,
    );
  }

  /** The runtime's own live_bodies matcher (the option is the proxy runtime's; without it nothing is live). */
  private matcher(): LiveMatcher | null {
    const spec = this.options.has('live_bodies') ? this.options.get<string>('live_bodies') : null;
    if (spec !== this.liveSpec) {
      this.liveSpec = spec;
      this.live = spec === null ? null : liveMatcher(spec);
    }
    return this.live;
  }
}
