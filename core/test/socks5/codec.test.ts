/** The SOCKS5 codec with byte vectors: greetings, RFC 1929 authentication, CONNECT with every address type, replies, errors. */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  Socks5ClientHandshake,
  Socks5ErrorCodes as C,
  type Socks5Event,
  Socks5Reply,
  Socks5ServerHandshake,
  encodeAddress,
  encodeCredentials,
  encodeGreeting,
  encodeReply,
  encodeRequest,
  readAddress,
} from '../../src/proxy/socks5/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const noAuth = () => new Socks5ServerHandshake({ requireAuth: false });
const withAuth = () => new Socks5ServerHandshake({ requireAuth: true });

function failed(e: Socks5Event | null) {
  expect(e?.kind).toBe('failed');
  return (e as Extract<Socks5Event, { kind: 'failed' }>).error;
}

describe('Socks5ServerHandshake without authentication', () => {
  it('answers the greeting with method 00 and reads a CONNECT to a domain name', () => {
    const s = noAuth();
    expect(s.push(hex('05 01 00'))).toEqual({ output: hex('05 00'), event: null });
    const p = s.push(Buffer.concat([hex('05 01 00 03 0b'), Buffer.from('example.com'), hex('01 bb')]));
    expect(p).toEqual({
      output: null,
      event: { kind: 'connect', target: { host: 'example.com', port: 443, type: 'domain' } },
    });
    expect(s.answerConnect(Socks5Reply.SUCCEEDED, { host: '127.0.0.1', port: 50000 })).toEqual(
      hex('05 00 00 01 7f 00 00 01 c3 50'),
    );
    expect(s.established).toBe(true);
  });

  it('reads IPv4 and IPv6 targets', () => {
    const v4 = noAuth();
    v4.push(hex('05 02 02 00'));
    expect(v4.push(hex('05 01 00 01 c0 a8 01 02 00 50')).event).toEqual({
      kind: 'connect',
      target: { host: '192.168.1.2', port: 80, type: 'ipv4' },
    });
    const v6 = noAuth();
    v6.push(hex('05 01 00'));
    expect(v6.push(hex('05 01 00 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 1f 90')).event).toEqual({
      kind: 'connect',
      target: { host: '2001:db8::1', port: 8080, type: 'ipv6' },
    });
  });

  it('handles the whole handshake in one chunk, byte by byte, and keeps the bytes after the request', () => {
    const wire = Buffer.concat([
      hex('05 01 00'),
      encodeRequest('example.com', 443),
      Buffer.from('\x16\x03\x01 ClientHello'),
    ]);
    const whole = noAuth();
    const p = whole.push(wire);
    expect(p.output).toEqual(hex('05 00'));
    expect(p.event).toMatchObject({ kind: 'connect', target: { host: 'example.com', port: 443 } });
    whole.answerConnect(Socks5Reply.SUCCEEDED);
    expect(whole.takeRemaining().toString('latin1')).toBe('\x16\x03\x01 ClientHello');
    const split = noAuth();
    const outputs: Buffer[] = [];
    let event: Socks5Event | null = null;
    for (let i = 0; i < wire.length && !event; i++) {
      const step = split.push(wire.subarray(i, i + 1));
      if (step.output) outputs.push(step.output);
      event = step.event;
    }
    expect(Buffer.concat(outputs)).toEqual(hex('05 00'));
    expect(event).toEqual(p.event);
  });

  it('answers failed connections with their reply code and 0.0.0.0:0', () => {
    const s = noAuth();
    s.push(Buffer.concat([hex('05 01 00'), encodeRequest('10.0.0.1', 9)]));
    expect(s.answerConnect(Socks5Reply.CONNECTION_REFUSED)).toEqual(hex('05 05 00 01 00 00 00 00 00 00'));
    expect(s.established).toBe(false);
    expect(() => s.answerConnect(Socks5Reply.SUCCEEDED)).toThrow(/without a pending connect event/);
  });

  it.each([
    [
      'BIND',
      '05 02 00 01 7f 00 00 01 00 50',
      C.COMMAND_NOT_SUPPORTED,
      Socks5Reply.COMMAND_NOT_SUPPORTED,
      /SOCKS5 BIND is not supported, only CONNECT/,
    ],
    [
      'UDP ASSOCIATE',
      '05 03 00 01 00 00 00 00 00 00',
      C.COMMAND_NOT_SUPPORTED,
      Socks5Reply.COMMAND_NOT_SUPPORTED,
      /UDP ASSOCIATE is not supported/,
    ],
    [
      'command 9',
      '05 09 00 01 00 00 00 00 00 00',
      C.COMMAND_NOT_SUPPORTED,
      Socks5Reply.COMMAND_NOT_SUPPORTED,
      /command 0x09 is not supported/,
    ],
    [
      'address type 5',
      '05 01 00 05 00 00',
      C.ADDRESS_TYPE_NOT_SUPPORTED,
      Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED,
      /address type 5: only IPv4 \(1\), domain names \(3\) and IPv6 \(4\)/,
    ],
    [
      'an empty domain name',
      '05 01 00 03 00 00 50',
      C.MALFORMED,
      Socks5Reply.GENERAL_FAILURE,
      /the domain name is empty/,
    ],
    [
      'version 4 in the request',
      '04 01 00 01 00 00 00 00 00 00',
      C.MALFORMED,
      Socks5Reply.GENERAL_FAILURE,
      /version 0x04, expected 0x05/,
    ],
  ])('refuses a request with %s and the matching reply', (_what, bytes, code, reply, message) => {
    const s = noAuth();
    s.push(hex('05 01 00'));
    const p = s.push(hex(bytes));
    const e = failed(p.event);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(p.output).toEqual(encodeReply(reply));
    expect(e.offset).toBeGreaterThanOrEqual(3);
  });

  it('refuses a client that only offers username/password when none is required, with 05 ff', () => {
    const p = noAuth().push(hex('05 01 02'));
    expect(p.output).toEqual(hex('05 ff'));
    const e = failed(p.event);
    expect(e.code).toBe(C.NO_ACCEPTABLE_METHOD);
    expect(e.message).toBe(
      'SOCKS5 client offers no acceptable authentication method (offered: username/password); this proxy accepts clients without authentication only (set proxyauth to use username/password).',
    );
  });

  it('refuses zero methods', () => {
    expect(failed(noAuth().push(hex('05 00')).event).code).toBe(C.MALFORMED);
  });
});

