/**
 * DNS messages on the wire (RFC 1035 section 4) to and from the flow model's {@link DNSMessage}.
 *
 * Reading decompresses names everywhere, including inside the rdata of the types that carry names
 * (NS, CNAME, PTR, DNAME, MX, SOA, SRV), so each record's `data` stands alone and can be written
 * back without the message around it. Writing does not compress (as mitmproxy).
 */
import { Buffer } from 'node:buffer';
import { DNSMessage, DNSQuestion, DNSResourceRecord, DNSType, packDomainName } from '../../flow/dns.js';
import { DnsWireError, DnsWireErrorCodes as C } from './errors.js';
import { readName } from './names.js';

const HEADER = 12;
/** DNAME (RFC 6672): not in the flow model's list of common types. */
const DNAME = 39;

function need(msg: Buffer, off: number, n: number, what: string): void {
  if (off + n > msg.length)
    throw new DnsWireError(C.TRUNCATED, `${what} needs ${n} bytes at byte ${off}, the message has ${msg.length}`, off);
}

/** The rdata of a record with every embedded name decompressed (other types: the bytes as they are). */
function rdata(msg: Buffer, type: number, start: number, end: number): Buffer {
  const name = (off: number) => {
    const r = readName(msg, off);
    if (r.end > end)
      throw new DnsWireError(C.BAD_NAME, `a name in the record data at byte ${off} runs past the record`, off);
    return r;
  };
  const tail = (off: number) => msg.subarray(off, end);
  switch (type) {
    case DNSType.NS:
    case DNSType.CNAME:
    case DNSType.PTR:
    case DNAME: {
      const n = name(start);
      return Buffer.concat([packDomainName(n.name), tail(n.end)]);
    }
    case DNSType.MX: {
      need(msg, start, 2, 'MX preference');
      const n = name(start + 2);
      return Buffer.concat([msg.subarray(start, start + 2), packDomainName(n.name), tail(n.end)]);
    }
    case DNSType.SRV: {
      need(msg, start, 6, 'SRV priority, weight and port');
      const n = name(start + 6);
      return Buffer.concat([msg.subarray(start, start + 6), packDomainName(n.name), tail(n.end)]);
    }
    case DNSType.SOA: {
      const m = name(start);
      const r = name(m.end);
      return Buffer.concat([packDomainName(m.name), packDomainName(r.name), tail(r.end)]);
    }
    default:
      return Buffer.from(msg.subarray(start, end));
  }
}

/**
 * Read one DNS message (UDP payload, or a TCP message without its length prefix).
 * @throws DnsWireError naming the section and record at fault.
 */
export function unpackMessage(msg: Buffer, timestamp: number | null = Date.now() / 1000): DNSMessage {
  need(msg, 0, HEADER, 'the header');
  const flags = msg.readUInt16BE(2);
  const counts = [msg.readUInt16BE(4), msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)] as const;
  let off = HEADER;
  const questions: DNSQuestion[] = [];
  for (let i = 0; i < counts[0]; i++) {
    try {
      const n = readName(msg, off);
      need(msg, n.end, 4, 'the type and class');
      questions.push(new DNSQuestion(n.name, msg.readUInt16BE(n.end), msg.readUInt16BE(n.end + 2)));
      off = n.end + 4;
    } catch (e) {
      throw located(e, `question #${i}`);
    }
  }
  const section = (what: string, count: number): DNSResourceRecord[] => {
    const out: DNSResourceRecord[] = [];
    for (let i = 0; i < count; i++) {
      try {
        const n = readName(msg, off);
        need(msg, n.end, 10, 'the type, class, TTL and data length');
        const type = msg.readUInt16BE(n.end);
        const class_ = msg.readUInt16BE(n.end + 2);
        const ttl = msg.readUInt32BE(n.end + 4);
        const len = msg.readUInt16BE(n.end + 8);
        const start = n.end + 10;
        need(msg, start, len, `the record data (${len} bytes)`);
        out.push(new DNSResourceRecord(n.name, type, class_, ttl, rdata(msg, type, start, start + len)));
        off = start + len;
      } catch (e) {
        throw located(e, `${what} #${i}`);
      }
    }
    return out;
  };
  const answers = section('answer', counts[1]);
  const authorities = section('authority', counts[2]);
  const additionals = section('additional', counts[3]);
  if (off !== msg.length)
    throw new DnsWireError(C.TRAILING_DATA, `${msg.length - off} bytes after the last record (at byte ${off})`, off);
  return new DNSMessage({
    id: msg.readUInt16BE(0),
    query: (flags & 0x8000) === 0,
    opCode: (flags >> 11) & 0xf,
    authoritativeAnswer: (flags & 0x0400) !== 0,
    truncation: (flags & 0x0200) !== 0,
    recursionDesired: (flags & 0x0100) !== 0,
    recursionAvailable: (flags & 0x0080) !== 0,
    reserved: (flags >> 4) & 0x7,
    responseCode: flags & 0xf,
    questions,
    answers,
    authorities,
    additionals,
    timestamp,
  });
}

