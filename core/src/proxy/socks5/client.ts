/**
 * The client side of a SOCKS5 handshake (CONNECT, optional username/password), without sockets:
 * for tests of the server side and, later, SOCKS5 upstream proxies.
 */
import { Buffer } from 'node:buffer';
import { type Socks5Address, encodeAddress, readAddress } from './address.js';
import { Socks5Error, Socks5ErrorCodes as C } from './errors.js';
import { HandshakeBuffer, join } from './handshake-buffer.js';
import { Socks5Command, Socks5Method, Socks5Reply } from './server.js';

/** The greeting: `05 NMETHODS METHODS...`. */
export function encodeGreeting(methods: readonly number[]): Buffer {
  return Buffer.from([0x05, methods.length, ...methods]);
}

/** The RFC 1929 username/password request. @throws RangeError when a field is over 255 bytes. */
export function encodeCredentials(username: string, password: string): Buffer {
  const u = Buffer.from(username, 'utf8');
  const p = Buffer.from(password, 'utf8');
  if (u.length > 255 || p.length > 255) throw new RangeError('SOCKS5 usernames and passwords are at most 255 bytes.');
  return Buffer.concat([Buffer.from([0x01, u.length]), u, Buffer.from([p.length]), p]);
}

/** A request (CONNECT by default) for `host:port`; IP literals go as addresses, names as domain names. */
export function encodeRequest(host: string, port: number, command: number = Socks5Command.CONNECT): Buffer {
  return Buffer.concat([Buffer.from([0x05, command, 0x00]), encodeAddress(host, port)]);
}

/** Names of reply codes, for messages. */
export const REPLY_NAMES: Record<number, string> = {
  [Socks5Reply.SUCCEEDED]: 'succeeded',
  [Socks5Reply.GENERAL_FAILURE]: 'general SOCKS server failure',
  [Socks5Reply.NOT_ALLOWED]: 'connection not allowed by ruleset',
  [Socks5Reply.NETWORK_UNREACHABLE]: 'network unreachable',
  [Socks5Reply.HOST_UNREACHABLE]: 'host unreachable',
  [Socks5Reply.CONNECTION_REFUSED]: 'connection refused',
  [Socks5Reply.TTL_EXPIRED]: 'TTL expired',
  [Socks5Reply.COMMAND_NOT_SUPPORTED]: 'command not supported',
  [Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED]: 'address type not supported',
};

/** What a client step produced. */
export interface Socks5ClientProgress {
  output: Buffer | null;
  event: { kind: 'connected'; bound: Socks5Address } | { kind: 'failed'; error: Socks5Error } | null;
}

type ClientState = 'method' | 'auth' | 'reply' | 'done' | 'failed';

/** Client side of one SOCKS5 CONNECT: write {@link start}'s bytes, then {@link push} each chunk from the server. */
export class Socks5ClientHandshake extends HandshakeBuffer {
  private state: ClientState = 'method';

  constructor(
    private readonly target: { host: string; port: number },
    private readonly credentials: { username: string; password: string } | null = null,
  ) {
    super();
  }

  /** The greeting: no authentication, plus username/password when credentials are given. */
  start(): Buffer {
    return encodeGreeting(
      this.credentials ? [Socks5Method.NO_AUTH, Socks5Method.USERNAME_PASSWORD] : [Socks5Method.NO_AUTH],
    );
  }

  push(chunk: Buffer): Socks5ClientProgress {
    this.append(chunk);
    const out: Buffer[] = [];
    for (;;) {
      const b = this.buf;
      if (this.state === 'method' && b.length >= 2) {
        const m = b[1]!;
        this.take(2);
        if (m === Socks5Method.USERNAME_PASSWORD && this.credentials) {
          out.push(encodeCredentials(this.credentials.username, this.credentials.password));
          this.state = 'auth';
        } else if (m === Socks5Method.NO_AUTH) {
          out.push(encodeRequest(this.target.host, this.target.port));
          this.state = 'reply';
        } else
          return this.fail(
            out,
            C.NO_ACCEPTABLE_METHOD,
            `The SOCKS5 server accepts none of the offered authentication methods (it answered 0x${m.toString(16).padStart(2, '0')}).`,
          );
      } else if (this.state === 'auth' && b.length >= 2) {
        const status = b[1]!;
        this.take(2);
        if (status !== 0) return this.fail(out, C.AUTH_FAILED, 'The SOCKS5 server refused the username and password.');
        out.push(encodeRequest(this.target.host, this.target.port));
        this.state = 'reply';
      } else if (this.state === 'reply' && b.length >= 4) {
        const addr = readAddress(b, 3);
        if (addr === null) break;
        if ('atyp' in addr)
          return this.fail(out, C.MALFORMED, `The SOCKS5 server replied with address type ${addr.atyp}.`);
        const rep = b[1]!;
        this.take(addr.end);
        if (rep !== Socks5Reply.SUCCEEDED) {
          return this.fail(
            out,
            C.REQUEST_FAILED,
            `The SOCKS5 server could not connect to ${this.target.host}:${this.target.port}: ${REPLY_NAMES[rep] ?? `reply 0x${rep.toString(16)}`}.`,
          );
        }
        this.state = 'done';
        return { output: join(out), event: { kind: 'connected', bound: addr.address } };
      } else break;
    }
    return { output: join(out), event: null };
  }

  private fail(out: Buffer[], code: (typeof C)[keyof typeof C], message: string): Socks5ClientProgress {
    this.state = 'failed';
    return { output: join(out), event: { kind: 'failed', error: new Socks5Error(code, message) } };
  }
}
