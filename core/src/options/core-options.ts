import type { OptionSpec } from './types.js';

/**
 * The kernel's own options: mitmproxy's core options (mitmproxy/options.py) plus the terminal
 * log's verbosity. Everything feature-specific is declared by the addon that owns it.
 */
export const CORE_OPTIONS: readonly OptionSpec[] = [
  { name: 'server', type: 'bool', default: true, help: 'Start a proxy server. Enabled by default.' },
  { name: 'showhost', type: 'bool', default: false, help: 'Use the Host header to construct URLs for display.' },
  { name: 'show_ignored_hosts', type: 'bool', default: false, help: 'Record ignored flows in the UI even if we do not perform TLS interception.', unimplemented: 'recording ignored connections is not implemented' },
  { name: 'add_upstream_certs_to_client_chain', type: 'bool', default: false, help: 'Add all certificates of the upstream server to the certificate chain that will be served to the proxy client, as extras.', unimplemented: 'serving the upstream certificates to the client is not implemented' },
  { name: 'confdir', type: 'str', default: '~/.mitmproxy', help: 'Location of the default mitmproxy configuration files.' },
  { name: 'certs', type: 'str[]', default: [], help: 'SSL certificates of the form "[domain=]path". The domain may include a wildcard, and is equal to "*" if not specified. The file at path is a certificate in PEM format. If a private key is included in the PEM, it is used, else the default key in the conf dir is used. The PEM file should contain the full certificate chain, with the leaf certificate as the first entry.' },
  { name: 'cert_passphrase', type: 'str?', default: null, help: 'Passphrase for decrypting the private key provided in the --cert option.' },
  { name: 'client_certs', type: 'str?', default: null, help: 'Client certificate file or directory.' },
  { name: 'ignore_hosts', type: 'str[]', default: [], help: 'Ignore host and forward all traffic without processing it. In transparent mode, it is recommended to use an IP address (range), not the hostname. In regular mode, only SSL traffic is ignored and the hostname should be used. The supplied value is interpreted as a regular expression and matched on the ip or the hostname.' },
  { name: 'allow_hosts', type: 'str[]', default: [], help: 'Opposite of --ignore-hosts.' },
  { name: 'listen_host', type: 'str', default: '127.0.0.1', help: 'Address to bind proxy server(s) to (may be overridden for individual modes, see `mode`). mitmts listens on loopback (127.0.0.1) by default, unlike mitmproxy, which listens on every interface: set 0.0.0.0 (IPv4), :: (IPv4 and IPv6) or an empty string to accept clients from other machines, and consider proxyauth then.' },
  { name: 'listen_port', type: 'int?', default: null, min: 0, max: 65535, help: 'Port to bind proxy server(s) to (may be overridden for individual modes, see `mode`). By default, the port is mode-specific. The default regular HTTP proxy spawns on port 8080.' },
  { name: 'mode', type: 'str[]', default: ['regular'], help: 'The proxy server type(s) to spawn. Can be passed multiple times. Modes: regular, transparent (Linux), socks5, reverse:SPEC (http, https, tls, tcp, dns targets), upstream:SPEC (http, https proxies), dns. Listen address per mode: MODE@[HOST:]PORT. wireguard, local, tun and HTTP/3 modes are refused with what to use instead (see docs/modes.md).' },
  { name: 'upstream_cert', type: 'bool', default: true, help: 'Connect to upstream server to look up certificate details.' },
  { name: 'http2', type: 'bool', default: true, help: 'Enable/disable HTTP/2 support. HTTP/2 support is enabled by default.' },
  { name: 'http2_ping_keepalive', type: 'int', default: 58, min: 0, help: 'Send a PING frame if an HTTP/2 connection is idle for more than the specified number of seconds to prevent the remote site from closing it. Set to 0 to disable this feature.' },
  { name: 'http3', type: 'bool', default: false, help: 'Enable/disable support for QUIC and HTTP/3 (mitmproxy enables it by default).', unimplemented: 'QUIC and HTTP/3 are not implemented' },
  { name: 'http_connect_send_host_header', type: 'bool', default: true, help: 'Include host header with CONNECT requests. Enabled by default.' },
  { name: 'websocket', type: 'bool', default: true, help: 'Enable/disable WebSocket support. WebSocket support is enabled by default.' },
  { name: 'rawtcp', type: 'bool', default: true, help: 'Enable/disable raw TCP connections. TCP connections are enabled by default.' },
  { name: 'ssl_insecure', type: 'bool', default: false, help: 'Do not verify upstream server SSL/TLS certificates.' },
  { name: 'ssl_verify_upstream_trusted_confdir', type: 'str?', default: null, help: 'Path to a directory of trusted CA certificates for upstream server verification prepared using the c_rehash tool.' },
  { name: 'ssl_verify_upstream_trusted_ca', type: 'str?', default: null, help: 'Path to a PEM formatted trusted CA certificate.' },
  { name: 'tcp_hosts', type: 'str[]', default: [], help: 'Generic TCP SSL proxy mode for all hosts that match the pattern. Similar to --ignore-hosts, but SSL connections are intercepted. The communication contents are printed to the log in verbose mode.' },
  { name: 'udp_hosts', type: 'str[]', default: [], help: 'Generic UDP SSL proxy mode for all hosts that match the pattern. Similar to --ignore-hosts, but SSL connections are intercepted. The communication contents are printed to the log in verbose mode.', unimplemented: 'UDP proxying is not implemented' },
  { name: 'content_view_lines_cutoff', type: 'int', default: 512, min: 0, help: 'Flow content view lines limit. Limit is enabled by default to speedup flows browsing.' },
  { name: 'key_size', type: 'int', default: 2048, help: 'TLS key size for certificates and CA.' },
  { name: 'protobuf_definitions', type: 'str?', default: null, help: 'Path to a .proto file that is used to resolve Protobuf field names when pretty printing.', unimplemented: 'the Protobuf content view is not implemented' },
  { name: 'tcp_timeout', type: 'int', default: 600, min: 0, help: 'Close a TCP connection if no data has been received for this many seconds. Use 0 to disable.' },
  { name: 'hook_watchdog', type: 'int', default: 5, min: 0, help: 'Report an addon hook that blocks the event loop (synchronous code that does not return) for this many seconds, naming the addon and the hook, and let SIGTERM/SIGINT end mitmts while it is blocked. 0 turns the watchdog off. Its worker thread (about 10 MiB) starts only once a script or an addon outside the default build is loaded, or once the event loop was blocked for a second (that first block is reported afterwards). Not in mitmproxy.' },
  { name: 'termlog_verbosity', type: 'str', default: 'info', choices: ['error', 'warn', 'info', 'alert', 'debug'], help: 'Log verbosity.' },
];
