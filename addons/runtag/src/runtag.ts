import {
  addon,
  parseRunTag,
  RUN_METADATA,
  type AddonHooks,
  type Client,
  type Flow,
  type HTTPFlow,
  type RunTag,
  type TCPFlow,
} from '@mitmts/sdk';

/**
 * Tags the flows of a process started by `mitmts run` with its command line. The process sends
 * its tag as proxy credentials (`mitmts-run:<tag>`, see the SDK's `runTagCredentials`): on each
 * plain HTTP request, and on the CONNECT of each tunnel, whose flows carry no credentials of
 * their own, so the tag is remembered per client connection. The credentials are removed from
 * the request, so nothing forwards them. Other credentials are left alone (for proxyauth).
 */
@addon({ name: 'runtag', description: 'Tag flows of processes started by mitmts run with their command line.' })
export class RunTagger implements AddonHooks {
  /** Tags of the client connections that sent one on CONNECT, by client connection id. */
  private readonly tunnels = new Map<string, RunTag>();

  http_connect(flow: HTTPFlow): void {
    const tag = this.take(flow);
    if (tag) this.tunnels.set(flow.clientConn.id, tag);
  }

  requestheaders(flow: HTTPFlow): void {
    const tag = this.take(flow) ?? this.tunnels.get(flow.clientConn.id);
    if (tag) mark(flow, tag);
  }

  tcp_start(flow: TCPFlow): void {
    const tag = this.tunnels.get(flow.clientConn.id);
    if (tag) mark(flow, tag);
  }

  client_disconnected(client: Client): void {
    this.tunnels.delete(client.id);
  }

  /** The tag in this request's Proxy-Authorization (then removed and the flow marked), if any. */
  private take(flow: HTTPFlow): RunTag | null {
    const tag = parseRunTag(flow.request.headers.get('proxy-authorization'));
    if (tag === null) return null;
    flow.request.headers.delete('proxy-authorization');
    mark(flow, tag);
    return tag;
  }
}

function mark(flow: Flow, tag: RunTag): void {
  flow.metadata[RUN_METADATA.cmd] = tag.cmd;
  flow.metadata[RUN_METADATA.id] = tag.id;
}
