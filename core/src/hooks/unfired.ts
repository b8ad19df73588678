import type { HookName } from './hookmap.js';

/**
 * The hooks this build never fires, and why. The one list: whoever wires a hook into the
 * runtime removes its line in the same change (HTTP/2, WebSocket, the proxy modes, DNS, UDP and
 * QUIC are being built). A script that handles one of these gets a warning when it loads, and
 * docs/hooks.md marks them (a test keeps the two in step).
 */
export const UNFIRED_HOOKS: ReadonlyMap<HookName, string> = new Map<HookName, string>([
  ['http_connect_upstream', 'upstream proxy mode is not built yet'],
  ['socks5_auth', 'SOCKS5 mode is not built yet'],
  ['websocket_start', 'WebSocket connections are relayed untouched: the WebSocket layer is not wired in yet'],
  ['websocket_message', 'WebSocket connections are relayed untouched: the WebSocket layer is not wired in yet'],
  ['websocket_end', 'WebSocket connections are relayed untouched: the WebSocket layer is not wired in yet'],
  ['udp_start', 'UDP is not built yet'],
  ['udp_message', 'UDP is not built yet'],
  ['udp_end', 'UDP is not built yet'],
  ['udp_error', 'UDP is not built yet'],
  ['dns_request', 'DNS mode is not built yet'],
  ['dns_response', 'DNS mode is not built yet'],
  ['dns_error', 'DNS mode is not built yet'],
  ['quic_start_client', 'QUIC and HTTP/3 are not built yet'],
  ['quic_start_server', 'QUIC and HTTP/3 are not built yet'],
]);
