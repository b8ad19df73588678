import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';

/**
 * Host names and IP addresses as certificates carry them: IP detection with canonical text and
 * packed bytes (for iPAddress SANs), IDNA encoding for DNS names, wildcard lookup forms.
 */

/** The packed bytes of an IP address (4 or 16 bytes), or null if `s` is not an IP address. */
export function ipBytes(s: string): Buffer | null {
  if (isIPv4(s)) return ipv4Bytes(s);
  const bare = stripZone(s);
  if (isIPv6(bare)) return ipv6Bytes(bare);
  return null;
}

/**
 * The canonical text of an IP address (dotted quad, or RFC 5952 compressed lower-case IPv6, as
 * Python's `ipaddress` prints it), or null if `s` is not an IP address.
 */
export function canonicalIp(s: string): string | null {
  if (isIPv4(s)) return s;
  const bare = stripZone(s);
  if (!isIPv6(bare)) return null;
  return formatIpv6(ipv6Bytes(bare));
}

/** Format packed IP bytes (4 or 16) as text; IPv6 compressed per RFC 5952. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  return formatIpv6(bytes);
}

/**
 * Normalize a name for a SAN: an IP address becomes its canonical text; a DNS name with non-ASCII
 * characters is IDNA-encoded (A-labels); a plain ASCII name is kept as is (case too, as
 * mitmproxy's `idna` codec does). Returns null for a name that cannot be encoded (empty, or an
 * invalid internationalized name).
 */
export function normalizeName(name: string): string | null {
  if (name.length === 0) return null;
  if (isAscii(name)) return canonicalIp(name) ?? name;
  const ascii = domainToASCII(name);
  return ascii.length > 0 ? ascii : null;
}

/**
 * The lookup forms of a name: the name itself, then each wildcard form replacing leading labels
 * (`www.example.com` -> `www.example.com`, `*.example.com`, `*.com`). The single `*` is not
 * included. IP addresses have no wildcard forms.
 */
export function asteriskForms(name: string): string[] {
  const out = [name];
  if (ipBytes(name) !== null) return out;
  let i = name.indexOf('.');
  while (i !== -1) {
    out.push('*' + name.slice(i));
    i = name.indexOf('.', i + 1);
  }
  return out;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function stripZone(s: string): string {
  const pct = s.indexOf('%');
  return pct === -1 ? s : s.slice(0, pct);
}

function ipv4Bytes(s: string): Buffer {
  const out = Buffer.allocUnsafe(4);
  const parts = s.split('.');
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

/** Packed bytes of a valid IPv6 address (validated by net.isIPv6 first). */
function ipv6Bytes(s: string): Buffer {
  const out = Buffer.alloc(16);
  let tail = s;
  let v4: Buffer | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    v4 = ipv4Bytes(s.slice(lastColon + 1));
    tail = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = tail.indexOf('::');
  const head = dbl === -1 ? tail : tail.slice(0, dbl);
  const rest = dbl === -1 ? '' : tail.slice(dbl + 2);
  const headGroups = head.length ? head.split(':') : [];
  const restGroups = rest.length ? rest.split(':') : [];
  for (let i = 0; i < headGroups.length; i++) out.writeUInt16BE(parseInt(headGroups[i]!, 16), i * 2);
  const offset = 8 - restGroups.length;
  for (let i = 0; i < restGroups.length; i++) out.writeUInt16BE(parseInt(restGroups[i]!, 16), (offset + i) * 2);
  if (v4) v4.copy(out, 12);
  return out;
}

function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // Longest run of two or more zero groups; the first one wins a tie (RFC 5952 4.2.3).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}
