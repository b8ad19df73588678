import type { DNSFlowState, DNSMessageState, DNSQuestionState, DNSResourceRecordState } from './state.js';
import { Flow, flowStateKeys, registerFlowType } from './flow.js';
import { checkKeys, type Client, type Server } from './connection.js';

/** Common DNS record types. */
export const DNSType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  SVCB: 64,
  HTTPS: 65,
  ANY: 255,
} as const;

/** DNS classes. */
export const DNSClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

/** DNS op codes. */
export const DNSOpCode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5, DSO: 6 } as const;

/** DNS response codes. */
export const DNSResponseCode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** Name of a record type (`A`, `AAAA`, ...) or `TYPE(n)`. */
export function dnsTypeName(type: number): string {
  for (const [k, v] of Object.entries(DNSType)) if (v === type) return k;
  return `TYPE(${type})`;
}

/** Read an uncompressed wire-format domain name. @throws Error if malformed. */
export function unpackDomainName(data: Buffer): string {
  const labels: string[] = [];
  let off = 0;
  for (;;) {
    if (off >= data.length) throw new Error('unexpected end of domain name');
    const len = data[off]!;
    if (len === 0) {
      off += 1;
      break;
    }
    if (len & 0xc0) throw new Error('compressed domain names are not supported here');
    if (off + 1 + len > data.length) throw new Error('domain name label exceeds data');
    labels.push(data.subarray(off + 1, off + 1 + len).toString('utf8'));
    off += 1 + len;
  }
  if (off !== data.length) throw new Error('trailing data after domain name');
  return labels.join('.');
}

