import type { Client, Server } from '../flow/index.js';
import type { OptionSpec, OptionTypeName, OptionValue } from '../options/types.js';
import type { CommandSpec } from '../commands/types.js';

/** Log levels, most severe last; mitmproxy's five. */
export type LogLevel = 'debug' | 'info' | 'alert' | 'warn' | 'error';

/** One log record. */
export interface LogEntry {
  readonly level: LogLevel;
  readonly message: string;
  readonly timestamp: number;
  /** The addon that logged it, when known. */
  readonly addon?: string;
}

/** Handed to `load`: declare options and commands imperatively (mitmproxy's `loader`). */
export interface Loader {
  addOption<T extends OptionTypeName>(
    name: string,
    type: T,
    defaultValue: OptionValue<T>,
    help: string,
    choices?: readonly string[],
  ): void;
  /** Declare an option from a whole spec (bounds and checks included). */
  addOption<T extends OptionTypeName>(spec: OptionSpec<T>): void;
  addCommand(name: string, fn: (...args: never[]) => unknown, spec?: Omit<CommandSpec, 'name'>): void;
}

/** What a connection is about: its client, its server, the proxy mode it came through. */
export interface ConnectionContext {
  readonly client: Client;
  readonly server: Server;
  /** The mode spec the client connected through, e.g. `regular`. */
  readonly mode: string;
}

/** `server_connect`, `server_connected`, `server_disconnected`, `server_connect_error`. */
export interface ServerConnectionHookData {
  readonly server: Server;
  readonly client: Client;
}

/** Which protocol layer handles a connection next. */
export type LayerName = 'http' | 'tls' | 'tcp' | 'udp' | 'dns' | 'websocket' | 'passthrough';

/** `next_layer`: the runtime's default decision in `layer`; an addon may change it. */
export interface NextLayer {
  readonly context: ConnectionContext;
  /** Bytes the client has sent so far (not consumed). */
  dataClient(): Buffer;
  /** Bytes the server has sent so far (not consumed). */
  dataServer(): Buffer;
  layer: LayerName | null;
  /** Pass the connection through untouched (no interception). */
  ignoreConnection: boolean;
}

/** A parsed TLS ClientHello. */
export interface ClientHello {
  readonly sni: string | null;
  readonly alpnProtocols: readonly string[];
  readonly cipherSuites: readonly number[];
  readonly extensions: ReadonlyArray<readonly [type: number, data: Buffer]>;
  /** The whole ClientHello record(s) as received. */
  readonly raw: Buffer;
}

/** `tls_clienthello`: set `ignoreConnection` to pass the TLS stream through untouched. */
export interface ClientHelloData {
  readonly context: ConnectionContext;
  readonly clientHello: ClientHello;
  ignoreConnection: boolean;
  establishServerTlsFirst: boolean;
}

/**
 * TLS settings for one side of a connection, filled in `tls_start_client` / `tls_start_server`
 * (the default policy fills them; an addon may change them). Maps onto node:tls options.
 */
export interface TlsSettings {
  /**
   * Server side towards the client: certificate chain and key (PEM), or a ready secure context
   * (which wins). `tls_start_client` receives the chain and key the proxy chose; an addon may
   * replace them.
   */
  cert?: string | Buffer | Array<string | Buffer>;
  key?: string | Buffer;
  secureContext?: import('node:tls').SecureContext;
  /** Client side towards the server: trusted CAs, SNI, verification. */
  ca?: string | Buffer | Array<string | Buffer>;
  servername?: string | null;
  rejectUnauthorized?: boolean;
  alpnProtocols?: string[];
  minVersion?: import('node:tls').SecureVersion;
  maxVersion?: import('node:tls').SecureVersion;
  ciphers?: string;
  ecdhCurve?: string;
  requestCert?: boolean;
}

/** `tls_start_*`, `tls_established_*`, `tls_failed_*`. */
export interface TlsData {
  readonly conn: Client | Server;
  readonly context: ConnectionContext;
  readonly isDtls: boolean;
  settings: TlsSettings;
}

/** `quic_start_client`, `quic_start_server`. */
export interface QuicTlsData extends TlsData {
  readonly quic: true;
}

/** `socks5_auth`: set `valid` to accept the credentials. */
export interface Socks5AuthData {
  readonly clientConn: Client;
  readonly username: string;
  readonly password: string;
  valid: boolean;
}
