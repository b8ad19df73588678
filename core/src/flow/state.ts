/**
 * The serialized state of flows at flow format version 21, key for key as mitmproxy writes it
 * (see shared/reference/flow-format.md). `Buffer` marks tnetstring bytes (`,`), `string` marks
 * tnetstring text (`;`). These plain objects are the contract between the flow model
 * (`getState()` / `fromState()`) and the file layer (tnetstring, migrations, FlowReader/Writer).
 */

export const FLOW_FORMAT_VERSION = 21;

export type Address = [host: string, port: number] | [host: string, port: number, flowinfo: number, scopeid: number];

export type TlsVersionName =
  'SSLv3' | 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' | 'DTLSv0.9' | 'DTLSv1' | 'DTLSv1.2' | 'QUICv1';

export interface ConnectionState {
  id: string;
  peername: Address | null;
  sockname: Address | null;
  transport_protocol: 'tcp' | 'udp';
  error: string | null;
  tls: boolean;
  certificate_list: Buffer[];
  alpn: Buffer | null;
  alpn_offers: Buffer[];
  cipher: string | null;
  cipher_list: string[];
  tls_version: TlsVersionName | null;
  sni: string | null;
  timestamp_start: number | null;
  timestamp_end: number | null;
  timestamp_tls_setup: number | null;
}

export interface ClientState extends ConnectionState {
  peername: Address;
  sockname: Address;
  timestamp_start: number;
  mitmcert: Buffer | null;
  proxy_mode: string;
}

export interface ServerState extends ConnectionState {
  address: Address | null;
  timestamp_tcp_setup: number | null;
  via: [scheme: string, address: Address] | null;
}

export interface ErrorState {
  msg: string;
  timestamp: number;
}

export type HeadersState = Array<[name: Buffer, value: Buffer]>;

export interface MessageState {
  http_version: Buffer;
  headers: HeadersState;
  content: Buffer | null;
  trailers: HeadersState | null;
  timestamp_start: number;
  timestamp_end: number | null;
}

export interface RequestState extends MessageState {
  host: string;
  port: number;
  method: Buffer;
  scheme: Buffer;
  authority: Buffer;
  path: Buffer;
}

export interface ResponseState extends MessageState {
  status_code: number;
  reason: Buffer;
}

/** `[type (opcode 1 text, 2 binary), from_client, content, timestamp, dropped, injected]` */
export type WebSocketMessageState = [
  type: number,
  fromClient: boolean,
  content: Buffer,
  timestamp: number,
  dropped: boolean,
  injected: boolean,
];

export interface WebSocketDataState {
  messages: WebSocketMessageState[];
  closed_by_client: boolean | null;
  close_code: number | null;
  close_reason: string | null;
  timestamp_end: number | null;
}

/** `[from_client, content, timestamp]` */
export type TCPMessageState = [fromClient: boolean, content: Buffer, timestamp: number];

export interface DNSQuestionState {
  name: string;
  type: number;
  class_: number;
}
export interface DNSResourceRecordState {
  name: string;
  type: number;
  class_: number;
  ttl: number;
  data: Buffer;
}
export interface DNSMessageState {
  id: number;
  query: boolean;
  op_code: number;
  authoritative_answer: boolean;
  truncation: boolean;
  recursion_desired: boolean;
  recursion_available: boolean;
  reserved: number;
  response_code: number;
  questions: DNSQuestionState[];
  answers: DNSResourceRecordState[];
  authorities: DNSResourceRecordState[];
  additionals: DNSResourceRecordState[];
  timestamp: number | null;
}

/** A value that tnetstring can carry (metadata is arbitrary serializable data). */
export type Serializable = null | boolean | number | string | Buffer | Serializable[] | { [key: string]: Serializable };

export interface BaseFlowState {
  version: number;
  type: 'http' | 'tcp' | 'udp' | 'dns';
  id: string;
  error: ErrorState | null;
  client_conn: ClientState;
  server_conn: ServerState;
  intercepted: boolean;
  is_replay: 'request' | 'response' | null;
  marked: string;
  metadata: { [key: string]: Serializable };
  comment: string;
  timestamp_created: number;
  backup: FlowState | null;
}

export interface HTTPFlowState extends BaseFlowState {
  type: 'http';
  request: RequestState;
  response: ResponseState | null;
  websocket: WebSocketDataState | null;
}

export interface TCPFlowState extends BaseFlowState {
  type: 'tcp';
  messages: TCPMessageState[];
}

export interface UDPFlowState extends BaseFlowState {
  type: 'udp';
  messages: TCPMessageState[];
}

export interface DNSFlowState extends BaseFlowState {
  type: 'dns';
  request: DNSMessageState;
  response: DNSMessageState | null;
}

export type FlowState = HTTPFlowState | TCPFlowState | UDPFlowState | DNSFlowState;
