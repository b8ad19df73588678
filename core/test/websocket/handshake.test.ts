/** Sec-WebSocket-Extensions, permessage-deflate negotiation and the opening handshake checks. */
import { describe, expect, it } from 'vitest';
import { Headers } from '../../src/flow/index.js';
import {
  WebSocketHandshakeError,
  WebSocketHandshakeErrorCodes as HC,
  acceptDeflateAnswer,
  acceptKey,
  checkUpgradeRequest,
  checkUpgradeResponse,
  formatExtensions,
  generateKey,
  isWebSocketHandshake,
  parseDeflateOffers,
  parseExtensions,
  rawHeaderSource,
} from '../../src/proxy/websocket/index.js';
import { thrown } from './helpers.js';

const fails = (fn: () => unknown): WebSocketHandshakeError => thrown(fn, WebSocketHandshakeError);

describe('parseExtensions', () => {
  it('parses names, parameters, quoted values and several extensions', () => {
    expect(
      parseExtensions(
        'permessage-deflate; client_max_window_bits, permessage-deflate;server_max_window_bits="10" ,x-foo',
      ),
    ).toEqual([
      { name: 'permessage-deflate', params: [['client_max_window_bits', null]] },
      { name: 'permessage-deflate', params: [['server_max_window_bits', '10']] },
      { name: 'x-foo', params: [] },
    ]);
    expect(parseExtensions('')).toEqual([]);
    expect(parseExtensions(' , ')).toEqual([]);
    expect(parseExtensions('Permessage-Deflate; Server_No_Context_Takeover')[0]).toEqual({
      name: 'permessage-deflate',
      params: [['server_no_context_takeover', null]],
    });
  });

  it.each([
    ['permessage-deflate; =1', /expected a parameter name at character 21/],
    ['permessage-deflate; a="1', /unterminated quoted string/],
    ['permessage-deflate; a="1 2"', /quoted value "1 2" is not a token/],
    ['permessage-deflate x', /unexpected "x" at character 20/],
    ['(bad)', /expected an extension name at character 1/],
  ])('refuses %j', (value, message) => {
    const e = fails(() => parseExtensions(value));
    expect(e.code).toBe(HC.BAD_EXTENSION);
    expect(e.header).toBe('Sec-WebSocket-Extensions');
    expect(e.message).toMatch(message);
  });

  it('formats back', () => {
    const v = 'permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-foo';
    expect(formatExtensions(parseExtensions(v))).toBe(v);
  });
});

describe('permessage-deflate negotiation', () => {
  it('reads offers, leaving out invalid ones with the reason', () => {
    const { offers, invalid } = parseDeflateOffers(
      'permessage-deflate; client_max_window_bits; server_no_context_takeover, permessage-deflate; server_max_window_bits=20, permessage-deflate; foo, permessage-deflate',
    );
    expect(offers).toEqual([
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: false,
        serverMaxWindowBits: null,
        clientMaxWindowBits: true,
      },
      {
        serverNoContextTakeover: false,
        clientNoContextTakeover: false,
        serverMaxWindowBits: null,
        clientMaxWindowBits: null,
      },
    ]);
    expect(invalid).toEqual([
      'permessage-deflate offer: server_max_window_bits must be a number from 8 to 15, got "20"',
      'permessage-deflate offer: unknown parameter foo',
    ]);
    expect(
      parseDeflateOffers('permessage-deflate; client_no_context_takeover; client_no_context_takeover').invalid[0],
    ).toMatch(/appears twice/);
    expect(parseDeflateOffers('permessage-deflate; server_no_context_takeover=1').invalid[0]).toMatch(/takes no value/);
  });

  it('reads the answer with defaults of 15 bits and context takeover', () => {
    expect(acceptDeflateAnswer('permessage-deflate')).toEqual({
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
    });
    expect(
      acceptDeflateAnswer(
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9',
      ),
    ).toEqual({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 9,
    });
    expect(acceptDeflateAnswer('x-other')).toBeNull();
    expect(acceptDeflateAnswer('')).toBeNull();
  });

  it('checks the answer against the offers as a client does', () => {
    const offers = parseDeflateOffers(
      'permessage-deflate; client_max_window_bits=12; server_max_window_bits=11; server_no_context_takeover',
    ).offers;
    expect(
      acceptDeflateAnswer('permessage-deflate; server_max_window_bits=10; server_no_context_takeover', offers)!
        .clientMaxWindowBits,
    ).toBe(12);
    expect(
      fails(() =>
        acceptDeflateAnswer('permessage-deflate; server_max_window_bits=12; server_no_context_takeover', offers),
      ).message,
    ).toMatch(/fits none of the client's offers/);
    expect(fails(() => acceptDeflateAnswer('permessage-deflate; server_max_window_bits=10', offers)).message).toMatch(
      /fits none/,
    );
    expect(
      fails(() =>
        acceptDeflateAnswer(
          'permessage-deflate; server_max_window_bits=10; server_no_context_takeover; client_max_window_bits=13',
          offers,
        ),
      ).message,
    ).toMatch(/fits none/);
    const plain = parseDeflateOffers('permessage-deflate').offers;
    expect(fails(() => acceptDeflateAnswer('permessage-deflate; client_max_window_bits=10', plain)).message).toMatch(
      /fits none/,
    );
    expect(fails(() => acceptDeflateAnswer('permessage-deflate', [])).message).toMatch(
      /did not offer permessage-deflate/,
    );
    expect(fails(() => acceptDeflateAnswer('permessage-deflate, permessage-deflate', plain)).message).toMatch(
      /more than once/,
    );
    expect(fails(() => acceptDeflateAnswer('permessage-deflate; client_max_window_bits', plain)).message).toMatch(
      /client_max_window_bits must be a number from 8 to 15, got no value/,
    );
  });
});

