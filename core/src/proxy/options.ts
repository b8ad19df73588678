import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { OptionSpec, OptionValue } from '../options/types.js';
import { LIVE_BODIES_DEFAULT } from './http/live.js';
import { parseSize } from './sizes.js';

const TLS_VERSIONS = ['UNBOUNDED', 'SSL3', 'TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3'];

/** OpenSSL's reason to refuse these secure-context settings, or undefined (~0.2 ms per call). */
function refusal(opts: SecureContextOptions): string | undefined {
  try {
    createSecureContext(opts);
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^error:[0-9A-F]+:[^:]*:+/i, '');
  }
}

/** `check` of the cipher options: a string OpenSSL takes at least one cipher from. */
function checkCiphers(value: OptionValue): string | undefined {
  if (typeof value !== 'string') return undefined;
  const why = refusal({ ciphers: value });
  return (
    why &&
    `OpenSSL rejects the cipher list ${JSON.stringify(value)} (${why}). Use OpenSSL names separated by ':' (see \`openssl ciphers -v\`), e.g. ECDHE-RSA-AES128-GCM-SHA256 or TLS_AES_128_GCM_SHA256.`
  );
}

/** `check` of the curve options: curve names OpenSSL knows. */
function checkCurve(value: OptionValue): string | undefined {
  if (typeof value !== 'string') return undefined;
  const why = refusal({ ecdhCurve: value });
  return (
    why &&
    `OpenSSL rejects the curve list ${JSON.stringify(value)} (${why}). Use names from \`openssl ecparam -list_curves\` separated by ':', e.g. prime256v1 or X25519.`
  );
}

/** `check` of one end of a TLS version range: the range must not be empty. */
function checkVersionRange(side: 'client' | 'server', end: 'min' | 'max') {
  return (value: OptionValue, get: (name: string) => OptionValue): string | undefined => {
    const min = String(end === 'min' ? value : get(`tls_version_${side}_min`));
    const max = String(end === 'max' ? value : get(`tls_version_${side}_max`));
    if (min === 'UNBOUNDED' || max === 'UNBOUNDED' || TLS_VERSIONS.indexOf(min) <= TLS_VERSIONS.indexOf(max))
      return undefined;
    return `tls_version_${side}_min ${min} is above tls_version_${side}_max ${max}, which leaves no TLS version to use. Raise the maximum or lower the minimum.`;
  };
}

/** `check` of a size option: a number of bytes with an optional k, m or g suffix (empty: none). */
function checkSize(name: string) {
  return (value: OptionValue): string | undefined => {
    if (typeof value !== 'string' || value === '') return undefined;
    try {
      parseSize(name, value);
      return undefined;
    } catch (e) {
      return (e as Error).message.replace(/^Option [a-z_]+: /, '');
    }
  };
}

