/**
 * The server side of a SOCKS5 handshake (RFC 1928, username/password RFC 1929), without
 * sockets: push the client's bytes in, write what comes back, answer the two questions only
 * the proxy can answer (are these credentials right? did the connection to the target work?).
 *
 * ```
 * client: 05 NMETHODS METHODS...         server: 05 METHOD
 * client: 01 ULEN UNAME PLEN PASSWD      server: 01 STATUS            (method 02 only)
 * client: 05 CMD 00 ATYP ADDR PORT       server: 05 REP 00 ATYP ADDR PORT
 * ```
 * After a successful reply the connection is a plain tunnel: {@link Socks5ServerHandshake.takeRemaining}
 * gives the bytes the client already sent past the request (e.g. a TLS ClientHello).
 */
import { Buffer } from 'node:buffer';
import { type Socks5Address, encodeAddress, readAddress } from './address.js';
import { Socks5Error, Socks5ErrorCodes as C } from './errors.js';
import { HandshakeBuffer, join } from './handshake-buffer.js';

/** Authentication methods (RFC 1928 section 3). */
export const Socks5Method = { NO_AUTH: 0x00, GSSAPI: 0x01, USERNAME_PASSWORD: 0x02, NO_ACCEPTABLE: 0xff } as const;

/** Commands (RFC 1928 section 4). Only CONNECT is supported. */
export const Socks5Command = { CONNECT: 0x01, BIND: 0x02, UDP_ASSOCIATE: 0x03 } as const;

/** Reply codes (RFC 1928 section 6). */
export const Socks5Reply = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;

/** What the handshake needs from the proxy, or how it ended. */
export type Socks5Event =
  /** Username/password arrived: check them, then call `answerCredentials(ok)`. */
  | { kind: 'credentials'; username: string; password: string }
  /** The CONNECT request: connect to `target`, then call `answerConnect(reply, bound)`. */
  | { kind: 'connect'; target: Socks5Address }
  /** The handshake failed: write `output` (if any), log the error, close the connection. */
  | { kind: 'failed'; error: Socks5Error };

/** What one step produced: bytes to write to the client (in order), and an event or null (waiting for bytes). */
export interface Socks5Progress {
  output: Buffer | null;
  event: Socks5Event | null;
}

/** Options of a {@link Socks5ServerHandshake}. */
export interface Socks5ServerOptions {
  /** Require username/password (method 02), as when `proxyauth` is set; else require no authentication (method 00). */
  requireAuth: boolean;
}

type State = 'greeting' | 'auth' | 'auth-wait' | 'request' | 'connect-wait' | 'done' | 'failed';

/** Why bytes that are not SOCKS5 reached a SOCKS5 listener, and what to do about it. */
function notSocks5(first: number, b: Buffer): Socks5Error {
  const fix =
    'Configure the client for SOCKS5 (e.g. curl --socks5-hostname HOST:PORT, Chromium --proxy-server=socks5://HOST:PORT).';
  if (first === 0x04)
    return new Socks5Error(
      C.NOT_SOCKS5,
      `A SOCKS4 client connected to a SOCKS5 listener; SOCKS4 is not supported. ${fix}`,
      0,
    );
  if (first === 0x16)
    return new Socks5Error(
      C.NOT_SOCKS5,
      `A TLS ClientHello arrived at a SOCKS5 listener: the client talks TLS directly. ${fix}`,
      0,
    );
  const head = b.toString('latin1', 0, Math.min(b.length, 16));
  if (/^[A-Z]{3,}[ ]?/.test(head)) {
    return new Socks5Error(
      C.NOT_SOCKS5,
      `An HTTP request (${JSON.stringify(head.split(' ')[0])}) arrived at a SOCKS5 listener. Use an HTTP proxy listener (mode regular) for HTTP proxy clients, or ${fix.charAt(0).toLowerCase()}${fix.slice(1)}`,
      0,
    );
  }
  return new Socks5Error(
    C.NOT_SOCKS5,
    `Not a SOCKS5 client: the first byte is 0x${first.toString(16).padStart(2, '0')}, SOCKS5 starts with 0x05. ${fix}`,
    0,
  );
}

