import { randomUUID } from 'node:crypto';
import { Cert } from '../certs/cert.js';
import type {
  Address,
  ClientState,
  ConnectionState as ConnectionStateData,
  ServerState,
  TlsVersionName,
} from './state.js';
import { StateError, StateKeys } from './state-keys.js';

/** Socket state of a live connection (mitmproxy's `ConnectionState`; not serialized). */
export enum ConnectionStatus {
  CLOSED = 0,
  CAN_READ = 1,
  CAN_WRITE = 2,
  OPEN = 3,
}

export type TransportProtocol = 'tcp' | 'udp';

const TLS_VERSIONS: ReadonlySet<string> = new Set([
  'SSLv3',
  'TLSv1',
  'TLSv1.1',
  'TLSv1.2',
  'TLSv1.3',
  'DTLSv0.9',
  'DTLSv1',
  'DTLSv1.2',
  'QUICv1',
]);

export { StateError, checkKeys } from './state-keys.js';

const CONNECTION_KEYS = [
  'id',
  'peername',
  'sockname',
  'transport_protocol',
  'error',
  'tls',
  'certificate_list',
  'alpn',
  'alpn_offers',
  'cipher',
  'cipher_list',
  'tls_version',
  'sni',
  'timestamp_start',
  'timestamp_end',
  'timestamp_tls_setup',
] as const;

/** Common fields accepted by the {@link Client} and {@link Server} constructors. */
export interface ConnectionInit {
  id?: string;
  peername?: Address | null;
  sockname?: Address | null;
  transportProtocol?: TransportProtocol;
  error?: string | null;
  tls?: boolean;
  certificateList?: Cert[];
  alpn?: Buffer | null;
  alpnOffers?: Buffer[];
  cipher?: string | null;
  cipherList?: string[];
  tlsVersion?: TlsVersionName | null;
  sni?: string | null;
  timestampStart?: number | null;
  timestampEnd?: number | null;
  timestampTlsSetup?: number | null;
  state?: ConnectionStatus;
}

function copyAddress(a: Address | null | undefined): Address | null {
  return a ? (a.slice() as Address) : null;
}

/** Connection metadata shared by {@link Client} and {@link Server} (no socket: I/O is the runtime's). */
export abstract class Connection {
  /** Unique id; equal ids mean the same connection, also across saved flows. */
  id: string;
  /** Socket state (live connections only; not serialized). */
  state: ConnectionStatus;
  transportProtocol: TransportProtocol;
  /** The remote `[ip, port]` of this connection. */
  peername: Address | null;
  /** Our local `[ip, port]`. */
  sockname: Address | null;
  /** An error that makes further connections to this endpoint pointless (e.g. untrusted cert). */
  error: string | null;
  /** True if TLS should be (or was) established. */
  tls: boolean;
  /** Negotiated ALPN protocol. */
  alpn: Buffer | null;
  /** ALPN protocols offered in the ClientHello. */
  alpnOffers: Buffer[];
  /** Active cipher name (OpenSSL naming). */
  cipher: string | null;
  /** Ciphers offered / accepted. */
  cipherList: string[];
  tlsVersion: TlsVersionName | null;
  /** Server Name Indication from the ClientHello. */
  sni: string | null;
  timestampStart: number | null;
  /** Connection closed. */
  timestampEnd: number | null;
  /** TLS handshake completed. */
  timestampTlsSetup: number | null;

  private _certificateList: Cert[] | null;
  private _certificatePems: Buffer[] | null;

  constructor(init: ConnectionInit, defaultState: ConnectionStatus) {
    this.id = init.id ?? randomUUID();
    this.state = init.state ?? defaultState;
    this.transportProtocol = init.transportProtocol ?? 'tcp';
    this.peername = init.peername ?? null;
    this.sockname = init.sockname ?? null;
    this.error = init.error ?? null;
    this.tls = init.tls ?? false;
    this._certificateList = init.certificateList ?? [];
    this._certificatePems = null;
    this.alpn = init.alpn ?? null;
    this.alpnOffers = init.alpnOffers ?? [];
    this.cipher = init.cipher ?? null;
    this.cipherList = init.cipherList ?? [];
    this.tlsVersion = init.tlsVersion ?? null;
    this.sni = init.sni ?? null;
    this.timestampStart = init.timestampStart ?? null;
    this.timestampEnd = init.timestampEnd ?? null;
    this.timestampTlsSetup = init.timestampTlsSetup ?? null;
  }

  /**
   * The peer's certificate chain, end-entity first. Certificates loaded from a saved flow are
   * parsed on first access.
   */
  get certificateList(): Cert[] {
    if (this._certificateList === null) {
      this._certificateList = (this._certificatePems ?? []).map((p) => Cert.fromPem(p));
      this._certificatePems = null;
    }
    return this._certificateList;
  }

  set certificateList(v: Cert[]) {
    this._certificateList = v;
    this._certificatePems = null;
  }

