/** Coded errors of the DNS wire codec: what is wrong, in which section and record, at which byte. */
import { ProtocolError } from '../protocol-error.js';

/** Stable codes of {@link DnsWireError}. */
export const DnsWireErrorCodes = {
  /** The message ends before a field it announces (header counts, a name, rdata). */
  TRUNCATED: 'MITMTS_ERR_DNS_TRUNCATED',
  /** A malformed domain name: a bad label type, a pointer loop or forward pointer, over 255 bytes. */
  BAD_NAME: 'MITMTS_ERR_DNS_BAD_NAME',
  /** Bytes after the last record. */
  TRAILING_DATA: 'MITMTS_ERR_DNS_TRAILING_DATA',
  /** SVCB/HTTPS rdata that breaks RFC 9460 (key order, value lengths, mandatory list). */
  BAD_SVCB: 'MITMTS_ERR_DNS_BAD_SVCB',
  /** A field that does not fit its wire size when packing (id, op code, ttl, rdata length). */
  OUT_OF_RANGE: 'MITMTS_ERR_DNS_OUT_OF_RANGE',
} as const;

/** One of the {@link DnsWireErrorCodes} values. */
export type DnsWireErrorCode = (typeof DnsWireErrorCodes)[keyof typeof DnsWireErrorCodes];

/** A DNS message or record that cannot be read or written. */
export class DnsWireError extends ProtocolError<DnsWireErrorCode> {
  override readonly name = 'DnsWireError';
  readonly protocol = 'dns';
}
