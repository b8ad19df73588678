/**
 * SOCKS5 codec (RFC 1928, username/password RFC 1929): the server side of the handshake for the
 * socks5 mode, and a client side for tests and SOCKS5 upstreams. Socket-free; see README.md.
 */
export { AddressType, type Socks5Address, encodeAddress, readAddress } from './address.js';
export { Socks5Error, Socks5ErrorCodes, type Socks5ErrorCode } from './errors.js';
export {
  Socks5Command,
  type Socks5Event,
  Socks5Method,
  type Socks5Progress,
  Socks5Reply,
  Socks5ServerHandshake,
  type Socks5ServerOptions,
  encodeReply,
} from './server.js';
export {
  REPLY_NAMES,
  type Socks5ClientProgress,
  Socks5ClientHandshake,
  encodeCredentials,
  encodeGreeting,
  encodeRequest,
} from './client.js';