/** Options of the proxy runtime (mitmproxy's proxyserver.py and tlsconfig.py). */
export const PROXY_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'store_streamed_bodies',
    type: 'bool',
    default: false,
    help: 'Store HTTP request and response bodies when streamed (see `stream_large_bodies`). This increases memory consumption, but makes it possible to inspect streamed bodies.',
  },
  {
    name: 'connection_strategy',
    type: 'str',
    default: 'eager',
    choices: ['eager', 'lazy'],
    help: 'Determine when server connections should be established. When set to lazy, mitmts tries to defer establishing an upstream connection as long as possible. This makes it possible to use server replay while being offline. When set to eager, mitmts can detect protocols with server-side greetings, as well as accurately mirror TLS ALPN negotiation.',
  },
  {
    name: 'stream_large_bodies',
    type: 'str?',
    default: null,
    help: 'Stream data to the client if request or response body exceeds the given threshold (by its Content-Length, or once a body of unknown length has grown past it). If streamed, the body will not be stored (unless store_streamed_bodies), and such responses cannot be modified. It does not make slow bodies live: an event stream smaller than the threshold is held until it ends; live_bodies does that. Understands k/m/g suffixes, i.e. 3m for 3 megabytes.',
  },
  {
    name: 'live_bodies',
    type: 'str',
    default: LIVE_BODIES_DEFAULT,
    help: 'Responses matching this filter go to the client chunk by chunk as they arrive (each Server-Sent Event as it is sent) and are still recorded whole; the response_chunk and sse_event hooks see them as they pass, response fires at the end. Default: event streams. Empty: none (mitmproxy holds every response until it ends).',
  },
  {
    name: 'body_size_limit',
    type: 'str?',
    default: null,
    help: 'Byte size limit of HTTP request and response bodies. Understands k/m/g suffixes, i.e. 3m for 3 megabytes.',
  },
  {
    name: 'live_bodies_keep_size',
    type: 'str?',
    default: '64m',
    check: checkSize('live_bodies_keep_size'),
    help: 'How much of a live body (live_bodies) a flow keeps in memory: past it the rest still goes to the client and through the response_chunk and sse_event hooks, but the flow keeps only the first bytes, its metadata says how many were left out (live_body_omitted: kept and omitted bytes), and a warning names this option. Understands k/m/g suffixes. Set it empty to keep every byte of a live body (a stream that runs for hours then grows without bound). Not in mitmproxy.',
  },
  {
    name: 'max_buffered_body',
    type: 'str?',
    default: '64m',
    check: checkSize('max_buffered_body'),
    help: 'Largest HTTP request or response body held in memory for the hooks when neither stream_large_bodies nor body_size_limit is set: a larger body is streamed (the flow keeps no copy of it: its stream is true and its content missing) and a warning names this option. Understands k/m/g suffixes. Set it empty (--set max_buffered_body=) to buffer every body, as mitmproxy does. Not in mitmproxy.',
  },
  {
    name: 'request_head_timeout',
    type: 'int',
    default: 30,
    min: 0,
    help: 'Close a client connection whose request head (request line and headers) is not complete this many seconds after its first byte, or after the connection opened for its first request; a partial head gets a 408 response. The TLS handshake of a client with the proxy must complete within it too. Guards against slowloris clients. 0 turns it off (mitmproxy has no such limit). Not in mitmproxy.',
  },
  {
    name: 'keep_hop_by_hop_headers',
    type: 'bool',
    default: false,
    help: "Forward hop-by-hop headers (Connection and the fields it names, Keep-Alive, TE other than trailers, Proxy-Connection, Upgrade outside an upgrade, a client's Proxy-Authorization) as mitmproxy does. By default they are removed when a message is forwarded, as RFC 9110 section 7.6.1 says. Not in mitmproxy.",
  },
  {
    name: 'keep_host_header',
    type: 'bool',
    default: false,
    help: 'Reverse Proxy: Keep the original host header instead of rewriting it to the reverse proxy target.',
  },
  { name: 'proxy_debug', type: 'bool', default: false, help: 'Enable debug logs in the proxy core.' },
  {
    name: 'normalize_outbound_headers',
    type: 'bool',
    default: true,
    help: 'Normalize outgoing HTTP/2 header names, but emit a warning when doing so. HTTP/2 does not allow uppercase header names. This option makes sure that HTTP/2 headers set in custom scripts are lowercased before they are sent.',
  },
  {
    name: 'validate_inbound_headers',
    type: 'bool',
    default: true,
    help: 'Make sure that incoming HTTP requests are not malformed. Disabling this option makes mitmts vulnerable to HTTP smuggling attacks.',
  },
  {
    name: 'connect_addr',
    type: 'str?',
    default: null,
    help: 'Set the local IP address that mitmts should use when connecting to upstream servers.',
  },
  {
    name: 'websocket_max_message_size',
    type: 'str',
    default: '16m',
    help: 'mitmts addition (mitmproxy has no limit): the largest WebSocket message mitmts relays, counted after permessage-deflate decompression, and the most bytes one message may hold in memory. A bigger message (or one of more than 65,536 frames) fails the connection: both peers get a close frame with code 1009 (Message Too Big), and the flow records it. Understands k/m/g suffixes, i.e. 16m for 16 megabytes. Has no effect when `websocket` is off.',
  },
  {
    name: 'websocket_messages_keep',
    type: 'int',
    default: 0,
    min: 0,
    help: 'mitmts addition: how many of the newest WebSocket messages each flow keeps in flow.websocket.messages (at least this many; the oldest are cut in batches, so up to an eighth more, at least 64 more, may be held between cuts). Every message still passes through and reaches the websocket_message hook; left-out ones are counted in the flow metadata (websocket_omitted: messages and bytes) and are missing from saved flows and HAR files. 0 keeps all messages, as mitmproxy does.',
  },
  {
    name: 'websocket_messages_keep_size',
    type: 'str?',
    default: null,
    help: 'mitmts addition: like websocket_messages_keep, but bounds the total content size of the messages each flow keeps (the newest message is always kept). Understands k/m/g suffixes. Unset keeps all messages, as mitmproxy does; with both options set, both bounds apply.',
  },
  {
    name: 'tls_version_client_min',
    type: 'str',
    default: 'TLS1_2',
    choices: TLS_VERSIONS,
    check: checkVersionRange('client', 'min'),
    help: 'Set the minimum TLS version for client connections. SSL3, TLS1 and TLS1_1 are insecure.',
  },
  {
    name: 'tls_version_client_max',
    type: 'str',
    default: 'UNBOUNDED',
    choices: TLS_VERSIONS,
    check: checkVersionRange('client', 'max'),
    help: 'Set the maximum TLS version for client connections.',
  },
  {
    name: 'tls_version_server_min',
    type: 'str',
    default: 'TLS1_2',
    choices: TLS_VERSIONS,
    check: checkVersionRange('server', 'min'),
    help: 'Set the minimum TLS version for server connections. SSL3, TLS1 and TLS1_1 are insecure.',
  },
  {
    name: 'tls_version_server_max',
    type: 'str',
    default: 'UNBOUNDED',
    choices: TLS_VERSIONS,
    check: checkVersionRange('server', 'max'),
    help: 'Set the maximum TLS version for server connections.',
  },
  {
    name: 'tls_ecdh_curve_client',
    type: 'str?',
    default: null,
    check: checkCurve,
    help: 'Use a specific elliptic curve for ECDHE key exchange on client connections. OpenSSL syntax, for example "prime256v1" (see `openssl ecparam -list_curves`).',
  },
  {
    name: 'tls_ecdh_curve_server',
    type: 'str?',
    default: null,
    check: checkCurve,
    help: 'Use a specific elliptic curve for ECDHE key exchange on server connections. OpenSSL syntax, for example "prime256v1" (see `openssl ecparam -list_curves`).',
  },
  {
    name: 'request_client_cert',
    type: 'bool',
    default: false,
    help: "Requests a client certificate (TLS message 'CertificateRequest') to establish a mutual TLS connection between client and mitmts (combined with 'client_certs' option for mitmts and upstream).",
  },
  {
    name: 'ciphers_client',
    type: 'str?',
    default: null,
    check: checkCiphers,
    help: 'Set supported ciphers for client <-> mitmts connections using OpenSSL syntax.',
  },
  {
    name: 'leaf_key',
    type: 'str',
    default: 'ecdsa',
    choices: ['ecdsa', 'ca'],
    help: "Key pair of the certificates mitmts generates for intercepted hosts (always signed by the CA): one ECDSA P-256 key shared by all of them (fast handshakes), or the CA's own key pair as mitmproxy does (for clients without ECDSA support).",
  },
  {
    name: 'ciphers_server',
    type: 'str?',
    default: null,
    check: checkCiphers,
    help: 'Set supported ciphers for mitmts <-> server connections using OpenSSL syntax.',
  },
];

/** Node's names for mitmproxy's TLS version choices (UNBOUNDED: no bound). */
export function nodeTlsVersion(v: string): import('node:tls').SecureVersion | undefined {
  switch (v) {
    case 'SSL3':
    case 'TLS1':
      return 'TLSv1';
    case 'TLS1_1':
      return 'TLSv1.1';
    case 'TLS1_2':
      return 'TLSv1.2';
    case 'TLS1_3':
      return 'TLSv1.3';
    default:
      return undefined;
  }
}