describe('Socks5ServerHandshake with username/password (RFC 1929)', () => {
  it('asks for credentials, then reads the request', () => {
    const s = withAuth();
    expect(s.push(hex('05 02 00 02')).output).toEqual(hex('05 02'));
    const p = s.push(Buffer.concat([encodeCredentials('user', 'pässword'), encodeRequest('::1', 80)]));
    expect(p).toEqual({ output: null, event: { kind: 'credentials', username: 'user', password: 'pässword' } });
    expect(() => s.answerConnect(0)).toThrow();
    // the request was already buffered: it comes right after the verdict
    expect(s.answerCredentials(true)).toEqual({
      output: hex('01 00'),
      event: { kind: 'connect', target: { host: '::1', port: 80, type: 'ipv6' } },
    });
  });

  it('answers wrong credentials with status 01 and fails', () => {
    const s = withAuth();
    s.push(hex('05 01 02'));
    s.push(encodeCredentials('user', 'wrong'));
    const p = s.answerCredentials(false);
    expect(p.output).toEqual(hex('01 01'));
    expect(failed(p.event).code).toBe(C.AUTH_FAILED);
  });

  it('refuses a client without credentials, saying how to give them', () => {
    const p = withAuth().push(hex('05 01 00'));
    expect(p.output).toEqual(hex('05 ff'));
    expect(failed(p.event).message).toMatch(
      /offered: no authentication\); this proxy requires username\/password authentication \(proxyauth is set\); give the client credentials, e\.g\. curl --socks5-hostname HOST:PORT --proxy-user USER:PASS/,
    );
  });

  it('refuses a bad subnegotiation version', () => {
    const s = withAuth();
    s.push(hex('05 01 02'));
    const p = s.push(hex('05 01 61 01 62'));
    expect(p.output).toEqual(hex('01 01'));
    expect(failed(p.event).message).toMatch(/version 0x05, expected 0x01 \(RFC 1929\)/);
  });
});