/** Wire-format (uncompressed) domain name. */
export function packDomainName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.split('.')) {
    if (!label) continue;
    const b = Buffer.from(label, 'utf8');
    if (b.length > 63) throw new Error(`DNS label '${label}' is longer than 63 bytes.`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** A question: name, type, class. */
export class DNSQuestion {
  constructor(
    public name: string,
    public type: number,
    public class_: number,
  ) {}

  static fromState(s: DNSQuestionState): DNSQuestion {
    checkKeys(s, ['name', 'type', 'class_'], 'DNS question');
    return new DNSQuestion(s.name, s.type, s.class_);
  }

  getState(): DNSQuestionState {
    return { name: this.name, type: this.type, class_: this.class_ };
  }

  toString(): string {
    return this.name;
  }
}

function ipv6(data: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(data.readUInt16BE(i).toString(16));
  // Compress the longest run of zero groups, as Python's ipaddress does.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best === -1) return groups.join(':');
  return groups.slice(0, best).join(':') + '::' + groups.slice(best + bestLen).join(':');
}

/** A resource record; `data` is the wire-format rdata. */
export class DNSResourceRecord {
  static readonly DEFAULT_TTL = 60;

  constructor(
    public name: string,
    public type: number,
    public class_: number,
    public ttl: number,
    public data: Buffer,
  ) {}

  static fromState(s: DNSResourceRecordState): DNSResourceRecord {
    checkKeys(s, ['name', 'type', 'class_', 'ttl', 'data'], 'DNS resource record');
    return new DNSResourceRecord(s.name, s.type, s.class_, s.ttl, s.data);
  }

  static A(name: string, ip: string, ttl = DNSResourceRecord.DEFAULT_TTL): DNSResourceRecord {
    return new DNSResourceRecord(name, DNSType.A, DNSClass.IN, ttl, Buffer.from(ip.split('.').map(Number)));
  }

  static TXT(name: string, text: string, ttl = DNSResourceRecord.DEFAULT_TTL): DNSResourceRecord {
    return new DNSResourceRecord(name, DNSType.TXT, DNSClass.IN, ttl, Buffer.from(text, 'utf8'));
  }

  static CNAME(alias: string, canonical: string, ttl = DNSResourceRecord.DEFAULT_TTL): DNSResourceRecord {
    return new DNSResourceRecord(alias, DNSType.CNAME, DNSClass.IN, ttl, packDomainName(canonical));
  }

  getState(): DNSResourceRecordState {
    return { name: this.name, type: this.type, class_: this.class_, ttl: this.ttl, data: this.data };
  }

  /** The record data as text: an address, a domain name, TXT text, or `0x<hex>`. */
  toString(): string {
    try {
      if (this.type === DNSType.A && this.data.length === 4) return Array.from(this.data).join('.');
      if (this.type === DNSType.AAAA && this.data.length === 16) return ipv6(this.data);
      if (this.type === DNSType.NS || this.type === DNSType.CNAME || this.type === DNSType.PTR)
        return unpackDomainName(this.data);
      if (this.type === DNSType.TXT) return this.data.toString('utf8');
      if (this.type === DNSType.A || this.type === DNSType.AAAA) throw new Error('bad length');
    } catch {
      return `0x${this.data.toString('hex')} (invalid ${dnsTypeName(this.type)} data)`;
    }
    return `0x${this.data.toString('hex')}`;
  }
}

const MESSAGE_KEYS = [
  'id',
  'query',
  'op_code',
  'authoritative_answer',
  'truncation',
  'recursion_desired',
  'recursion_available',
  'reserved',
  'response_code',
  'questions',
  'answers',
  'authorities',
  'additionals',
  'timestamp',
];

/** Fields of a DNS message. */
export interface DNSMessageInit {
  id: number;
  query: boolean;
  opCode?: number;
  authoritativeAnswer?: boolean;
  truncation?: boolean;
  recursionDesired?: boolean;
  recursionAvailable?: boolean;
  reserved?: number;
  responseCode?: number;
  questions?: DNSQuestion[];
  answers?: DNSResourceRecord[];
  authorities?: DNSResourceRecord[];
  additionals?: DNSResourceRecord[];
  timestamp?: number | null;
}

/** A DNS query or response (data only; no wire codec yet). */
export class DNSMessage {
  id: number;
  /** True for a query, false for a response. */
  query: boolean;
  opCode: number;
  authoritativeAnswer: boolean;
  truncation: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  reserved: number;
  responseCode: number;
  questions: DNSQuestion[];
  answers: DNSResourceRecord[];
  authorities: DNSResourceRecord[];
  additionals: DNSResourceRecord[];
  /** When it was sent or received, seconds since the epoch. */
  timestamp: number | null;

  constructor(init: DNSMessageInit) {
    this.id = init.id;
    this.query = init.query;
    this.opCode = init.opCode ?? DNSOpCode.QUERY;
    this.authoritativeAnswer = init.authoritativeAnswer ?? false;
    this.truncation = init.truncation ?? false;
    this.recursionDesired = init.recursionDesired ?? false;
    this.recursionAvailable = init.recursionAvailable ?? false;
    this.reserved = init.reserved ?? 0;
    this.responseCode = init.responseCode ?? DNSResponseCode.NOERROR;
    this.questions = init.questions ?? [];
    this.answers = init.answers ?? [];
    this.authorities = init.authorities ?? [];
    this.additionals = init.additionals ?? [];
    this.timestamp = init.timestamp === undefined ? Date.now() / 1000 : init.timestamp;
  }

  static fromState(s: DNSMessageState): DNSMessage {
    checkKeys(s, MESSAGE_KEYS, 'DNS message');
    return new DNSMessage({
      id: s.id,
      query: s.query,
      opCode: s.op_code,
      authoritativeAnswer: s.authoritative_answer,
      truncation: s.truncation,
      recursionDesired: s.recursion_desired,
      recursionAvailable: s.recursion_available,
      reserved: s.reserved,
      responseCode: s.response_code,
      questions: s.questions.map((q) => DNSQuestion.fromState(q)),
      answers: s.answers.map((r) => DNSResourceRecord.fromState(r)),
      authorities: s.authorities.map((r) => DNSResourceRecord.fromState(r)),
      additionals: s.additionals.map((r) => DNSResourceRecord.fromState(r)),
      timestamp: s.timestamp,
    });
  }

  getState(): DNSMessageState {
    return {
      id: this.id,
      query: this.query,
      op_code: this.opCode,
      authoritative_answer: this.authoritativeAnswer,
      truncation: this.truncation,
      recursion_desired: this.recursionDesired,
      recursion_available: this.recursionAvailable,
      reserved: this.reserved,
      response_code: this.responseCode,
      questions: this.questions.map((q) => q.getState()),
      answers: this.answers.map((r) => r.getState()),
      authorities: this.authorities.map((r) => r.getState()),
      additionals: this.additionals.map((r) => r.getState()),
      timestamp: this.timestamp,
    };
  }

  copy(): DNSMessage {
    return DNSMessage.fromState(this.getState());
  }

  /**
   * Text rendering, as mitmproxy's `str(message)`: questions (names) and records (their data),
   * one per line, CRLF-separated. This is what `~b` filters search.
   */
  toText(): string {
    return [...this.questions, ...this.answers, ...this.authorities, ...this.additionals].map(String).join('\r\n');
  }

  toString(): string {
    return this.toText();
  }

  /** {@link toText} as UTF-8 bytes. */
  get content(): Buffer {
    return Buffer.from(this.toText(), 'utf8');
  }

  /** Total rdata size of all record sections. */
  get size(): number {
    return [...this.answers, ...this.authorities, ...this.additionals].reduce((n, r) => n + r.data.length, 0);
  }

  /** A response to this query with an error code (not NOERROR). */
  fail(responseCode: number): DNSMessage {
    if (responseCode === DNSResponseCode.NOERROR) throw new Error('responseCode must be an error code.');
    return new DNSMessage({
      id: this.id,
      query: false,
      opCode: this.opCode,
      recursionDesired: this.recursionDesired,
      responseCode,
      questions: this.questions,
    });
  }

  /** A successful response to this query with the given answers. */
  succeed(answers: DNSResourceRecord[]): DNSMessage {
    return new DNSMessage({
      id: this.id,
      query: false,
      opCode: this.opCode,
      recursionDesired: this.recursionDesired,
      recursionAvailable: true,
      questions: this.questions,
      answers,
    });
  }
}

const KEYS = flowStateKeys('dns', ['request', 'response']);

/** A DNS query and its response. */
export class DNSFlow extends Flow {
  readonly type = 'dns' as const;
  declare request: DNSMessage;
  response: DNSMessage | null = null;

  constructor(clientConn: Client, serverConn: Server, live = false) {
    super(clientConn, serverConn, live);
  }

  static override fromState(state: DNSFlowState, adopt = false): DNSFlow {
    const f = new DNSFlow(undefined as never, undefined as never);
    f.setState(state, adopt);
    return f;
  }

  getState(): DNSFlowState {
    return this.withBackup({
      ...this.baseState(),
      type: 'dns',
      request: this.request.getState(),
      response: this.response ? this.response.getState() : null,
    });
  }

  setState(state: DNSFlowState, adopt = false): void {
    this.setBaseState(state, KEYS, adopt);
    this.request = DNSMessage.fromState(state.request);
    this.response = state.response ? DNSMessage.fromState(state.response) : null;
  }

  override toString(): string {
    return `<DNSFlow ${this.request.questions[0]?.name ?? ''}>`;
  }
}

registerFlowType('dns', (s, adopt) => DNSFlow.fromState(s as DNSFlowState, adopt));
