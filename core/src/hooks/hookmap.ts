import type { DNSFlow, Flow, HTTPFlow, TCPFlow, UDPFlow, Client } from '../flow/index.js';
import type { SseEvent } from '../io/sse.js';
import type {
  ClientHelloData,
  Loader,
  LogEntry,
  NextLayer,
  QuicTlsData,
  ServerConnectionHookData,
  Socks5AuthData,
  TlsData,
} from './data.js';

/**
 * Every hook mitmproxy has, with its arguments, and mitmts's own (`response_chunk`,
 * `sse_event`): the one list. `@hook('response')` on a method
 * whose parameters do not fit `HookMap['response']` does not compile. Hooks the runtime does not
 * fire yet are listed too, so addons can be written against them today.
 */
export interface HookMap {
  // Lifecycle
  /** Once, when the addon is added: declare options and commands. */
  load: [loader: Loader];
  /** After load with every option name, then whenever options change (the changed names). */
  configure: [updated: ReadonlySet<string>];
  /** Once the proxy is up and every addon is loaded (again for a reloaded script). */
  running: [];
  /** On shutdown, or when the addon is removed or reloaded. */
  done: [];
  /** After flow hooks and commands that modified flows. */
  update: [flows: readonly Flow[]];
  /** Every log record (deprecated in mitmproxy; use it to collect logs). */
  add_log: [entry: LogEntry];

  // Connections
  client_connected: [client: Client];
  client_disconnected: [client: Client];
  server_connect: [data: ServerConnectionHookData];
  server_connected: [data: ServerConnectionHookData];
  server_disconnected: [data: ServerConnectionHookData];
  server_connect_error: [data: ServerConnectionHookData];
  next_layer: [data: NextLayer];
  socks5_auth: [data: Socks5AuthData];

  // TLS
  tls_clienthello: [data: ClientHelloData];
  tls_start_client: [data: TlsData];
  tls_start_server: [data: TlsData];
  tls_established_client: [data: TlsData];
  tls_established_server: [data: TlsData];
  tls_failed_client: [data: TlsData];
  tls_failed_server: [data: TlsData];

  // HTTP
  requestheaders: [flow: HTTPFlow];
  request: [flow: HTTPFlow];
  responseheaders: [flow: HTTPFlow];
  response: [flow: HTTPFlow];
  error: [flow: HTTPFlow];
  http_connect: [flow: HTTPFlow];
  http_connect_upstream: [flow: HTTPFlow];
  http_connected: [flow: HTTPFlow];
  http_connect_error: [flow: HTTPFlow];
  /**
   * mitmts: each chunk of a live response body (`live_bodies`) as it goes to the client (as sent:
   * still content-encoded), before `response`. To change the bytes, use a stream function.
   */
  response_chunk: [flow: HTTPFlow, chunk: Buffer];
  /** mitmts: each Server-Sent Event of a live `text/event-stream` response as it passes (decoded). */
  sse_event: [flow: HTTPFlow, event: SseEvent];

  // WebSocket
  websocket_start: [flow: HTTPFlow];
  websocket_message: [flow: HTTPFlow];
  websocket_end: [flow: HTTPFlow];

  // TCP
  tcp_start: [flow: TCPFlow];
  tcp_message: [flow: TCPFlow];
  tcp_end: [flow: TCPFlow];
  tcp_error: [flow: TCPFlow];

  // UDP
  udp_start: [flow: UDPFlow];
  udp_message: [flow: UDPFlow];
  udp_end: [flow: UDPFlow];
  udp_error: [flow: UDPFlow];

  // DNS
  dns_request: [flow: DNSFlow];
  dns_response: [flow: DNSFlow];
  dns_error: [flow: DNSFlow];

  // QUIC
  quic_start_client: [data: QuicTlsData];
  quic_start_server: [data: QuicTlsData];
}

export type HookName = keyof HookMap;

/** What a hook handler may return: nothing, or a promise the proxy awaits before going on. */
export type HookResult = void | Promise<void>;

/** The handler type of one hook. */
export type HookHandler<K extends HookName> = (...args: HookMap[K]) => HookResult;

/**
 * Implement this (`class X implements AddonHooks`) to get hook methods named like the hook
 * type-checked without decorators, mitmproxy style.
 */
export type AddonHooks = { [K in HookName]?: HookHandler<K> };

/** Runtime list of every hook name, in HookMap order. */
export const HOOK_NAMES = [
  'load',
  'configure',
  'running',
  'done',
  'update',
  'add_log',
  'client_connected',
  'client_disconnected',
  'server_connect',
  'server_connected',
  'server_disconnected',
  'server_connect_error',
  'next_layer',
  'socks5_auth',
  'tls_clienthello',
  'tls_start_client',
  'tls_start_server',
  'tls_established_client',
  'tls_established_server',
  'tls_failed_client',
  'tls_failed_server',
  'requestheaders',
  'request',
  'responseheaders',
  'response',
  'error',
  'http_connect',
  'http_connect_upstream',
  'http_connected',
  'http_connect_error',
  'response_chunk',
  'sse_event',
  'websocket_start',
  'websocket_message',
  'websocket_end',
  'tcp_start',
  'tcp_message',
  'tcp_end',
  'tcp_error',
  'udp_start',
  'udp_message',
  'udp_end',
  'udp_error',
  'dns_request',
  'dns_response',
  'dns_error',
  'quic_start_client',
  'quic_start_server',
] as const satisfies readonly HookName[];

// Compile-time proof that HOOK_NAMES lists every key of HookMap.
type Missing = Exclude<HookName, (typeof HOOK_NAMES)[number]>;
const _complete: Missing extends never ? true : Missing = true;
void _complete;

const HOOK_SET: ReadonlySet<string> = new Set(HOOK_NAMES);
export function isHookName(name: string): name is HookName {
  return HOOK_SET.has(name);
}
