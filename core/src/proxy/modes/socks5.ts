import type { Socks5AuthData } from '../../hooks/data.js';
import type { ClientConnection } from '../connection.js';
import { UpstreamError } from '../errors.js';
import { type Socks5Address, type Socks5Event, Socks5Reply, Socks5ServerHandshake } from '../socks5/index.js';

/**
 * SOCKS5 mode: the handshake of the `socks5/` codec (no authentication, or username/password
 * when `proxyauth` is set, checked by the `socks5_auth` hook as mitmproxy does), then the CONNECT
 * target (IPv4, IPv6 or a domain name) becomes a tunnel with the same layers as after an HTTP
 * CONNECT: TLS interception, HTTP, raw TCP, passthrough for ignored hosts.
 */
export async function socks5Mode(conn: ClientConnection): Promise<void> {
  const hs = new Socks5ServerHandshake({ requireAuth: conn.config.proxyAuth });
  const target = await handshake(conn, hs);
  if (target === null) return;
  const connector = conn.connector;
  const server = connector.newServer(target.host, target.port);
  connector.server = server;
  if (conn.config.connectionStrategy === 'eager' || conn.ignored(target.host, target.port)) {
    try {
      await connector.connectTo(server, null);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      conn.log.info(`${conn.describe()}: SOCKS5 CONNECT to ${target.host}:${target.port} failed: ${err.message}`);
      conn.socket.end(hs.answerConnect(replyFor(err)));
      return;
    }
  }
  conn.socket.write(hs.answerConnect(Socks5Reply.SUCCEEDED));
  await conn.tunnel(target, hs.takeRemaining());
}

/** Run the handshake up to its CONNECT request; null when it failed or the client left (logged). */
function handshake(conn: ClientConnection, hs: Socks5ServerHandshake): Promise<Socks5Address | null> {
  const socket = conn.socket;
  return new Promise((resolve, reject) => {
    let user = '';
    const finish = (v: Socks5Address | null): void => {
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.pause();
      resolve(v);
    };
    const step = (output: Buffer | null, event: Socks5Event | null): void => {
      if (output) socket.write(output);
      if (event === null) return;
      if (event.kind === 'failed') {
        const who = user ? ` (user ${JSON.stringify(user)})` : '';
        conn.log.info(`${conn.describe()}: ${event.error.message}${who}`);
        socket.end();
        return finish(null);
      }
      if (event.kind === 'connect') return finish(event.target);
      user = event.username;
      socket.pause();
      const data: Socks5AuthData = {
        clientConn: conn.client,
        username: event.username,
        password: event.password,
        valid: false,
      };
      const r = conn.hooks.trigger('socks5_auth', data);
      const answer = (): void => {
        const p = hs.answerCredentials(data.valid);
        if (!socket.destroyed) socket.resume();
        step(p.output, p.event);
      };
      if (r) r.then(answer, reject);
      else answer();
    };
    const onData = (chunk: Buffer): void => {
      const p = hs.push(chunk);
      step(p.output, p.event);
    };
    const onEnd = (): void => {
      conn.log.debug(`${conn.describe()}: the client closed the connection before completing the SOCKS5 handshake.`);
      socket.end();
      finish(null);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
}

/** The SOCKS5 reply for a failed connect (mitmproxy always answers "host unreachable"; the cause is more useful). */
function replyFor(err: UpstreamError): number {
  switch (err.code) {
    case 'ECONNREFUSED':
      return Socks5Reply.CONNECTION_REFUSED;
    case 'ENETUNREACH':
      return Socks5Reply.NETWORK_UNREACHABLE;
    default:
      return Socks5Reply.HOST_UNREACHABLE;
  }
}
