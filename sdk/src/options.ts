/**
 * Typed option values for `createProxy({ options })`. The kernel's and the proxy runtime's
 * options are listed here (a test checks the list against the registry, so it cannot drift);
 * an addon package may declare its own by augmenting {@link AddonOptionValues}:
 *
 * ```ts
 * declare module '@mitmts/sdk' {
 *   interface AddonOptionValues { anticache?: boolean }
 * }
 * ```
 *
 * Other names are accepted as `unknown` and checked when the proxy starts.
 */
export interface CoreOptionValues {
  /** Add all certificates of the upstream server to the certificate chain that will be served to the proxy client, as extras. */
  readonly add_upstream_certs_to_client_chain?: boolean;
  /** Opposite of --ignore-hosts. */
  readonly allow_hosts?: readonly string[];
  /** Byte size limit of HTTP request and response bodies. */
  readonly body_size_limit?: string | null;
  /** Passphrase for decrypting the private key provided in the --cert option. */
  readonly cert_passphrase?: string | null;
  /** SSL certificates of the form "[domain=]path". */
  readonly certs?: readonly string[];
  /** Set supported ciphers for client <-> mitmts connections using OpenSSL syntax. */
  readonly ciphers_client?: string | null;
  /** Set supported ciphers for mitmts <-> server connections using OpenSSL syntax. */
  readonly ciphers_server?: string | null;
  /** Client certificate file or directory. */
  readonly client_certs?: string | null;
  /** Location of the default mitmproxy configuration files. */
  readonly confdir?: string;
  /** Set the local IP address that mitmts should use when connecting to upstream servers. */
  readonly connect_addr?: string | null;
  /** Determine when server connections should be established. */
  readonly connection_strategy?: 'eager' | 'lazy';
  /** Flow content view lines limit. */
  readonly content_view_lines_cutoff?: number;
  /** Report an addon hook that blocks the event loop (synchronous code that does not return) for this many seconds, naming the addon and the hook, and let SIGTERM/SIGINT end mitmts while it is blocked. */
  readonly hook_watchdog?: number;
  /** Enable/disable HTTP/2 support. */
  readonly http2?: boolean;
  /** Send a PING frame if an HTTP/2 connection is idle for more than the specified number of seconds to prevent the remote site from closing it. */
  readonly http2_ping_keepalive?: number;
  /** Enable/disable support for QUIC and HTTP/3 (mitmproxy enables it by default). */
  readonly http3?: boolean;
  /** Include host header with CONNECT requests. */
  readonly http_connect_send_host_header?: boolean;
  /** Ignore host and forward all traffic without processing it. */
  readonly ignore_hosts?: readonly string[];
  /** Forward hop-by-hop headers (Connection and the fields it names, Keep-Alive, TE other than trailers, Proxy-Connection, Upgrade outside an upgrade, a client's Proxy-Authorization) as mitmproxy does. */
  readonly keep_hop_by_hop_headers?: boolean;
  /** Reverse Proxy: Keep the original host header instead of rewriting it to the reverse proxy target. */
  readonly keep_host_header?: boolean;
  /** TLS key size for certificates and CA. */
  readonly key_size?: number;
  /** Key pair of the certificates mitmts generates for intercepted hosts (always signed by the CA): one ECDSA P-256 key shared by all of them (fast handshakes), or the CA's own key pair as mitmproxy does (for clients without ECDSA support). */
  readonly leaf_key?: 'ecdsa' | 'ca';
  /** Address to bind proxy server(s) to (may be overridden for individual modes, see `mode`). */
  readonly listen_host?: string;
  /** Port to bind proxy server(s) to (may be overridden for individual modes, see `mode`). */
  readonly listen_port?: number | null;
  /** Responses matching this filter go to the client chunk by chunk as they arrive (each Server-Sent Event as it is sent) and are still recorded whole; the response_chunk and sse_event hooks see them as they pass, response fires at the end. */
  readonly live_bodies?: string;
  /** How much of a live body (live_bodies) a flow keeps in memory: past it the rest still goes to the client and through the response_chunk and sse_event hooks, but the flow keeps only the first bytes, its metadata says how many were left out (live_body_omitted: kept and omitted bytes), and a warning names this option. */
  readonly live_bodies_keep_size?: string | null;
  /** Largest HTTP request or response body held in memory for the hooks when neither stream_large_bodies nor body_size_limit is set: a larger body is streamed (the flow keeps no copy of it: its stream is true and its content missing) and a warning names this option. */
  readonly max_buffered_body?: string | null;
  /** The proxy server type(s) to spawn. */
  readonly mode?: readonly string[];
  /** Normalize outgoing HTTP/2 header names, but emit a warning when doing so. */
  readonly normalize_outbound_headers?: boolean;
  /** Path to a .proto file that is used to resolve Protobuf field names when pretty printing. */
  readonly protobuf_definitions?: string | null;
  /** Enable debug logs in the proxy core. */
  readonly proxy_debug?: boolean;
  /** Enable/disable raw TCP connections. */
  readonly rawtcp?: boolean;
  /** Requests a client certificate (TLS message 'CertificateRequest') to establish a mutual TLS connection between client and mitmts (combined with 'client_certs' option for mitmts and upstream). */
  readonly request_client_cert?: boolean;
  /** Close a client connection whose request head (request line and headers) is not complete this many seconds after its first byte, or after the connection opened for its first request; a partial head gets a 408 response. */
  readonly request_head_timeout?: number;
  /** Start a proxy server. */
  readonly server?: boolean;
  /** Record ignored flows in the UI even if we do not perform TLS interception. */
  readonly show_ignored_hosts?: boolean;
  /** Use the Host header to construct URLs for display. */
  readonly showhost?: boolean;
  /** Do not verify upstream server SSL/TLS certificates. */
  readonly ssl_insecure?: boolean;
  /** Path to a PEM formatted trusted CA certificate. */
  readonly ssl_verify_upstream_trusted_ca?: string | null;
  /** Path to a directory of trusted CA certificates for upstream server verification prepared using the c_rehash tool. */
  readonly ssl_verify_upstream_trusted_confdir?: string | null;
  /** Store HTTP request and response bodies when streamed (see `stream_large_bodies`). */
  readonly store_streamed_bodies?: boolean;
  /** Stream data to the client if request or response body exceeds the given threshold (by its Content-Length, or once a body of unknown length has grown past it). */
  readonly stream_large_bodies?: string | null;
  /** Generic TCP SSL proxy mode for all hosts that match the pattern. */
  readonly tcp_hosts?: readonly string[];
  /** Close a TCP connection if no data has been received for this many seconds. */
  readonly tcp_timeout?: number;
  /** Log verbosity. */
  readonly termlog_verbosity?: 'error' | 'warn' | 'info' | 'alert' | 'debug';
  /** Use a specific elliptic curve for ECDHE key exchange on client connections. */
  readonly tls_ecdh_curve_client?: string | null;
  /** Use a specific elliptic curve for ECDHE key exchange on server connections. */
  readonly tls_ecdh_curve_server?: string | null;
  /** Set the maximum TLS version for client connections. */
  readonly tls_version_client_max?: 'UNBOUNDED' | 'SSL3' | 'TLS1' | 'TLS1_1' | 'TLS1_2' | 'TLS1_3';
  /** Set the minimum TLS version for client connections. */
  readonly tls_version_client_min?: 'UNBOUNDED' | 'SSL3' | 'TLS1' | 'TLS1_1' | 'TLS1_2' | 'TLS1_3';
  /** Set the maximum TLS version for server connections. */
  readonly tls_version_server_max?: 'UNBOUNDED' | 'SSL3' | 'TLS1' | 'TLS1_1' | 'TLS1_2' | 'TLS1_3';
  /** Set the minimum TLS version for server connections. */
  readonly tls_version_server_min?: 'UNBOUNDED' | 'SSL3' | 'TLS1' | 'TLS1_1' | 'TLS1_2' | 'TLS1_3';
  /** Generic UDP SSL proxy mode for all hosts that match the pattern. */
  readonly udp_hosts?: readonly string[];
  /** Connect to upstream server to look up certificate details. */
  readonly upstream_cert?: boolean;
  /** Make sure that incoming HTTP requests are not malformed. */
  readonly validate_inbound_headers?: boolean;
  /** Enable/disable WebSocket support. */
  readonly websocket?: boolean;
  /** mitmts addition (mitmproxy has no limit): the largest WebSocket message mitmts relays, counted after permessage-deflate decompression, and the most bytes one message may hold in memory. */
  readonly websocket_max_message_size?: string;
  /** mitmts addition: how many of the newest WebSocket messages each flow keeps in flow.websocket.messages (at least this many; the oldest are cut in batches, so up to an eighth more, at least 64 more, may be held between cuts). */
  readonly websocket_messages_keep?: number;
  /** mitmts addition: like websocket_messages_keep, but bounds the total content size of the messages each flow keeps (the newest message is always kept). */
  readonly websocket_messages_keep_size?: string | null;
}

/** Options of addon packages, declared by augmentation (see {@link CoreOptionValues}). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AddonOptionValues {}

/** What `createProxy({ options })` takes. */
export type ProxyOptions = CoreOptionValues & AddonOptionValues & Readonly<Record<string, unknown>>;
