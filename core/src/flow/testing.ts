/**
 * Realistic test flows, like mitmproxy's `mitmproxy.test.tflow` (re-exported by the SDK as
 * `@mitmts/sdk/testing`). Timestamps are fixed (946681200 = 2000-01-01) so tests are stable.
 *
 * ```ts
 * const f = tflow({ resp: true });          // GET http://address:22/path, 200 OK
 * const ws = twebsocketflow();              // HTTP upgrade flow with three messages
 * const t = ttcpflow({ err: true });
 * ```
 */
import { Client, Server } from './connection.js';
import { FlowError } from './error.js';
import { Headers } from './headers.js';
import { HTTPFlow } from './http-flow.js';
import { Request, type RequestInit } from './request.js';
import { Response, type ResponseInit } from './response.js';
import { TCPFlow, UDPFlow } from './tcp-flow.js';
import { TCPMessage, UDPMessage } from './tcp.js';
import { WebSocketData, WebSocketMessage, WebSocketOpcode } from './websocket.js';
import { DNSClass, DNSFlow, DNSMessage, DNSQuestion, DNSResourceRecord, DNSType, type DNSMessageInit } from './dns.js';

/** A client connection from 127.0.0.1:22 with TLS metadata filled in. */
export function tclientConn(): Client {
  return new Client({
    peername: ['127.0.0.1', 22],
    sockname: ['', 0],
    timestampStart: 946681200,
    timestampTlsSetup: 946681201,
    timestampEnd: 946681206,
    sni: 'address',
    cipher: 'cipher',
    alpn: Buffer.from('http/1.1'),
    tlsVersion: 'TLSv1.2',
    tls: false,
    proxyMode: 'regular',
  });
}

/** A server connection to address:22 (resolved to 192.168.0.1:22). */
export function tserverConn(): Server {
  return new Server({
    address: ['address', 22],
    peername: ['192.168.0.1', 22],
    sockname: ['address', 22],
    timestampStart: 946681202,
    timestampTcpSetup: 946681203,
    timestampTlsSetup: 946681204,
    timestampEnd: 946681205,
    sni: 'address',
    alpn: null,
    tlsVersion: 'TLSv1.2',
    via: null,
    tls: false,
  });
}

/** An error with message `error` (or `msg`) at a fixed timestamp. */
export function terr(msg = 'error'): FlowError {
  return new FlowError(msg, 946681207);
}

/** GET http://address:22/path with headers `header: qvalue`, `content-length: 7` and body `content`. */
export function treq(overrides: Partial<RequestInit> = {}): Request {
  return new Request({
    host: 'address',
    port: 22,
    method: 'GET',
    scheme: 'http',
    authority: '',
    path: '/path',
    httpVersion: 'HTTP/1.1',
    headers: new Headers([
      ['header', 'qvalue'],
      ['content-length', '7'],
    ]),
    content: Buffer.from('content'),
    trailers: null,
    timestampStart: 946681200,
    timestampEnd: 946681201,
    ...overrides,
  });
}

/** 200 OK with headers `header-response: svalue`, `content-length: 7` and body `message`. */
export function tresp(overrides: Partial<ResponseInit> = {}): Response {
  return new Response({
    httpVersion: 'HTTP/1.1',
    statusCode: 200,
    reason: 'OK',
    headers: new Headers([
      ['header-response', 'svalue'],
      ['content-length', '7'],
    ]),
    content: Buffer.from('message'),
    trailers: null,
    timestampStart: 946681202,
    timestampEnd: 946681203,
    ...overrides,
  });
}

/** WebSocket data with a binary and a text message from the client and a text reply. */
export function twebsocket(messages = true): WebSocketData {
  const ws = new WebSocketData();
  if (messages) {
    ws.messages = [
      new WebSocketMessage(WebSocketOpcode.BINARY, true, Buffer.from('hello binary'), 946681203),
      new WebSocketMessage(WebSocketOpcode.TEXT, true, Buffer.from('hello text'), 946681204),
      new WebSocketMessage(WebSocketOpcode.TEXT, false, Buffer.from("it's me"), 946681205),
    ];
  }
  ws.closeReason = 'Close Reason';
  ws.closeCode = 1000;
  ws.closedByClient = false;
  ws.timestampEnd = 946681205;
  return ws;
}

