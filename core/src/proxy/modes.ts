import { isIP } from 'node:net';
import { OptionsError } from '../kernel/errors.js';

/** A proxy mode, parsed from `MODE[:DATA][@[HOST:]PORT]` (see certs-and-modes.md). */
export interface ProxyMode {
  /** The spec as given (flows store it as `client_conn.proxy_mode`). */
  readonly fullSpec: string;
  readonly type: ModeType;
  /** The data after `:`, e.g. the server spec of `reverse:` and `upstream:`. */
  readonly data: string;
  /** Listen host from `@HOST:PORT`, or null for the `listen_host` option. */
  readonly customListenHost: string | null;
  /** Listen port from `@PORT`, or null for the `listen_port` option / the mode's default. */
  readonly customListenPort: number | null;
  readonly defaultPort: number | null;
  readonly transport: 'tcp' | 'udp' | 'both' | 'none';
  /** For `reverse:` and `upstream:`: the parsed server spec. */
  readonly server?: ServerSpec;
}

export type ModeType =
  'regular' | 'transparent' | 'socks5' | 'upstream' | 'reverse' | 'wireguard' | 'local' | 'tun' | 'dns';

export interface ServerSpec {
  readonly scheme: string;
  readonly host: string;
  readonly port: number;
}

const NO_DATA: ReadonlySet<ModeType> = new Set(['regular', 'transparent', 'socks5', 'dns']);
const DEFAULT_PORTS: Record<ModeType, number | null> = {
  regular: 8080,
  transparent: 8080,
  socks5: 1080,
  upstream: 8080,
  reverse: 8080,
  wireguard: 51820,
  local: null,
  tun: null,
  dns: 53,
};
const SCHEME_PORTS: Record<string, number> = { http: 80, https: 443, quic: 443, http3: 443, dns: 53 };

/** Parse one `mode` option entry; errors are mitmproxy's wording with the spec. */
export function parseMode(spec: string): ProxyMode {
  const fail = (why: string): never => {
    throw new OptionsError(`Invalid proxy mode specification: ${spec} (${why})`, 'MITMTS_ERR_OPTION_INVALID');
  };
  let head = spec;
  let listen: string | null = null;
  const at = spec.lastIndexOf('@');
  if (at > 0) {
    head = spec.slice(0, at);
    listen = spec.slice(at + 1);
  }
  const colon = head.indexOf(':');
  const name = (colon < 0 ? head : head.slice(0, colon)).toLowerCase();
  const data = colon < 0 ? '' : head.slice(colon + 1);
  if (name === 'osproxy')
    fail('osproxy mode has been renamed to local mode. Thanks for trying our experimental features!');
  if (!(name in DEFAULT_PORTS)) fail(`unknown mode`);
  const type = name as ModeType;
  if (NO_DATA.has(type) && data) fail('mode takes no arguments');

  let customListenHost: string | null = null;
  let customListenPort: number | null = null;
  if (listen !== null) {
    const c = listen.lastIndexOf(':');
    const portText = c < 0 ? listen : listen.slice(c + 1);
    if (c >= 0) customListenHost = listen.slice(0, c).replace(/^\[(.*)\]$/, '$1');
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) fail(`invalid port: ${portText}`);
    customListenPort = Number(portText);
  }

  let server: ServerSpec | undefined;
  if (type === 'reverse' || type === 'upstream') {
    if (!data) fail(`${type} mode needs a server, e.g. ${type}:https://example.com`);
    try {
      server = parseServerSpec(
        data,
        type === 'upstream' ? 'http' : 'https',
        type === 'upstream'
          ? ['http', 'https']
          : ['http', 'https', 'http3', 'tls', 'dtls', 'tcp', 'udp', 'dns', 'quic'],
      );
    } catch (err) {
      fail((err as Error).message);
    }
  }
  const transport =
    type === 'local' || type === 'tun'
      ? 'both'
      : type === 'wireguard'
        ? 'udp'
        : type === 'dns'
          ? 'both'
          : type === 'reverse' && server
            ? ['http3', 'dtls', 'udp', 'quic'].includes(server.scheme)
              ? 'udp'
              : ['https', 'dns'].includes(server.scheme)
                ? 'both'
                : 'tcp'
            : 'tcp';
  const defaultPort = type === 'reverse' && server?.scheme === 'dns' ? 53 : DEFAULT_PORTS[type];
  return {
    fullSpec: spec,
    type,
    data,
    customListenHost,
    customListenPort,
    defaultPort,
    transport,
    ...(server ? { server } : {}),
  };
}