/** A reply: `05 REP 00` and the bound address (0.0.0.0:0 when not given). */
export function encodeReply(reply: number, bound: { host: string; port: number } | null = null): Buffer {
  return Buffer.concat([Buffer.from([0x05, reply, 0x00]), encodeAddress(bound?.host ?? '0.0.0.0', bound?.port ?? 0)]);
}

/**
 * Server side of one SOCKS5 handshake. Call {@link push} with each chunk from the client; write
 * `output` to the client; handle `event`:
 * - `credentials`: check them (e.g. `proxyauth`), then {@link answerCredentials};
 * - `connect`: open the connection, then {@link answerConnect} with the reply code;
 * - `failed`: log `error.message` and close after writing `output`.
 */
export class Socks5ServerHandshake extends HandshakeBuffer {
  private state: State = 'greeting';
  private readonly requireAuth: boolean;

  constructor(options: Socks5ServerOptions) {
    super();
    this.requireAuth = options.requireAuth;
  }

  /** Whether the handshake finished with a successful reply (the connection is a tunnel now). */
  get established(): boolean {
    return this.state === 'done';
  }

  /** Feed bytes from the client. */
  push(chunk: Buffer): Socks5Progress {
    if (this.state === 'done' || this.state === 'failed') {
      this.append(chunk);
      return { output: null, event: null };
    }
    this.append(chunk);
    return this.advance([]);
  }

  /**
   * The verdict on the credentials of a `credentials` event: success goes on to the request
   * (which may already be buffered), failure ends the handshake (RFC 1929: close after a
   * non-zero status).
   */
  answerCredentials(ok: boolean): Socks5Progress {
    if (this.state !== 'auth-wait') throw new Error('answerCredentials() called without a pending credentials event.');
    const status = Buffer.from([0x01, ok ? 0x00 : 0x01]);
    if (!ok) {
      this.state = 'failed';
      return {
        output: status,
        event: {
          kind: 'failed',
          error: new Socks5Error(C.AUTH_FAILED, 'SOCKS5 authentication failed: wrong username or password.'),
        },
      };
    }
    this.state = 'request';
    return this.advance([status]);
  }

  /**
   * The answer to a `connect` event: the reply bytes to write. {@link Socks5Reply.SUCCEEDED}
   * makes the connection a tunnel (see {@link takeRemaining}); any other code ends it.
   */
  answerConnect(reply: number, bound: { host: string; port: number } | null = null): Buffer {
    if (this.state !== 'connect-wait') throw new Error('answerConnect() called without a pending connect event.');
    this.state = reply === Socks5Reply.SUCCEEDED ? 'done' : 'failed';
    return encodeReply(reply, bound);
  }

  private advance(out: Buffer[]): Socks5Progress {
    for (;;) {
      const step =
        this.state === 'greeting'
          ? this.greeting()
          : this.state === 'auth'
            ? this.credentials()
            : this.state === 'request'
              ? this.request()
              : null;
      if (step === null) return { output: join(out), event: null };
      if (step.output) out.push(step.output);
      if (step.event) return { output: join(out), event: step.event };
    }
  }

  private fail(error: Socks5Error, output: Buffer | null = null): Socks5Progress {
    this.state = 'failed';
    return { output, event: { kind: 'failed', error } };
  }

