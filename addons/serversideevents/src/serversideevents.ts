import { addon, type HTTPFlow, inject, LOG, type Logger } from '@mitmts/sdk';

/**
 * Server-sent events (`text/event-stream`) reach the client only once the whole response is in,
 * unless the response is streamed (mitmproxy's `server_side_events`, mitmproxy issue 4469). Until
 * mitmts streams event streams live by itself, this addon says so for each one it sees, with the
 * way out: stream the response.
 */
@addon({ name: 'serversideevents', description: 'Warn when a server-sent event stream is buffered instead of streamed.' })
export class ServerSideEvents {
  constructor(@inject(LOG) private readonly log: Logger) {}

  responseheaders(f: HTTPFlow): void {
    const r = f.response;
    if (!r || r.stream) return;
    if (!(r.headers.get('content-type') ?? '').startsWith('text/event-stream')) return;
    this.log.warn(
      `${f.request.prettyUrl}: server-sent events are held until the response ends, because it is not streamed. ` +
        'Stream it: set flow.response.stream = true in a script (responseheaders), or use stream_large_bodies.',
    );
  }
}