  /** True while the socket is open for reading and writing. */
  get connected(): boolean {
    return this.state === ConnectionStatus.OPEN;
  }

  /** True once the TLS handshake completed. */
  get tlsEstablished(): boolean {
    return this.timestampTlsSetup !== null;
  }

  /** Same connection (by id). */
  equals(other: Connection): boolean {
    return this.id === other.id;
  }

  protected connectionState(): ConnectionStateData {
    return {
      id: this.id,
      peername: copyAddress(this.peername),
      sockname: copyAddress(this.sockname),
      transport_protocol: this.transportProtocol,
      error: this.error,
      tls: this.tls,
      certificate_list:
        this._certificateList === null ? this._certificatePems!.slice() : this._certificateList.map((c) => c.toPem()),
      alpn: this.alpn,
      alpn_offers: this.alpnOffers.slice(),
      cipher: this.cipher,
      cipher_list: this.cipherList.slice(),
      tls_version: this.tlsVersion,
      sni: this.sni,
      timestamp_start: this.timestampStart,
      timestamp_end: this.timestampEnd,
      timestamp_tls_setup: this.timestampTlsSetup,
    };
  }

  /** Load the common fields; with `adopt`, the state's arrays are taken over instead of copied. */
  protected setConnectionState(s: ConnectionStateData, what: string, adopt: boolean): void {
    if (s.transport_protocol !== 'tcp' && s.transport_protocol !== 'udp') {
      throw new StateError(
        `Invalid transport_protocol in ${what} state: '${String(s.transport_protocol)}' (expected 'tcp' or 'udp').`,
      );
    }
    if (s.tls_version !== null && !TLS_VERSIONS.has(s.tls_version)) {
      throw new StateError(`Invalid tls_version in ${what} state: '${String(s.tls_version)}'.`);
    }
    if (typeof s.id !== 'string') throw new StateError(`Missing id in ${what} state.`);
    this.id = s.id;
    this.peername = adopt ? s.peername : copyAddress(s.peername);
    this.sockname = adopt ? s.sockname : copyAddress(s.sockname);
    this.transportProtocol = s.transport_protocol;
    this.error = s.error;
    this.tls = s.tls;
    this._certificatePems = adopt ? s.certificate_list : s.certificate_list.slice();
    this._certificateList = null;
    this.alpn = s.alpn;
    this.alpnOffers = adopt ? s.alpn_offers : s.alpn_offers.slice();
    this.cipher = s.cipher;
    this.cipherList = adopt ? s.cipher_list : s.cipher_list.slice();
    this.tlsVersion = s.tls_version;
    this.sni = s.sni;
    this.timestampStart = s.timestamp_start;
    this.timestampEnd = s.timestamp_end;
    this.timestampTlsSetup = s.timestamp_tls_setup;
  }
}

function fmtAddress(a: Address | null): string {
  if (!a) return '<no address>';
  return a[0].includes(':') ? `[${a[0]}]:${a[1]}` : `${a[0]}:${a[1]}`;
}

function tlsInfo(c: Connection): string {
  if (c.alpn) return `, alpn=${c.alpn.toString('utf8')}`;
  if (c.tlsEstablished) return ', tls';
  return '';
}

/** Fields for `new Client(...)`: peername, sockname and timestampStart are required. */
export interface ClientInit extends ConnectionInit {
  peername: Address;
  sockname: Address;
  timestampStart: number;
  mitmcert?: Cert | null;
  proxyMode?: string;
}

const CLIENT_KEYS = new StateKeys([...CONNECTION_KEYS, 'mitmcert', 'proxy_mode'], 'client connection');

// Placeholders for connections being loaded (setState replaces every one of them), so that
// loading allocates nothing it throws away.
const NO_ADDRESS: Address = Object.freeze(['', 0]) as unknown as Address;
const NONE: never[] = Object.freeze([]) as unknown as never[];
const LOADING_CLIENT: ClientInit = Object.freeze({
  id: '',
  peername: NO_ADDRESS,
  sockname: NO_ADDRESS,
  timestampStart: 0,
  certificateList: NONE,
  alpnOffers: NONE,
  cipherList: NONE,
});
const LOADING_SERVER: ServerInit = Object.freeze({ id: '', certificateList: NONE, alpnOffers: NONE, cipherList: NONE });

/** The connection between a client and mitmts. */
export class Client extends Connection {
  declare peername: Address;
  declare sockname: Address;
  declare timestampStart: number;
  /** The proxy mode spec this connection came in on, e.g. `regular` or `reverse:https://example.com`. */
  proxyMode: string;
  /** The certificate, once parsed or set (undefined: only the PEM from a saved state is known). */
  private _mitmcert: Cert | null | undefined;
  private _mitmcertPem: Buffer | null;