/** `[scheme://]host[:port][/]`, no path; IPv6 in brackets. */
export function parseServerSpec(spec: string, defaultScheme: string, schemes: readonly string[]): ServerSpec {
  let rest = spec;
  let scheme = defaultScheme;
  const m = /^([a-z0-9]+):\/\//i.exec(rest);
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = rest.slice(m[0].length);
  }
  if (!schemes.includes(scheme)) throw new Error(`Invalid scheme: ${scheme}`);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (rest.includes('/')) throw new Error(`Invalid server specification: ${spec} (no path allowed)`);
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else {
    const c = rest.lastIndexOf(':');
    host = c < 0 ? rest : rest.slice(0, c);
    portText = c < 0 ? undefined : rest.slice(c + 1);
  }
  if (
    !host ||
    (!isIP(host) && !/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/i.test(host))
  ) {
    throw new Error(`Invalid hostname: ${host}`);
  }
  let port: number;
  if (portText !== undefined) {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new Error(`Invalid port: ${portText}`);
    port = Number(portText);
  } else {
    const d = SCHEME_PORTS[scheme];
    if (d === undefined) throw new Error('Port specification missing.');
    port = d;
  }
  return { scheme, host, port };
}

/** Where a mode listens: spec host, else `listen_host`; spec port, else `listen_port`, else the default. */
export function listenAddress(
  mode: ProxyMode,
  listenHost: string,
  listenPort: number | null,
): { host: string; port: number | null } {
  return { host: mode.customListenHost ?? listenHost, port: mode.customListenPort ?? listenPort ?? mode.defaultPort };
}

/** Validate the `mode` option as a whole: every spec parses, no two servers share an address. */
export function parseModes(specs: readonly string[], listenHost: string, listenPort: number | null): ProxyMode[] {
  const modes = specs.map(parseMode);
  const seen = new Map<string, string>();
  for (const m of modes) {
    if (m.transport === 'none' || m.type === 'local' || m.type === 'tun') continue;
    const { host, port } = listenAddress(m, listenHost, listenPort);
    if (port === 0) continue; // any free port: never the same as another
    const protos = m.transport === 'both' ? ['tcp', 'udp'] : [m.transport];
    for (const p of protos) {
      const key = `${host}:${port}/${p}`;
      if (seen.has(key)) {
        throw new OptionsError(
          `Cannot spawn multiple servers on the same address: ${host}:${port}`,
          'MITMTS_ERR_OPTION_INVALID',
        );
      }
      seen.set(key, m.fullSpec);
    }
  }
  return modes;
}

/**
 * How a listener of this mode introduces itself in the log, as mitmproxy does: `HTTP(S) proxy`,
 * `SOCKS v5 proxy`, `Reverse proxy to https://example.com`, ...
 */
export function modeDescription(mode: ProxyMode): string {
  switch (mode.type) {
    case 'regular':
      return 'HTTP(S) proxy';
    case 'transparent':
      return 'Transparent proxy';
    case 'upstream':
      return 'HTTP(S) proxy (upstream mode)';
    case 'reverse':
      return `Reverse proxy to ${mode.data}`;
    case 'socks5':
      return 'SOCKS v5 proxy';
    case 'dns':
      return 'DNS server';
    case 'wireguard':
      return 'WireGuard server';
    case 'local':
      return 'Local redirector';
    case 'tun':
      return 'TUN interface';
  }
}
