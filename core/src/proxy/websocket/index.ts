/**
 * WebSocket codec of the proxy runtime (RFC 6455, permessage-deflate RFC 7692): socket-free frame
 * reading and writing, message reassembly that keeps the original frames, the handshake checks,
 * and the {@link WebSocketRelay} that sits between two peers. See README.md in this folder.
 */
export {
  CloseCode,
  WebSocketError,
  WebSocketErrorCodes,
  WebSocketHandshakeError,
  WebSocketHandshakeErrorCodes,
  type WebSocketErrorCode,
  type WebSocketHandshakeErrorCode,
  type WebSocketSide,
} from './errors.js';
export {
  type Frame,
  type FrameInit,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  RSV1,
  RSV2,
  RSV3,
  applyMask,
  isControl,
  randomMaskKey,
  serializeFrame,
} from './frame.js';
export { FrameReader, type FrameReaderOptions } from './reader.js';
export {
  type AssembledMessage,
  type AssemblerLimits,
  DEFAULT_MAX_FRAMES,
  DEFAULT_MAX_MESSAGE_SIZE,
  MessageAssembler,
} from './assembler.js';
export { Utf8Validator } from './utf8.js';
export { type ClosePayload, closePayload, isValidCloseCode, parseClosePayload, serializeClose } from './close.js';
export {
  type DeflateOffer,
  type DeflateParams,
  type Extension,
  PERMESSAGE_DEFLATE,
  acceptDeflateAnswer,
  formatExtensions,
  parseDeflateOffers,
  parseExtensions,
} from './extensions.js';
export { DeflateDirection, type DeflateDirectionOptions } from './deflate.js';
export {
  type Agreement,
  type HeaderSource,
  type UpgradeRequest,
  WEBSOCKET_GUID,
  WEBSOCKET_VERSION,
  acceptKey,
  checkUpgradeRequest,
  checkUpgradeResponse,
  generateKey,
  isWebSocketHandshake,
  rawHeaderSource,
} from './handshake.js';
export { FRAGMENT_SIZE, type RelayEnd, WebSocketRelay, type WebSocketRelayOptions } from './relay.js';
