/**
 * The hooks that feed the web view, as a child addon the web addon adds while its server runs
 * (and removes when it stops): with the web UI off, no hook of it is in the chain at all.
 * Like mitmweb's master, every flow hook reports the flow as changed; `update` covers changes
 * made by commands and other addons.
 */
import type { DNSFlow, Flow, HTTPFlow, TCPFlow, UDPFlow } from '@mitmts/sdk';

export class WebLive {
  readonly name = 'web.live';

  constructor(private readonly touched: (flow: Flow) => void) {}

  requestheaders(f: HTTPFlow): void {
    this.touched(f);
  }
  request(f: HTTPFlow): void {
    this.touched(f);
  }
  responseheaders(f: HTTPFlow): void {
    this.touched(f);
  }
  response(f: HTTPFlow): void {
    this.touched(f);
  }
  error(f: HTTPFlow): void {
    this.touched(f);
  }
  websocket_start(f: HTTPFlow): void {
    this.touched(f);
  }
  websocket_message(f: HTTPFlow): void {
    this.touched(f);
  }
  websocket_end(f: HTTPFlow): void {
    this.touched(f);
  }
  tcp_start(f: TCPFlow): void {
    this.touched(f);
  }
  tcp_message(f: TCPFlow): void {
    this.touched(f);
  }
  tcp_end(f: TCPFlow): void {
    this.touched(f);
  }
  tcp_error(f: TCPFlow): void {
    this.touched(f);
  }
  udp_start(f: UDPFlow): void {
    this.touched(f);
  }
  udp_message(f: UDPFlow): void {
    this.touched(f);
  }
  udp_end(f: UDPFlow): void {
    this.touched(f);
  }
  udp_error(f: UDPFlow): void {
    this.touched(f);
  }
  dns_request(f: DNSFlow): void {
    this.touched(f);
  }
  dns_response(f: DNSFlow): void {
    this.touched(f);
  }
  dns_error(f: DNSFlow): void {
    this.touched(f);
  }
  update(flows: readonly Flow[]): void {
    for (const f of flows) this.touched(f);
  }
}
