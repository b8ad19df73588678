export * from './state.js';
export { Headers, type HeaderInput, type HeadersInit } from './headers.js';
export { BaseMultiDict, MultiDict, MultiDictView, toPairs, type MultiDictInit } from './multidict.js';
export * as encoding from './encoding.js';
export { ContentEncodingError, CONTENT_ENCODINGS, isSupportedEncoding } from './encoding.js';
export { CharsetError, decodeText, encodeText } from './charset.js';
export { parseContentType, assembleContentType, inferContentEncoding, type ContentType } from './content-type.js';
export * as url from './url.js';
export { UrlError } from './url.js';
export * as cookies from './cookies.js';
export { CookieAttrs, type SetCookie } from './cookies.js';
export { decodeMultipart, encodeMultipart } from './multipart.js';
export { RESPONSES } from './status-codes.js';
export { Message, type MessageInit, type StreamSetting } from './message.js';
export { Request, type RequestInit, type MakeHeaders } from './request.js';
export { Response, type ResponseInit, type ResponseCookie } from './response.js';
export {
  Connection,
  Client,
  Server,
  ConnectionStatus,
  StateError,
  type TransportProtocol,
  type ConnectionInit,
  type ClientInit,
  type ServerInit,
} from './connection.js';
export { FlowError, FlowControlError } from './error.js';
export { Flow, type FlowType, type ReplayKind } from './flow.js';
export { HTTPFlow, WEBSOCKET_OMITTED } from './http-flow.js';
export { WebSocketData, WebSocketMessage, WebSocketOpcode, type WebSocketRetention } from './websocket.js';
export { TCPMessage, UDPMessage } from './tcp.js';
export { TCPFlow, UDPFlow } from './tcp-flow.js';
export {
  DNSFlow,
  DNSMessage,
  DNSQuestion,
  DNSResourceRecord,
  DNSType,
  DNSClass,
  DNSOpCode,
  DNSResponseCode,
  dnsTypeName,
  packDomainName,
  unpackDomainName,
  type DNSMessageInit,
} from './dns.js';
export { flowFromState, type AnyFlow } from './from-state.js';
export * from './testing.js';
