/**
 * DNS wire codec for the dns mode: messages to and from the flow model's DNSMessage (names
 * decompressed, rdata made self-contained), DNS-over-TCP framing, and SVCB/HTTPS (types 64/65)
 * parameters for `strip_dns_https_records`. Socket-free; see README.md.
 */
export { DnsWireError, DnsWireErrorCodes, type DnsWireErrorCode } from './errors.js';
export { readName } from './names.js';
export { TcpMessageReader, frameTcp, packMessage, unpackMessage } from './message.js';
export {
  SvcParamKey,
  type SvcbData,
  addressHint,
  editSvcbRecord,
  formatSvcb,
  keyName,
  packSvcb,
  parseSvcb,
  stripEch,
  stripHttp3,
  svcParam,
  svcbAlpn,
} from './svcb.js';