describe('handshake', () => {
  it("computes RFC 6455's example accept key, and fresh keys", () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    const k = generateKey();
    expect(Buffer.from(k, 'base64')).toHaveLength(16);
    expect(generateKey()).not.toBe(k);
  });

  const request = new Headers([
    ['Host', 'server.example.com'],
    ['Upgrade', 'websocket'],
    ['Connection', 'keep-alive, Upgrade'],
    ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
    ['Sec-WebSocket-Version', '13'],
    ['Sec-WebSocket-Protocol', 'chat, superchat'],
    ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'],
  ]);

  it('reads an upgrade request', () => {
    const r = checkUpgradeRequest('GET', request);
    expect(r.key).toBe('dGhlIHNhbXBsZSBub25jZQ==');
    expect(r.protocols).toEqual(['chat', 'superchat']);
    expect(r.extensions.map((e) => e.name)).toEqual(['permessage-deflate']);
    expect(r.deflateOffers).toHaveLength(1);
  });

  it.each([
    ['POST', [], /must be a GET request, not POST/, undefined],
    ['GET', [['Upgrade', 'h2c']], /lacks "Upgrade: websocket"/, 'Upgrade'],
    ['GET', [['Connection', 'close']], /lacks "Connection: Upgrade"/, 'Connection'],
    ['GET', [['Sec-WebSocket-Version', '8']], /must be 13, got 8/, 'Sec-WebSocket-Version'],
    ['GET', [['Sec-WebSocket-Key', 'short']], /one base64-encoded 16-byte value, got "short"/, 'Sec-WebSocket-Key'],
  ])('refuses an upgrade request: %s with %j', (method, changes, message, header) => {
    const h = request.copy();
    for (const [k, v] of changes as Array<[string, string]>) h.set(k, v);
    const e = fails(() => checkUpgradeRequest(method as string, h));
    expect(e.code).toBe(HC.BAD_REQUEST);
    expect(e.message).toMatch(message as RegExp);
    expect(e.header).toBe(header);
  });

  const answer = rawHeaderSource([
    ['Upgrade', 'WebSocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='],
    ['Sec-WebSocket-Protocol', 'chat'],
    ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits=10'],
  ]);

  it('checks a 101 answer and tells what was agreed', () => {
    expect(isWebSocketHandshake(request, 101, answer)).toBe(true);
    expect(isWebSocketHandshake(request, 200, answer)).toBe(false);
    const a = checkUpgradeResponse(request, 101, answer);
    expect(a.protocol).toBe('chat');
    expect(a.deflate).toEqual({
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 10,
    });
    expect(a.unknownExtensions).toEqual([]);
  });

  const base: Array<[string, string]> = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='],
  ];
  it.each([
    [200, [], /answered the WebSocket upgrade with 200, not 101/, undefined],
    [101, [['Upgrade', 'h2c']], /lacks "Upgrade: websocket"/, 'Upgrade'],
    [101, [['Connection', 'keep-alive']], /lacks "Connection: Upgrade"/, 'Connection'],
    [
      101,
      [['Sec-WebSocket-Accept', 'AAAA']],
      /Sec-WebSocket-Accept is "AAAA", expected "s3pPLMBiTxaQ9kYGzzhZRbK\+xOo="/,
      'Sec-WebSocket-Accept',
    ],
    [101, [['Sec-WebSocket-Version', '8']], /names Sec-WebSocket-Version 8, not 13/, 'Sec-WebSocket-Version'],
    [
      101,
      [['Sec-WebSocket-Protocol', 'other']],
      /chose subprotocol "other", which the client did not offer/,
      'Sec-WebSocket-Protocol',
    ],
    [101, [['Sec-WebSocket-Protocol', 'chat, superchat']], /chose several subprotocols/, 'Sec-WebSocket-Protocol'],
    [
      101,
      [['Sec-WebSocket-Extensions', 'x-webkit-deflate-frame']],
      /agreed to extension "x-webkit-deflate-frame", which the client did not offer/,
      'Sec-WebSocket-Extensions',
    ],
  ])('refuses a %i answer with %j', (status, changes, message, header) => {
    const pairs = new Map(base);
    for (const [k, v] of changes as Array<[string, string]>) pairs.set(k, v);
    const e = fails(() => checkUpgradeResponse(request, status as number, rawHeaderSource([...pairs])));
    expect(e.code).toBe(HC.BAD_RESPONSE);
    expect(e.message).toMatch(message as RegExp);
    expect(e.header).toBe(header);
  });

  it('lists agreed extensions it cannot decode', () => {
    const req = request.copy();
    req.set('Sec-WebSocket-Extensions', 'permessage-deflate, x-custom');
    const a = checkUpgradeResponse(
      req,
      101,
      rawHeaderSource([...base, ['Sec-WebSocket-Extensions', 'x-custom; level=2']]),
    );
    expect(a.deflate).toBeNull();
    expect(a.unknownExtensions).toEqual(['x-custom']);
  });
});
