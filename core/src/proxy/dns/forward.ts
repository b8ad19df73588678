/**
 * Send one DNS query to a name server and read its answer: over UDP (one socket per query, the
 * answer matched by id and source) or over TCP (RFC 1035 section 4.2.2 framing). Errors are
 * UpstreamErrors naming the server.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Address } from '../../flow/state.js';
import { UpstreamError } from '../errors.js';
import { formatAddress } from '../upstream-proxy.js';
import { frameTcp, TcpMessageReader } from './message.js';

/** How long a name server has to answer. */
export const DNS_TIMEOUT_MS = 5_000;

/** The answer of `server` to `query` (a DNS message), over `transport`. */
export function forwardQuery(query: Buffer, server: Address, transport: 'udp' | 'tcp'): Promise<Buffer> {
  return transport === 'udp' ? overUdp(query, server) : overTcp(query, server);
}

function overUdp(query: Buffer, [host, port]: Address): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    const done = (err: Error | null, answer?: Buffer): void => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(
      () =>
        done(
          new UpstreamError(
            `DNS server ${formatAddress([host, port])} did not answer within ${DNS_TIMEOUT_MS / 1000} s.`,
          ),
        ),
      DNS_TIMEOUT_MS,
    );
    socket.on('message', (msg, from) => {
      // Only the server's answer to this query (a spoofed or stray datagram is ignored).
      if (from.port === port && msg.length >= 2 && msg.readUInt16BE(0) === id) done(null, msg);
    });
    socket.on('error', (err) => done(new UpstreamError(`DNS server ${formatAddress([host, port])}: ${err.message}`)));
    socket.send(query, port, host);
  });
}

function overTcp(query: Buffer, [host, port]: Address): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const where = formatAddress([host, port]);
    const socket = net.connect({ host, port });
    const reader = new TcpMessageReader();
    const done = (err: Error | null, answer?: Buffer): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(
      () => done(new UpstreamError(`DNS server ${where} did not answer within ${DNS_TIMEOUT_MS / 1000} s.`)),
      DNS_TIMEOUT_MS,
    );
    socket.on('connect', () => socket.write(frameTcp(query)));
    socket.on('data', (d: Buffer) => {
      const [answer] = reader.push(d);
      if (answer) done(null, Buffer.from(answer));
    });
    socket.on('error', (err) => done(new UpstreamError(`DNS server ${where}: ${err.message}`)));
    socket.on('close', () => done(new UpstreamError(`DNS server ${where} closed the connection without an answer.`)));
  });
}