  private greeting(): Socks5Progress | null {
    const b = this.buf;
    if (b.length < 1) return null;
    if (b[0] !== 0x05) return this.fail(notSocks5(b[0]!, b));
    if (b.length < 2) return null;
    const n = b[1]!;
    if (n === 0)
      return this.fail(
        new Socks5Error(
          C.MALFORMED,
          'Malformed SOCKS5 greeting: the client offers no authentication method (NMETHODS is 0).',
          1,
        ),
      );
    if (b.length < 2 + n) return null;
    const methods = [...b.subarray(2, 2 + n)];
    this.take(2 + n);
    const want = this.requireAuth ? Socks5Method.USERNAME_PASSWORD : Socks5Method.NO_AUTH;
    if (!methods.includes(want)) {
      const names = methods.map(methodName).join(', ');
      const why = this.requireAuth
        ? `this proxy requires username/password authentication (proxyauth is set); give the client credentials, e.g. curl --socks5-hostname HOST:PORT --proxy-user USER:PASS`
        : 'this proxy accepts clients without authentication only (set proxyauth to use username/password)';
      return this.fail(
        new Socks5Error(
          C.NO_ACCEPTABLE_METHOD,
          `SOCKS5 client offers no acceptable authentication method (offered: ${names}); ${why}.`,
          2,
        ),
        Buffer.from([0x05, Socks5Method.NO_ACCEPTABLE]),
      );
    }
    this.state = this.requireAuth ? 'auth' : 'request';
    return { output: Buffer.from([0x05, want]), event: null };
  }

  private credentials(): Socks5Progress | null {
    const b = this.buf;
    if (b.length < 2) return null;
    if (b[0] !== 0x01) {
      return this.fail(
        new Socks5Error(
          C.MALFORMED,
          `Malformed SOCKS5 username/password request: version 0x${b[0]!.toString(16).padStart(2, '0')}, expected 0x01 (RFC 1929).`,
          this.consumed,
        ),
        Buffer.from([0x01, 0x01]),
      );
    }
    const ulen = b[1]!;
    if (b.length < 2 + ulen + 1) return null;
    const plen = b[2 + ulen]!;
    if (b.length < 3 + ulen + plen) return null;
    const username = b.toString('utf8', 2, 2 + ulen);
    const password = b.toString('utf8', 3 + ulen, 3 + ulen + plen);
    this.take(3 + ulen + plen);
    this.state = 'auth-wait';
    return { output: null, event: { kind: 'credentials', username, password } };
  }

  private request(): Socks5Progress | null {
    const b = this.buf;
    if (b.length < 4) return null;
    const at = this.consumed;
    if (b[0] !== 0x05) {
      return this.fail(
        new Socks5Error(
          C.MALFORMED,
          `Malformed SOCKS5 request: version 0x${b[0]!.toString(16).padStart(2, '0')}, expected 0x05.`,
          at,
        ),
        encodeReply(Socks5Reply.GENERAL_FAILURE),
      );
    }
    const cmd = b[1]!;
    const addr = readAddress(b, 3);
    if (addr === null) return null;
    if ('atyp' in addr) {
      return this.fail(
        new Socks5Error(
          C.ADDRESS_TYPE_NOT_SUPPORTED,
          `SOCKS5 request with address type ${addr.atyp}: only IPv4 (1), domain names (3) and IPv6 (4) exist.`,
          at + 3,
        ),
        encodeReply(Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED),
      );
    }
    if (cmd !== Socks5Command.CONNECT) {
      const name =
        cmd === Socks5Command.BIND
          ? 'BIND'
          : cmd === Socks5Command.UDP_ASSOCIATE
            ? 'UDP ASSOCIATE'
            : `command 0x${cmd.toString(16).padStart(2, '0')}`;
      return this.fail(
        new Socks5Error(C.COMMAND_NOT_SUPPORTED, `SOCKS5 ${name} is not supported, only CONNECT (TCP).`, at + 1),
        encodeReply(Socks5Reply.COMMAND_NOT_SUPPORTED),
      );
    }
    if (addr.address.type === 'domain' && addr.address.host.length === 0) {
      return this.fail(
        new Socks5Error(C.MALFORMED, 'Malformed SOCKS5 request: the domain name is empty.', at + 4),
        encodeReply(Socks5Reply.GENERAL_FAILURE),
      );
    }
    this.take(addr.end);
    this.state = 'connect-wait';
    return { output: null, event: { kind: 'connect', target: addr.address } };
  }
}

function methodName(m: number): string {
  if (m === Socks5Method.NO_AUTH) return 'no authentication';
  if (m === Socks5Method.GSSAPI) return 'GSSAPI';
  if (m === Socks5Method.USERNAME_PASSWORD) return 'username/password';
  return `0x${m.toString(16).padStart(2, '0')}`;
}