function located(e: unknown, where: string): unknown {
  return e instanceof DnsWireError ? new DnsWireError(e.code, `DNS ${where}: ${e.message}`, e.offset) : e;
}

function range(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new DnsWireError(C.OUT_OF_RANGE, `DNS message's ${what} ${value} is out of range (0-${max}).`);
  return value;
}

/** Write a message (names uncompressed). @throws DnsWireError OUT_OF_RANGE for fields that do not fit. */
export function packMessage(m: DNSMessage): Buffer {
  const head = Buffer.alloc(HEADER);
  head.writeUInt16BE(range(m.id, 0xffff, 'id'), 0);
  let flags = m.query ? 0 : 0x8000;
  flags |= range(m.opCode, 0xf, 'op_code') << 11;
  if (m.authoritativeAnswer) flags |= 0x0400;
  if (m.truncation) flags |= 0x0200;
  if (m.recursionDesired) flags |= 0x0100;
  if (m.recursionAvailable) flags |= 0x0080;
  flags |= range(m.reserved, 0x7, 'reserved') << 4;
  flags |= range(m.responseCode, 0xf, 'response_code');
  head.writeUInt16BE(flags, 2);
  const records = [...m.answers, ...m.authorities, ...m.additionals];
  [m.questions.length, m.answers.length, m.authorities.length, m.additionals.length].forEach((n, i) =>
    head.writeUInt16BE(range(n, 0xffff, 'record count'), 4 + 2 * i),
  );
  const parts: Buffer[] = [head];
  for (const q of m.questions) {
    const tc = Buffer.alloc(4);
    tc.writeUInt16BE(range(q.type, 0xffff, 'question type'), 0);
    tc.writeUInt16BE(range(q.class_, 0xffff, 'question class'), 2);
    parts.push(packDomainName(q.name), tc);
  }
  for (const r of records) {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(range(r.type, 0xffff, 'record type'), 0);
    fixed.writeUInt16BE(range(r.class_, 0xffff, 'record class'), 2);
    fixed.writeUInt32BE(range(r.ttl, 0xffffffff, 'ttl'), 4);
    fixed.writeUInt16BE(range(r.data.length, 0xffff, 'record data length'), 8);
    parts.push(packDomainName(r.name), fixed, r.data);
  }
  return Buffer.concat(parts);
}

/** A message for DNS over TCP: the 2-byte length prefix (RFC 1035 section 4.2.2) and the message. */
export function frameTcp(message: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(range(message.length, 0xffff, 'TCP message length'), 0);
  return Buffer.concat([len, message]);
}

/** Splits a DNS-over-TCP byte stream into messages (without their length prefixes). */
export class TcpMessageReader {
  private buf: Buffer = Buffer.alloc(0);

  /** Add received bytes; returns the messages they complete. */
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.buf.length >= 2) {
      const len = this.buf.readUInt16BE(0);
      if (this.buf.length < 2 + len) break;
      out.push(this.buf.subarray(2, 2 + len));
      this.buf = this.buf.subarray(2 + len);
    }
    return out;
  }

  /** Bytes of an incomplete message. */
  get bufferedBytes(): number {
    return this.buf.length;
  }
}
