/**
 * Coded errors of the SOCKS5 codec (RFC 1928, RFC 1929). Each says what the client sent, what was
 * expected, and how to fix the client's configuration when that is the likely cause.
 */
import { ProtocolError } from '../protocol-error.js';

/** Stable codes of {@link Socks5Error}; tests and the runtime branch on these, never on text. */
export const Socks5ErrorCodes = {
  /** The client does not speak SOCKS5 (a SOCKS4, HTTP or TLS client, or garbage). */
  NOT_SOCKS5: 'MITMTS_ERR_SOCKS5_NOT_SOCKS5',
  /** A message is malformed (bad version byte, zero methods, empty domain, ...). */
  MALFORMED: 'MITMTS_ERR_SOCKS5_MALFORMED',
  /** None of the client's authentication methods is acceptable. */
  NO_ACCEPTABLE_METHOD: 'MITMTS_ERR_SOCKS5_NO_ACCEPTABLE_METHOD',
  /** Username/password authentication failed. */
  AUTH_FAILED: 'MITMTS_ERR_SOCKS5_AUTH_FAILED',
  /** BIND or UDP ASSOCIATE (or an unknown command): only CONNECT is supported. */
  COMMAND_NOT_SUPPORTED: 'MITMTS_ERR_SOCKS5_COMMAND_NOT_SUPPORTED',
  /** An address type other than IPv4 (1), domain name (3) or IPv6 (4). */
  ADDRESS_TYPE_NOT_SUPPORTED: 'MITMTS_ERR_SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED',
  /** The server refused the connection (client side of the codec: a reply other than success). */
  REQUEST_FAILED: 'MITMTS_ERR_SOCKS5_REQUEST_FAILED',
} as const;

/** One of the {@link Socks5ErrorCodes} values. */
export type Socks5ErrorCode = (typeof Socks5ErrorCodes)[keyof typeof Socks5ErrorCodes];

/** A SOCKS5 handshake that cannot go on. */
export class Socks5Error extends ProtocolError<Socks5ErrorCode> {
  override readonly name = 'Socks5Error';
  readonly protocol = 'socks5';
}