describe('clients that do not speak SOCKS5 get a clear message', () => {
  it.each([
    [
      'SOCKS4',
      '04 01 00 50 7f 00 00 01 00',
      /A SOCKS4 client connected to a SOCKS5 listener; SOCKS4 is not supported\. Configure the client for SOCKS5 \(e\.g\. curl --socks5-hostname/,
    ],
    [
      'an HTTP proxy request',
      Buffer.from('GET http://example.com/ HTTP/1.1\r\n').toString('hex'),
      /An HTTP request \("GET"\) arrived at a SOCKS5 listener\. Use an HTTP proxy listener \(mode regular\)/,
    ],
    ['CONNECT', Buffer.from('CONNECT example.com:443 HTTP/1.1\r\n').toString('hex'), /An HTTP request \("CONNECT"\)/],
    ['TLS', '16 03 01 02 00 01', /A TLS ClientHello arrived at a SOCKS5 listener/],
    ['garbage', 'ff fe', /Not a SOCKS5 client: the first byte is 0xff, SOCKS5 starts with 0x05/],
  ])('%s', (_what, bytes, message) => {
    const p = noAuth().push(hex(bytes));
    const e = failed(p.event);
    expect(e.code).toBe(C.NOT_SOCKS5);
    expect(e.message).toMatch(message);
    expect(p.output).toBeNull();
  });
});

describe('addresses', () => {
  it('reads and writes IPv6 targets in RFC 5952 text form', () => {
    const cases: Array<[string, string]> = [
      ['2001:db8::1', '20010db8000000000000000000000001'],
      ['::1', '00000000000000000000000000000001'],
      ['::', '00000000000000000000000000000000'],
      ['fe80::1:0:0:1', 'fe800000000000000001000000000001'],
      ['2001:db8:0:1:1:1:1:1', '20010db8000000010001000100010001'],
      ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ];
    for (const [text, bytes] of cases) {
      const wire = encodeAddress(text, 443);
      expect(wire.toString('hex')).toBe(`04${bytes}01bb`);
      const r = readAddress(wire, 0) as { address: { host: string } };
      if (!text.includes('.')) expect(r.address.host).toBe(text);
    }
  });

  it('encodes hosts by their form', () => {
    expect(encodeAddress('127.0.0.1', 80)).toEqual(hex('01 7f 00 00 01 00 50'));
    expect(encodeAddress('[::1]', 443)).toEqual(hex('04 00000000000000000000000000000001 01 bb'));
    expect(encodeAddress('a.b', 1)).toEqual(hex('03 03 61 2e 62 00 01'));
    expect(() => encodeAddress('x'.repeat(256), 1)).toThrow(/1-255 bytes, got 256/);
  });
});

describe('Socks5ClientHandshake against the server side', () => {
  function converse(client: Socks5ClientHandshake, server: Socks5ServerHandshake, password: string, reply: number) {
    let toServer: Buffer | null = client.start();
    for (let round = 0; round < 5; round++) {
      const s = server.push(toServer ?? Buffer.alloc(0));
      let toClient = s.output ?? Buffer.alloc(0);
      if (s.event?.kind === 'credentials') {
        const v = server.answerCredentials(s.event.password === password);
        toClient = Buffer.concat([toClient, v.output ?? Buffer.alloc(0)]);
        if (v.event?.kind === 'connect')
          toClient = Buffer.concat([toClient, server.answerConnect(reply, { host: '10.1.2.3', port: 4321 })]);
      } else if (s.event?.kind === 'connect')
        toClient = Buffer.concat([toClient, server.answerConnect(reply, { host: '10.1.2.3', port: 4321 })]);
      const c = client.push(toClient);
      if (c.event) return c.event;
      toServer = c.output;
    }
    return null;
  }

  it('connects without and with credentials', () => {
    expect(converse(new Socks5ClientHandshake({ host: 'example.com', port: 443 }), noAuth(), '', 0)).toEqual({
      kind: 'connected',
      bound: { host: '10.1.2.3', port: 4321, type: 'ipv4' },
    });
    expect(
      converse(
        new Socks5ClientHandshake({ host: '::1', port: 80 }, { username: 'u', password: 'p' }),
        withAuth(),
        'p',
        0,
      )?.kind,
    ).toBe('connected');
  });

  it('reports refused credentials, refused methods and failed connections', () => {
    const bad = converse(
      new Socks5ClientHandshake({ host: 'h', port: 1 }, { username: 'u', password: 'x' }),
      withAuth(),
      'p',
      0,
    );
    expect(bad).toMatchObject({ kind: 'failed', error: { code: C.AUTH_FAILED } });
    const none = new Socks5ClientHandshake({ host: 'h', port: 1 }).push(hex('05 ff'));
    expect(none.event).toMatchObject({ kind: 'failed', error: { code: C.NO_ACCEPTABLE_METHOD } });
    const refused = converse(
      new Socks5ClientHandshake({ host: 'h', port: 1 }),
      noAuth(),
      '',
      Socks5Reply.HOST_UNREACHABLE,
    );
    expect(refused).toMatchObject({
      kind: 'failed',
      error: { code: C.REQUEST_FAILED, message: 'The SOCKS5 server could not connect to h:1: host unreachable.' },
    });
  });

  it('writes the RFC 1928 bytes', () => {
    expect(encodeGreeting([0, 2])).toEqual(hex('05 02 00 02'));
    expect(encodeCredentials('a', 'bc')).toEqual(hex('01 01 61 02 62 63'));
    expect(encodeRequest('1.2.3.4', 5)).toEqual(hex('05 01 00 01 01 02 03 04 00 05'));
  });
});