/** Options for {@link tflow}. */
export interface TFlowOptions {
  clientConn?: Client;
  serverConn?: Server;
  req?: Request;
  /** `true` for {@link tresp}, or a response. */
  resp?: boolean | Response;
  /** `true` for {@link terr}, or an error. */
  err?: boolean | FlowError;
  /** `true` for {@link twebsocket}, or WebSocket data. */
  ws?: boolean | WebSocketData;
  /** Default true. */
  live?: boolean;
}

/** An HTTP flow: {@link treq}, optionally a response, an error and WebSocket data. */
export function tflow(opts: TFlowOptions = {}): HTTPFlow {
  const f = new HTTPFlow(opts.clientConn ?? tclientConn(), opts.serverConn ?? tserverConn());
  f.request = opts.req ?? treq();
  f.timestampCreated = f.request.timestampStart;
  f.response = opts.resp === true ? tresp() : opts.resp || null;
  f.error = opts.err === true ? terr() : opts.err || null;
  f.websocket = opts.ws === true ? twebsocket() : opts.ws || null;
  f.live = opts.live ?? true;
  return f;
}

/** Options for {@link twebsocketflow}. */
export interface TWebSocketFlowOptions {
  /** Default true: three messages as in {@link twebsocket}. */
  messages?: boolean;
  /** With `true` the close code is 1006 (abnormal closure) unless `closeCode` is given. */
  err?: boolean;
  closeCode?: number;
  closeReason?: string;
}

/** A WebSocket flow: the upgrade request/response on example.com/ws plus WebSocket data. */
export function twebsocketflow(opts: TWebSocketFlowOptions = {}): HTTPFlow {
  const f = new HTTPFlow(tclientConn(), tserverConn());
  f.request = new Request({
    host: 'example.com',
    port: 80,
    method: 'GET',
    scheme: 'http',
    authority: 'example.com',
    path: '/ws',
    httpVersion: 'HTTP/1.1',
    headers: new Headers([
      ['connection', 'upgrade'],
      ['upgrade', 'websocket'],
      ['sec-websocket-version', '13'],
      ['sec-websocket-key', '1234'],
    ]),
    content: Buffer.alloc(0),
    trailers: null,
    timestampStart: 946681200,
    timestampEnd: 946681201,
  });
  f.response = new Response({
    httpVersion: 'HTTP/1.1',
    statusCode: 101,
    reason: 'Switching Protocols',
    headers: new Headers([
      ['connection', 'upgrade'],
      ['upgrade', 'websocket'],
      ['sec-websocket-accept', ''],
    ]),
    content: Buffer.alloc(0),
    trailers: null,
    timestampStart: 946681202,
    timestampEnd: 946681203,
  });
  f.timestampCreated = 946681200;
  f.websocket = twebsocket(opts.messages ?? true);
  f.websocket.closeReason = opts.closeReason ?? '';
  f.websocket.closeCode = opts.closeCode ?? (opts.err ? 1006 : 1000);
  f.live = true;
  return f;
}

/** Options for {@link ttcpflow} and {@link tudpflow}. */
export interface TStreamFlowOptions<M> {
  clientConn?: Client;
  serverConn?: Server;
  /** `true` (default) for two messages (`hello` from the client, `it's me` back), or a list. */
  messages?: boolean | M[];
  err?: boolean | FlowError;
}

/** A TCP flow with two messages. */
export function ttcpflow(opts: TStreamFlowOptions<TCPMessage> = {}): TCPFlow {
  const clientConn = opts.clientConn ?? tclientConn();
  const f = new TCPFlow(clientConn, opts.serverConn ?? tserverConn());
  f.timestampCreated = clientConn.timestampStart;
  const m = opts.messages ?? true;
  f.messages =
    m === true
      ? [
          new TCPMessage(true, Buffer.from('hello'), 946681204.2),
          new TCPMessage(false, Buffer.from("it's me"), 946681204.5),
        ]
      : m || [];
  f.error = opts.err === true ? terr() : opts.err || null;
  f.live = true;
  return f;
}