  constructor(init: ClientInit) {
    super(init, ConnectionStatus.OPEN);
    this.proxyMode = init.proxyMode ?? 'regular';
    this._mitmcert = init.mitmcert ?? null;
    this._mitmcertPem = null;
  }

  /** The certificate mitmts presented to the client. One loaded from a saved flow is parsed on first access. */
  get mitmcert(): Cert | null {
    if (this._mitmcert === undefined) {
      this._mitmcert = Cert.fromPem(this._mitmcertPem!);
      this._mitmcertPem = null;
    }
    return this._mitmcert;
  }

  set mitmcert(v: Cert | null) {
    this._mitmcert = v;
    this._mitmcertPem = null;
  }

  /**
   * Load a client from its state. With `adopt` the client takes over the state's arrays instead
   * of copying them: only for a state nobody uses afterwards (the flow reader's).
   */
  static fromState(state: ClientState, adopt = false): Client {
    const c = new Client(LOADING_CLIENT);
    c.setState(state, adopt);
    return c;
  }

  getState(): ClientState {
    const cert = this._mitmcert;
    return {
      ...(this.connectionState() as ClientState),
      // An unparsed certificate goes back byte for byte.
      mitmcert: cert === undefined ? this._mitmcertPem : cert ? cert.toPem() : null,
      proxy_mode: this.proxyMode,
    };
  }

  setState(state: ClientState, adopt = false): void {
    CLIENT_KEYS.check(state);
    this.setConnectionState(state, 'client connection', adopt);
    const pem = state.mitmcert;
    this._mitmcert = pem ? undefined : null;
    this._mitmcertPem = pem ? pem : null;
    this.proxyMode = state.proxy_mode;
  }

  copy(): Client {
    return Client.fromState(this.getState());
  }

  override toString(): string {
    return `Client(${fmtAddress(this.peername)}, state=${ConnectionStatus[this.state].toLowerCase()}${tlsInfo(this)})`;
  }
}

/** Fields for `new Server(...)`. */
export interface ServerInit extends ConnectionInit {
  /** The `[host, port]` to connect to (host may be a name or an IP). */
  address?: Address | null;
  timestampTcpSetup?: number | null;
  via?: [scheme: string, address: Address] | null;
}

const SERVER_KEYS = new StateKeys([...CONNECTION_KEYS, 'address', 'timestamp_tcp_setup', 'via'], 'server connection');

/** The connection between mitmts and an upstream server. */
export class Server extends Connection {
  /** TCP handshake completed. */
  timestampTcpSetup: number | null;
  private _address: Address | null;
  private _via: [scheme: string, address: Address] | null;

  constructor(init: ServerInit = {}) {
    super(init, ConnectionStatus.CLOSED);
    this._address = init.address ?? null;
    this.timestampTcpSetup = init.timestampTcpSetup ?? null;
    this._via = init.via ?? null;
  }

  /** The server's `[host, port]`. Cannot change while the connection is open. */
  get address(): Address | null {
    return this._address;
  }

  set address(v: Address | null) {
    this.assertChangeable('address', this._address, v);
    this._address = v;
  }

  /** The upstream proxy (`[scheme, address]`) this connection goes through, if any. */
  get via(): [scheme: string, address: Address] | null {
    return this._via;
  }

  set via(v: [scheme: string, address: Address] | null) {
    this.assertChangeable('via', this._via, v);
    this._via = v;
  }

  private assertChangeable(name: string, old: unknown, v: unknown): void {
    if (this.state === ConnectionStatus.OPEN && JSON.stringify(old) !== JSON.stringify(v)) {
      throw new Error(`Cannot change server.${name} on an open connection; open a new server connection instead.`);
    }
  }

  /** Load a server from its state; `adopt` as for {@link Client.fromState}. */
  static fromState(state: ServerState, adopt = false): Server {
    const s = new Server(LOADING_SERVER);
    s.setState(state, adopt);
    return s;
  }

  getState(): ServerState {
    return {
      ...(this.connectionState() as ServerState),
      address: copyAddress(this._address),
      timestamp_tcp_setup: this.timestampTcpSetup,
      via: this._via ? [this._via[0], this._via[1].slice() as Address] : null,
    };
  }

  setState(state: ServerState, adopt = false): void {
    SERVER_KEYS.check(state);
    this.setConnectionState(state, 'server connection', adopt);
    this._address = adopt ? state.address : copyAddress(state.address);
    this.timestampTcpSetup = state.timestamp_tcp_setup;
    const via = state.via;
    this._via = via === null ? null : adopt ? via : [via[0], via[1].slice() as Address];
  }

  copy(): Server {
    return Server.fromState(this.getState());
  }

  override toString(): string {
    const local = this.sockname ? `, src_port=${this.sockname[1]}` : '';
    return `Server(${fmtAddress(this._address)}, state=${ConnectionStatus[this.state].toLowerCase()}${tlsInfo(this)}${local})`;
  }
}
