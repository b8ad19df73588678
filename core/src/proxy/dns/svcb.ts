/**
 * SVCB (type 64) and HTTPS (type 65) record data (RFC 9460 section 2.2):
 *
 * ```
 * SvcPriority (2) | TargetName (uncompressed name) | SvcParams: key (2) length (2) value ...
 * ```
 * `dns-packet` and the flow model keep such rdata as bytes; this codec reads and writes the
 * parameters so that `strip_dns_https_records` can remove `h3` from `alpn` (clients then use
 * HTTP/2 or HTTP/1.1 over TCP, which the proxy can intercept) and drop `ech`.
 */
import { Buffer } from 'node:buffer';
import { type DNSResourceRecord, DNSType, packDomainName } from '../../flow/dns.js';
import { formatIp, ipBytes } from '../../certs/names.js';
import { DnsWireError, DnsWireErrorCodes as C } from './errors.js';
import { readName } from './names.js';

/** SvcParamKeys (RFC 9460 section 14.3.2). */
export const SvcParamKey = {
  MANDATORY: 0,
  ALPN: 1,
  NO_DEFAULT_ALPN: 2,
  PORT: 3,
  IPV4HINT: 4,
  ECH: 5,
  IPV6HINT: 6,
} as const;

/** SVCB/HTTPS record data. `params` are in ascending key order, values as on the wire. */
export interface SvcbData {
  /** 0: AliasMode; 1-65535: ServiceMode, lower is preferred. */
  priority: number;
  /** Target name, '' for the root ("." : the owner name itself). */
  targetName: string;
  params: Array<[key: number, value: Buffer]>;
}

function bad(message: string, offset = -1): never {
  throw new DnsWireError(C.BAD_SVCB, `SVCB/HTTPS record data: ${message}`, offset);
}

/** Length-prefixed strings (alpn ids), each 1-255 bytes. */
function readIds(v: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p < v.length;) {
    const n = v[p]!;
    if (n === 0 || p + 1 + n > v.length)
      bad(`alpn has ${n === 0 ? 'an empty protocol id' : 'a protocol id running past the value'}`);
    out.push(v.subarray(p + 1, p + 1 + n));
    p += 1 + n;
  }
  return out;
}

function check(key: number, v: Buffer): void {
  const ok = (cond: boolean, what: string): void => {
    if (!cond) bad(`${keyName(key)} ${what} (${v.length} bytes)`);
  };
  if (key === SvcParamKey.MANDATORY) ok(v.length > 0 && v.length % 2 === 0, 'must list 2-byte keys');
  else if (key === SvcParamKey.ALPN) ok(v.length > 0 && readIds(v).length > 0, 'must list protocol ids');
  else if (key === SvcParamKey.NO_DEFAULT_ALPN) ok(v.length === 0, 'takes no value');
  else if (key === SvcParamKey.PORT) ok(v.length === 2, 'must be 2 bytes');
  else if (key === SvcParamKey.IPV4HINT) ok(v.length > 0 && v.length % 4 === 0, 'must list 4-byte addresses');
  else if (key === SvcParamKey.IPV6HINT) ok(v.length > 0 && v.length % 16 === 0, 'must list 16-byte addresses');
}

/** Name of a key as in presentation format (`alpn`, `key667`). */
export function keyName(key: number): string {
  return ['mandatory', 'alpn', 'no-default-alpn', 'port', 'ipv4hint', 'ech', 'ipv6hint'][key] ?? `key${key}`;
}

/**
 * Read SVCB/HTTPS rdata.
 * @throws DnsWireError BAD_SVCB for keys out of order, bad value lengths, a mandatory list naming
 * absent keys or itself; TRUNCATED/BAD_NAME for a bad target name (names here are never compressed).
 */
export function parseSvcb(data: Buffer): SvcbData {
  if (data.length < 3) bad(`${data.length} bytes is too short for a priority and a target name`);
  const priority = data.readUInt16BE(0);
  const { name: targetName, end } = readName(data, 2);
  const params: Array<[number, Buffer]> = [];
  let last = -1;
  for (let p = end; p < data.length;) {
    if (p + 4 > data.length) bad(`a parameter header at byte ${p} runs past the data`, p);
    const key = data.readUInt16BE(p);
    const len = data.readUInt16BE(p + 2);
    if (key <= last) bad(`key ${keyName(key)} after ${keyName(last)}: keys must be in strictly increasing order`, p);
    if (p + 4 + len > data.length) bad(`the value of ${keyName(key)} runs past the data`, p);
    const value = data.subarray(p + 4, p + 4 + len);
    check(key, value);
    params.push([key, value]);
    last = key;
    p += 4 + len;
  }
  const mandatory = params.find(([k]) => k === SvcParamKey.MANDATORY)?.[1];
  if (mandatory) {
    for (let i = 0; i < mandatory.length; i += 2) {
      const k = mandatory.readUInt16BE(i);
      if (k === SvcParamKey.MANDATORY) bad('mandatory lists itself');
      if (i > 0 && k <= mandatory.readUInt16BE(i - 2))
        bad('the keys in mandatory must be in strictly increasing order');
      if (!params.some(([x]) => x === k)) bad(`mandatory lists ${keyName(k)}, which the record does not have`);
    }
  }
  return { priority, targetName, params };
}

