/**
 * mitmdump's command-line flags, as data: each maps to an option (flags map to options, not to
 * code, so a flag works even before the addon that owns its option is loaded).
 */
export type FlagKind =
  /** `--x` sets true, `--no-x` sets false */
  | 'bool'
  /** takes one string value */
  | 'str'
  /** takes one integer value */
  | 'int'
  /** repeatable; each use appends one value */
  | 'append';

export interface FlagSpec {
  /** Long form without dashes, e.g. `listen-port`. */
  readonly long: string;
  readonly short?: string;
  readonly option: string;
  readonly kind: FlagKind;
  /** For bool flags: which form the short letter stands for (mitmdump's `-n` is `--no-server`). */
  readonly shortValue?: boolean;
  readonly metavar?: string;
  readonly help: string;
  readonly choices?: readonly string[];
  /** The `--help` section (flags generated from an addon's options: that addon). */
  readonly group?: string;
}

export const FLAGS: readonly FlagSpec[] = [
  {
    long: 'mode',
    short: 'm',
    option: 'mode',
    kind: 'append',
    metavar: 'MODE',
    help: 'The proxy server type(s) to spawn (repeatable): regular, transparent, socks5, reverse:SPEC, upstream:SPEC, dns. Listen address per mode: MODE@[HOST:]PORT.',
  },
  {
    long: 'listen-host',
    option: 'listen_host',
    kind: 'str',
    metavar: 'HOST',
    help: 'Address to bind proxy server(s) to (default 127.0.0.1; 0.0.0.0 or :: for every interface).',
  },
  {
    long: 'listen-port',
    short: 'p',
    option: 'listen_port',
    kind: 'int',
    metavar: 'PORT',
    help: 'Port to bind proxy server(s) to (default 8080 for regular mode).',
  },
  {
    long: 'server',
    short: 'n',
    shortValue: false,
    option: 'server',
    kind: 'bool',
    help: 'Start a proxy server (-n / --no-server: do not).',
  },
  {
    long: 'scripts',
    short: 's',
    option: 'scripts',
    kind: 'append',
    metavar: 'SCRIPT',
    help: 'Execute a script (.ts, .mts, .js, .mjs); repeatable.',
  },
  {
    long: 'rfile',
    short: 'r',
    option: 'rfile',
    kind: 'str',
    metavar: 'PATH',
    help: 'Read flows from file ("-" for stdin).',
  },
  {
    long: 'save-stream-file',
    short: 'w',
    option: 'save_stream_file',
    kind: 'str',
    metavar: 'PATH',
    help: 'Stream flows to file as they arrive. Prefix path with + to append.',
  },
  { long: 'flow-detail', option: 'flow_detail', kind: 'int', metavar: 'LEVEL', help: 'Flow detail display level 0-4.' },
  {
    long: 'ssl-insecure',
    short: 'k',
    shortValue: true,
    option: 'ssl_insecure',
    kind: 'bool',
    help: 'Do not verify upstream server SSL/TLS certificates.',
  },
  {
    long: 'confdir',
    option: 'confdir',
    kind: 'str',
    metavar: 'DIR',
    help: 'Location of the configuration files (default ~/.mitmproxy).',
  },
  {
    long: 'anticache',
    option: 'anticache',
    kind: 'bool',
    help: 'Strip out request headers that might cause the server to return 304-not-modified.',
  },
  {
    long: 'anticomp',
    option: 'anticomp',
    kind: 'bool',
    help: 'Try to convince servers to send us un-compressed data.',
  },
  { long: 'showhost', option: 'showhost', kind: 'bool', help: 'Use the Host header to construct URLs for display.' },
  {
    long: 'show-ignored-hosts',
    option: 'show_ignored_hosts',
    kind: 'bool',
    help: 'Record ignored flows in the UI even without TLS interception.',
  },
  {
    long: 'stickycookie',
    option: 'stickycookie',
    kind: 'str',
    metavar: 'FILTER',
    help: 'Set sticky cookie filter. Matched against requests.',
  },
  {
    long: 'stickyauth',
    option: 'stickyauth',
    kind: 'str',
    metavar: 'FILTER',
    help: 'Set sticky auth filter. Matched against requests.',
  },
  {
    long: 'map-local',
    option: 'map_local',
    kind: 'append',
    metavar: 'PATTERN',
    help: 'Map remote resources to a local file: "[/flow-filter]/url-regex/file-or-directory-path".',
  },
  {
    long: 'map-remote',
    short: 'M',
    option: 'map_remote',
    kind: 'append',
    metavar: 'PATTERN',
    help: 'Map remote resources to another remote URL: "[/flow-filter]/url-regex/replacement".',
  },
  {
    long: 'modify-body',
    short: 'B',
    option: 'modify_body',
    kind: 'append',
    metavar: 'PATTERN',
    help: 'Replacement pattern: "[/flow-filter]/regex/[@]replacement".',
  },
  {
    long: 'modify-headers',
    short: 'H',
    option: 'modify_headers',
    kind: 'append',
    metavar: 'PATTERN',
    help: 'Header modify pattern: "[/flow-filter]/name/[@]value".',
  },
  {
    long: 'client-replay',
    short: 'C',
    option: 'client_replay',
    kind: 'append',
    metavar: 'PATH',
    help: 'Replay client requests from a saved file.',
  },
  {
    long: 'server-replay',
    short: 'S',
    option: 'server_replay',
    kind: 'append',
    metavar: 'PATH',
    help: 'Replay server responses from a saved file.',
  },
  {
    long: 'server-replay-kill-extra',
    option: 'server_replay_kill_extra',
    kind: 'bool',
    help: 'Kill extra requests during replay (deprecated: --server-replay-extra=kill).',
  },
  {
    long: 'server-replay-extra',
    option: 'server_replay_extra',
    kind: 'str',
    metavar: 'ACTION',
    choices: ['forward', 'kill', '204', '400', '404', '500'],
    help: 'Behaviour for extra requests during replay.',
  },
  {
    long: 'server-replay-reuse',
    option: 'server_replay_reuse',
    kind: 'bool',
    help: 'Do not consume recorded responses after use.',
  },
  {
    long: 'server-replay-refresh',
    option: 'server_replay_refresh',
    kind: 'bool',
    help: 'Adjust replayed response dates and cookie expiry to now.',
  },
  {
    long: 'ignore-hosts',
    option: 'ignore_hosts',
    kind: 'append',
    metavar: 'HOST',
    help: 'Ignore host and forward all traffic without processing it (regex).',
  },
  { long: 'allow-hosts', option: 'allow_hosts', kind: 'append', metavar: 'HOST', help: 'Opposite of --ignore-hosts.' },
  {
    long: 'tcp-hosts',
    option: 'tcp_hosts',
    kind: 'append',
    metavar: 'HOST',
    help: 'Generic TCP SSL proxy mode for all hosts that match the pattern.',
  },
  {
    long: 'upstream-auth',
    option: 'upstream_auth',
    kind: 'str',
    metavar: 'USER:PASS',
    help: 'Add HTTP Basic authentication to upstream proxy and reverse proxy requests.',
  },
  {
    long: 'proxyauth',
    option: 'proxyauth',
    kind: 'str',
    metavar: 'SPEC',
    help: 'Require proxy authentication: "user:pass", "any", "@path" (htpasswd) or "ldap[s]:...".',
  },
  {
    long: 'store-streamed-bodies',
    option: 'store_streamed_bodies',
    kind: 'bool',
    help: 'Store HTTP request and response bodies when streamed.',
  },
  { long: 'rawtcp', option: 'rawtcp', kind: 'bool', help: 'Enable/disable raw TCP connections.' },
  { long: 'http2', option: 'http2', kind: 'bool', help: 'Enable/disable HTTP/2 support.' },
  {
    long: 'certs',
    option: 'certs',
    kind: 'append',
    metavar: 'SPEC',
    help: 'SSL certificates of the form "[domain=]path".',
  },
  {
    long: 'cert-passphrase',
    option: 'cert_passphrase',
    kind: 'str',
    metavar: 'PASS',
    help: 'Passphrase for decrypting the private key provided in --certs.',
  },
];