/** A UDP flow with two datagrams (connections use transport `udp`). */
export function tudpflow(opts: TStreamFlowOptions<UDPMessage> = {}): UDPFlow {
  const clientConn = opts.clientConn ?? tclientConn();
  const serverConn = opts.serverConn ?? tserverConn();
  if (!opts.clientConn) clientConn.transportProtocol = 'udp';
  if (!opts.serverConn) serverConn.transportProtocol = 'udp';
  const f = new UDPFlow(clientConn, serverConn);
  f.timestampCreated = clientConn.timestampStart;
  const m = opts.messages ?? true;
  f.messages =
    m === true
      ? [
          new UDPMessage(true, Buffer.from('hello'), 946681204.2),
          new UDPMessage(false, Buffer.from("it's me"), 946681204.5),
        ]
      : m || [];
  f.error = opts.err === true ? terr() : opts.err || null;
  f.live = true;
  return f;
}

/** An A query for dns.google. */
export function tdnsreq(overrides: Partial<DNSMessageInit> = {}): DNSMessage {
  return new DNSMessage({
    timestamp: 946681200,
    id: 42,
    query: true,
    opCode: 0,
    authoritativeAnswer: false,
    truncation: false,
    recursionDesired: true,
    recursionAvailable: false,
    reserved: 0,
    responseCode: 0,
    questions: [new DNSQuestion('dns.google', DNSType.A, DNSClass.IN)],
    answers: [],
    authorities: [],
    additionals: [],
    ...overrides,
  });
}

/** The answer to {@link tdnsreq}: 8.8.8.8 and 8.8.4.4. */
export function tdnsresp(overrides: Partial<DNSMessageInit> = {}): DNSMessage {
  return new DNSMessage({
    timestamp: 946681201,
    id: 42,
    query: false,
    opCode: 0,
    authoritativeAnswer: false,
    truncation: false,
    recursionDesired: true,
    recursionAvailable: true,
    reserved: 0,
    responseCode: 0,
    questions: [new DNSQuestion('dns.google', DNSType.A, DNSClass.IN)],
    answers: [
      new DNSResourceRecord('dns.google', DNSType.A, DNSClass.IN, 32, Buffer.from([8, 8, 8, 8])),
      new DNSResourceRecord('dns.google', DNSType.A, DNSClass.IN, 32, Buffer.from([8, 8, 4, 4])),
    ],
    authorities: [],
    additionals: [],
    ...overrides,
  });
}

/** Options for {@link tdnsflow}. */
export interface TDNSFlowOptions {
  clientConn?: Client;
  serverConn?: Server;
  req?: DNSMessage;
  resp?: boolean | DNSMessage;
  err?: boolean | FlowError;
  live?: boolean;
}

/** A DNS flow (connections use transport `udp`). */
export function tdnsflow(opts: TDNSFlowOptions = {}): DNSFlow {
  const clientConn = opts.clientConn ?? tclientConn();
  const serverConn = opts.serverConn ?? tserverConn();
  if (!opts.clientConn) clientConn.transportProtocol = 'udp';
  if (!opts.serverConn) serverConn.transportProtocol = 'udp';
  const f = new DNSFlow(clientConn, serverConn);
  f.request = opts.req ?? tdnsreq();
  f.timestampCreated = f.request.timestamp ?? 946681200;
  f.response = opts.resp === true ? tdnsresp() : opts.resp || null;
  f.error = opts.err === true ? terr() : opts.err || null;
  f.live = opts.live ?? true;
  return f;
}

/** One flow of each kind: HTTP with response, with error, WebSocket, TCP (plain and error), DNS, UDP. */
export function tflows(): Array<HTTPFlow | TCPFlow | UDPFlow | DNSFlow> {
  return [
    tflow({ resp: true }),
    tflow({ err: true }),
    tflow({ ws: true }),
    ttcpflow(),
    ttcpflow({ err: true }),
    tdnsflow({ resp: true }),
    tdnsflow({ err: true }),
    tudpflow(),
  ];
}