/** Write SVCB/HTTPS rdata (parameters sorted by key). */
export function packSvcb(d: SvcbData): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(d.priority, 0);
  const parts = [head, packDomainName(d.targetName)];
  for (const [key, value] of [...d.params].sort((a, b) => a[0] - b[0])) {
    const kl = Buffer.alloc(4);
    kl.writeUInt16BE(key, 0);
    kl.writeUInt16BE(value.length, 2);
    parts.push(kl, value);
  }
  return Buffer.concat(parts);
}

/** The value of a parameter, or undefined. */
export function svcParam(d: SvcbData, key: number): Buffer | undefined {
  return d.params.find(([k]) => k === key)?.[1];
}

/** The `alpn` protocol ids (e.g. `['h3', 'h2']`), or null without `alpn`. */
export function svcbAlpn(d: SvcbData): string[] | null {
  const v = svcParam(d, SvcParamKey.ALPN);
  return v ? readIds(v).map((id) => id.toString('latin1')) : null;
}

/** Presentation-like text of the parameters, for logs and display: `1 . alpn=h3,h2 ipv4hint=192.0.2.1`. */
export function formatSvcb(d: SvcbData): string {
  const params = d.params.map(([k, v]) => {
    if (k === SvcParamKey.ALPN) return `alpn=${svcbAlpn(d)!.join(',')}`;
    if (k === SvcParamKey.NO_DEFAULT_ALPN) return 'no-default-alpn';
    if (k === SvcParamKey.PORT) return `port=${v.readUInt16BE(0)}`;
    if (k === SvcParamKey.MANDATORY)
      return `mandatory=${Array.from({ length: v.length / 2 }, (_, i) => keyName(v.readUInt16BE(2 * i))).join(',')}`;
    if (k === SvcParamKey.IPV4HINT)
      return `ipv4hint=${Array.from({ length: v.length / 4 }, (_, i) => formatIp(v.subarray(4 * i, 4 * i + 4))).join(',')}`;
    if (k === SvcParamKey.IPV6HINT)
      return `ipv6hint=${Array.from({ length: v.length / 16 }, (_, i) => formatIp(v.subarray(16 * i, 16 * i + 16))).join(',')}`;
    if (k === SvcParamKey.ECH) return `ech=${v.toString('base64')}`;
    return `${keyName(k)}=${v.toString('hex')}`;
  });
  return [String(d.priority), d.targetName === '' ? '.' : `${d.targetName}.`, ...params].join(' ');
}

/** Remove a parameter and its entry in `mandatory` (dropping `mandatory` when it empties). */
function withoutKey(d: SvcbData, key: number): SvcbData {
  let params = d.params.filter(([k]) => k !== key);
  const mandatory = svcParam(d, SvcParamKey.MANDATORY);
  if (mandatory) {
    const keys: number[] = [];
    for (let i = 0; i < mandatory.length; i += 2)
      if (mandatory.readUInt16BE(i) !== key) keys.push(mandatory.readUInt16BE(i));
    params = params.filter(([k]) => k !== SvcParamKey.MANDATORY);
    if (keys.length) params.unshift([SvcParamKey.MANDATORY, Buffer.from(keys.flatMap((k) => [k >> 8, k & 0xff]))]);
  }
  return { ...d, params };
}

const isHttp3 = (id: string): boolean => id === 'h3' || id.startsWith('h3-');

/**
 * Remove HTTP/3 (`h3` and the drafts `h3-NN`) from `alpn`, as mitmproxy's
 * `strip_dns_https_records` does when `http3` is off. When no id is left, `alpn` goes, and with it
 * `no-default-alpn` (which needs `alpn`, RFC 9460 section 7.1.1) and its `mandatory` entry.
 * @returns the new data, or null if there was no HTTP/3 to remove.
 */
export function stripHttp3(d: SvcbData): SvcbData | null {
  const alpn = svcbAlpn(d);
  if (alpn === null || !alpn.some(isHttp3)) return null;
  const kept = alpn.filter((id) => !isHttp3(id));
  if (kept.length === 0) return withoutKey(withoutKey(d, SvcParamKey.ALPN), SvcParamKey.NO_DEFAULT_ALPN);
  const value = Buffer.concat(kept.map((id) => Buffer.concat([Buffer.from([id.length]), Buffer.from(id, 'latin1')])));
  return { ...d, params: d.params.map(([k, v]) => [k, k === SvcParamKey.ALPN ? value : v]) };
}

/** Remove Encrypted ClientHello configs (`ech`), as mitmproxy's `strip_ech`; null if there were none. */
export function stripEch(d: SvcbData): SvcbData | null {
  return svcParam(d, SvcParamKey.ECH) ? withoutKey(d, SvcParamKey.ECH) : null;
}

/**
 * Apply an edit to an SVCB/HTTPS resource record in place: parse its data, run `edit`, write the
 * result back when it changed. Records of other types are left alone.
 * @returns whether the record changed.
 */
export function editSvcbRecord(record: DNSResourceRecord, edit: (d: SvcbData) => SvcbData | null): boolean {
  if (record.type !== DNSType.SVCB && record.type !== DNSType.HTTPS) return false;
  const changed = edit(parseSvcb(record.data));
  if (changed === null) return false;
  record.data = packSvcb(changed);
  return true;
}

/** An `ipv4hint`/`ipv6hint` value from addresses (for building records in tests and addons). */
export function addressHint(addresses: readonly string[]): Buffer {
  return Buffer.concat(
    addresses.map((a) => {
      const b = ipBytes(a);
      if (b === null) throw new TypeError(`Not an IP address: ${JSON.stringify(a)}`);
      return b;
    }),
  );
}
