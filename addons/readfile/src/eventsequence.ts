/**
 * The hooks a saved flow goes through when it is loaded into the addon chain (mitmproxy's
 * `eventsequence.iterate`), so that addons see a read flow as if it happened live:
 *
 * - HTTP: `requestheaders`, `request`, then with a response `responseheaders`, `response`;
 *   then with WebSocket data `websocket_start`, one `websocket_message` per message (messages
 *   are re-appended one by one, so `messages.at(-1)` is the current one), `websocket_end`;
 *   else with an error `error`.
 * - TCP/UDP: `*_start`, one `*_message` per message (re-appended), then `*_error` or `*_end`.
 * - DNS: `dns_request`, `dns_response` (with a response), `dns_error` (with an error).
 */
import type { DNSFlow, Flow, HookName, HTTPFlow, TCPFlow, UDPFlow } from '@mitmts/sdk';

/** One step: a hook to fire with the flow (state already adjusted for it). */
export type FlowEvent = readonly [hook: HookName, flow: Flow];

export function* eventSequence(flow: Flow): Generator<FlowEvent> {
  switch (flow.type) {
    case 'http':
      return yield* httpEvents(flow as HTTPFlow);
    case 'tcp':
      return yield* streamEvents(flow as TCPFlow, 'tcp');
    case 'udp':
      return yield* streamEvents(flow as UDPFlow, 'udp');
    case 'dns':
      return yield* dnsEvents(flow as DNSFlow);
  }
}

function* httpEvents(f: HTTPFlow): Generator<FlowEvent> {
  if (f.request) {
    yield ['requestheaders', f];
    yield ['request', f];
  }
  if (f.response) {
    yield ['responseheaders', f];
    yield ['response', f];
  }
  if (f.websocket) {
    const ws = f.websocket;
    const queue = ws.messages;
    ws.messages = [];
    yield ['websocket_start', f];
    for (const m of queue) {
      ws.messages.push(m);
      yield ['websocket_message', f];
    }
    yield ['websocket_end', f];
  } else if (f.error) {
    yield ['error', f];
  }
}

function* streamEvents(f: TCPFlow | UDPFlow, kind: 'tcp' | 'udp'): Generator<FlowEvent> {
  const queue = f.messages;
  f.messages = [];
  yield [`${kind}_start`, f];
  for (const m of queue) {
    (f.messages as unknown[]).push(m);
    yield [`${kind}_message`, f];
  }
  yield [f.error ? `${kind}_error` : `${kind}_end`, f];
}

function* dnsEvents(f: DNSFlow): Generator<FlowEvent> {
  yield ['dns_request', f];
  if (f.response) yield ['dns_response', f];
  if (f.error) yield ['dns_error', f];
}
