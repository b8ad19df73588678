import type { ClientHello } from '../../hooks/data.js';

/** Do these first bytes start a TLS handshake record (ContentType 22, version 3.x)? */
export function looksLikeTls(buf: Buffer): boolean {
  return buf.length >= 3 && buf[0] === 0x16 && buf[1] === 0x03 && buf[2]! <= 0x04;
}

export class ClientHelloError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientHelloError';
  }
}

/**
 * Parse a TLS ClientHello from the start of a connection's bytes (it may span several records).
 * Returns null while more bytes are needed; throws ClientHelloError for something that is not a
 * ClientHello.
 */
export function parseClientHello(buf: Buffer): ClientHello | null {
  // Reassemble the handshake message from the records.
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  while (need < 0 || have < need) {
    if (buf.length < off + 5) return null;
    if (buf[off] !== 0x16)
      throw new ClientHelloError(`expected a TLS handshake record at byte ${off}, got content type ${buf[off]}`);
    const len = buf.readUInt16BE(off + 3);
    if (buf.length < off + 5 + len) return null;
    const frag = buf.subarray(off + 5, off + 5 + len);
    parts.push(frag);
    have += frag.length;
    off += 5 + len;
    if (need < 0) {
      const first = Buffer.concat(parts);
      if (first.length < 4) continue;
      if (first[0] !== 0x01)
        throw new ClientHelloError(`expected a ClientHello (handshake type 1), got type ${first[0]}`);
      need = 4 + first.readUIntBE(1, 3);
      if (need > 1 << 17) throw new ClientHelloError(`ClientHello too large (${need} bytes)`);
    }
  }
  const msg = (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).subarray(4, need);
  const raw = buf.subarray(0, off);
  return parseBody(msg, raw);
}

function parseBody(m: Buffer, raw: Buffer): ClientHello {
  let p = 0;
  const need = (n: number, what: string): void => {
    if (p + n > m.length) throw new ClientHelloError(`truncated ClientHello while reading ${what}`);
  };
  need(2 + 32, 'version and random');
  p += 34;
  need(1, 'session id');
  p += 1 + m[p]!;
  need(2, 'cipher suites');
  const csLen = m.readUInt16BE(p);
  p += 2;
  need(csLen, 'cipher suites');
  const cipherSuites: number[] = [];
  for (let i = 0; i + 1 < csLen; i += 2) cipherSuites.push(m.readUInt16BE(p + i));
  p += csLen;
  need(1, 'compression methods');
  p += 1 + m[p]!;
  const extensions: Array<readonly [number, Buffer]> = [];
  let sni: string | null = null;
  const alpnProtocols: string[] = [];
  if (p + 2 <= m.length) {
    const extEnd = Math.min(m.length, p + 2 + m.readUInt16BE(p));
    p += 2;
    while (p + 4 <= extEnd) {
      const type = m.readUInt16BE(p);
      const len = m.readUInt16BE(p + 2);
      const data = m.subarray(p + 4, p + 4 + len);
      p += 4 + len;
      extensions.push([type, data] as const);
      if (type === 0 && data.length >= 5) {
        // server_name list: [len u16][type u8][name len u16][name]
        let q = 2;
        while (q + 3 <= data.length) {
          const nameType = data[q]!;
          const nameLen = data.readUInt16BE(q + 1);
          if (nameType === 0) {
            sni = data.toString('latin1', q + 3, q + 3 + nameLen);
            break;
          }
          q += 3 + nameLen;
        }
      } else if (type === 16 && data.length >= 2) {
        let q = 2;
        while (q < data.length) {
          const l = data[q]!;
          alpnProtocols.push(data.toString('latin1', q + 1, q + 1 + l));
          q += 1 + l;
        }
      }
    }
  }
  return { sni, alpnProtocols, cipherSuites, extensions, raw };
}
