/**
 * Header validation: RFC 9113 sections 8.1-8.3 and mitmproxy's `validate_inbound_headers`
 * smuggling checks. A malformed message is a stream error (RST_STREAM PROTOCOL_ERROR): nothing of
 * it reaches the handler and the connection goes on.
 */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  Flag,
  FrameType,
  Http2ErrorCodes,
  type Http2Options,
  SettingId,
} from '../../src/proxy/http2/index.js';
import { type Pairs, REQ, get, rawClient, rawServer, str } from './helpers.js';

const M = Http2ErrorCodes.MALFORMED;
const CL = Http2ErrorCodes.CONTENT_LENGTH;

/** Sends `fields` as a request on stream 1 (plus DATA), then a good request on stream 3. */
function request(
  fields: Pairs,
  opts: { data?: string[]; end?: boolean; options?: Http2Options; settings?: Array<[number, number]> } = {},
) {
  const { peer, rec, send } = rawServer(opts.options, opts.settings);
  const data = opts.data ?? [];
  peer.w.headers(1, peer.literal(fields), Flag.END_HEADERS | ((opts.end ?? data.length === 0) ? Flag.END_STREAM : 0));
  data.forEach((d, i) => peer.w.data(1, Buffer.from(d), i === data.length - 1));
  peer.w.headers(3, peer.block(REQ), Flag.END_HEADERS | Flag.END_STREAM);
  const frames = send();
  return { rec, frames };
}

function expectRejected(r: ReturnType<typeof request>, code: string, message: RegExp): void {
  const errs = r.rec.of('streamError');
  expect(errs).toHaveLength(1);
  expect(errs[0]!.error).toMatchObject({ code, streamId: 1, errorCode: ErrorCode.PROTOCOL_ERROR });
  expect(errs[0]!.error.message).toMatch(message);
  expect(r.rec.of('headers').map((h) => h.id)).toEqual([3]);
  expect(r.rec.of('data').filter((d) => d.id === 1)).toEqual([]);
  const rst = r.frames.find((f) => f.type === FrameType.RST_STREAM)!;
  expect([rst.streamId, rst.payload.readUInt32BE(0)]).toEqual([1, ErrorCode.PROTOCOL_ERROR]);
}

const GET = REQ;
const without = (name: string): Pairs => GET.filter(([n]) => n !== name);

describe('requests', () => {
  it.each([
    ['without :method', without(':method'), /without :method/],
    ['without :scheme', without(':scheme'), /without :scheme/],
    ['without :path', without(':path'), /without :path/],
    ['with an empty :path', [...without(':path'), [':path', '']], /without :path, or with an empty one/],
    ['with an unknown pseudo-header', [...GET, [':foo', 'x']], /unknown pseudo-header :foo/],
    ['with :status', [...GET, [':status', '200']], /unexpected pseudo-header :status in a request/],
    ['with :path twice', [...GET, [':path', '/b']], /:path twice/],
    [
      'with a pseudo-header after a regular field',
      [...GET.slice(0, 3), ['accept', '*'], GET[3]!],
      /pseudo-header :path after a regular field/,
    ],
    ['with an upper-case name', [...GET, ['X-Upper', '1']], /upper-case letter in field name "X-Upper"/],
    ['with connection', [...GET, ['connection', 'keep-alive']], /connection-specific field connection/],
    [
      'with transfer-encoding',
      [...GET, ['transfer-encoding', 'chunked']],
      /connection-specific field transfer-encoding/,
    ],
    ['with keep-alive', [...GET, ['keep-alive', '5']], /connection-specific field keep-alive/],
    ['with proxy-connection', [...GET, ['proxy-connection', 'close']], /connection-specific field proxy-connection/],
    ['with upgrade', [...GET, ['upgrade', 'websocket']], /connection-specific field upgrade/],
    ['with te: gzip', [...GET, ['te', 'gzip']], /te other than "trailers"/],
    ['with a space in a name', [...GET, ['x y', '1']], /byte 0x20 in field name/],
    ['with whitespace around a value', [...GET, ['x-a', ' padded']], /whitespace around the value of x-a/],
    ['with LF in a value', [...GET, ['x-a', 'a\nb']], /CR, LF or NUL byte in the value of x-a/],
    ['with CR in :path', [...without(':path'), [':path', '/a\r\nb']], /CR, LF or NUL byte in :path/],
    ['with an invalid content-length', [...GET, ['content-length', '-1']], /invalid content-length "-1"/],
    [
      'with two different content-lengths',
      [...GET, ['content-length', '1'], ['content-length', '2']],
      /two different content-length values/,
    ],
    ['CONNECT without :authority', [[':method', 'CONNECT']], /CONNECT request without :authority/],
    [
      'CONNECT with :path',
      [
        [':method', 'CONNECT'],
        [':authority', 'h:443'],
        [':path', '/'],
      ],
      /CONNECT request with :scheme or :path/,
    ],
    [
      'with :protocol when extended CONNECT is off',
      [[':method', 'CONNECT'], [':protocol', 'websocket'], ...GET.slice(1)],
      /unknown pseudo-header :protocol|unexpected pseudo-header :protocol/,
    ],
  ] as Array<[string, Pairs, RegExp]>)('rejects a request %s', (_what, fields, message) => {
    expectRejected(request(fields), M, message);
  });

  it('te: trailers, repeated equal content-lengths and a plain CONNECT are fine', () => {
    const r = request([...GET, ['te', 'trailers'], ['content-length', '0'], ['content-length', '0']]);
    expect(r.rec.of('streamError')).toEqual([]);
    const c = request(
      [
        [':method', 'CONNECT'],
        [':authority', 'example.com:443'],
      ],
      { end: false },
    );
    expect(c.rec.of('headers')[0]!.head).toMatchObject({
      method: 'CONNECT',
      authority: 'example.com:443',
      scheme: '',
      path: '',
    });
  });

  it('extended CONNECT (RFC 8441) with SETTINGS_ENABLE_CONNECT_PROTOCOL', () => {
    const fields: Pairs = [
      [':method', 'CONNECT'],
      [':protocol', 'websocket'],
      [':scheme', 'https'],
      [':authority', 'h'],
      [':path', '/chat'],
    ];
    const r = request(fields, { options: { enableConnectProtocol: true }, end: false });
    expect(r.rec.of('headers')[0]!.head).toMatchObject({ method: 'CONNECT', protocol: 'websocket', path: '/chat' });
    expectRejected(
      request([[':method', 'GET'], [':protocol', 'websocket'], ...GET.slice(1)], {
        options: { enableConnectProtocol: true },
      }),
      M,
      /:protocol on a GET request/,
    );
  });

  describe('content-length against DATA (request smuggling)', () => {
    const cl = (n: string): Pairs => [[':method', 'POST'], ...GET.slice(1), ['content-length', n]];
    it('announced length but END_STREAM on HEADERS', () => {
      expectRejected(request(cl('5')), CL, /announces content-length 5 but has no body/);
    });
    // the head was fine and went out; the stream error follows when the DATA disagrees
    const bodyRejected = (r: ReturnType<typeof request>, message: RegExp, delivered: string): void => {
      expect(r.rec.of('headers').map((h) => h.id)).toEqual([1, 3]);
      expect(r.rec.of('streamError')[0]!.error).toMatchObject({ code: CL, streamId: 1, header: 'content-length' });
      expect(r.rec.of('streamError')[0]!.error.message).toMatch(message);
      expect(
        r.rec
          .of('data')
          .map((d) => d.data)
          .join(''),
      ).toBe(delivered);
      expect(r.rec.of('data').some((d) => d.end)).toBe(false);
      expect(r.frames.find((f) => f.type === FrameType.RST_STREAM)!.streamId).toBe(1);
    };
    it('less DATA than announced: the last frame is not handed out', () => {
      bodyRejected(request(cl('5'), { data: ['ab', 'c'] }), /content-length 5 but only 3 bytes/, 'ab');
    });
    it('more DATA than announced, caught before it is handed out', () => {
      bodyRejected(request(cl('2'), { data: ['abc'] }), /content-length 2 but more bytes of DATA \(3 so far\)/, '');
    });
    it('the exact length passes, split over frames', () => {
      const r = request(cl('6'), { data: ['abc', 'def'] });
      expect(r.rec.of('streamError')).toEqual([]);
      expect(r.rec.of('headers')[0]!.head.contentLength).toBe(6);
      expect(
        r.rec
          .of('data')
          .map((d) => d.data)
          .join(''),
      ).toBe('abcdef');
    });
  });

  it('trailers with a pseudo-header or without END_STREAM are rejected', () => {
    for (const [fields, flags, msg] of [
      [[[':path', '/']], Flag.END_HEADERS | Flag.END_STREAM, /pseudo-header :path in trailers/],
      [[['x-t', '1']], Flag.END_HEADERS, /trailers on stream 1 without END_STREAM/],
    ] as Array<[Pairs, number, RegExp]>) {
      const { peer, rec, send } = rawServer();
      peer.w.headers(1, peer.block([[':method', 'POST'], ...GET.slice(1)]), Flag.END_HEADERS);
      peer.w.headers(1, peer.block(fields), flags);
      send();
      expect(rec.of('streamError')[0]!.error.message).toMatch(msg);
      expect(rec.of('trailers')).toEqual([]);
      expect(rec.of('close')).toEqual([{ type: 'close', id: 1 }]);
    }
  });

  it('validateHeaders: false lets names, connection-specific fields and content-length through as received', () => {
    const fields: Pairs = [
      ...GET,
      ['X-Upper', 'v'],
      ['connection', 'close'],
      ['transfer-encoding', 'chunked'],
      ['content-length', '9'],
      ['x-ws', ' v '],
    ];
    const r = request(fields, { options: { validateHeaders: false }, data: ['abc'] });
    expect(r.rec.of('streamError')).toEqual([]);
    expect(str(r.rec.of('headers')[0]!.head.headers)).toEqual(fields.slice(4));
    expect(r.rec.of('headers')[0]!.head.contentLength).toBe(-1);
    // CR/LF/NUL never pass: they would split an HTTP/1 head downstream
    expectRejected(
      request([...GET, ['x-a', 'a\r\nb: c']], { options: { validateHeaders: false } }),
      M,
      /CR, LF or NUL/,
    );
  });

  it('values are kept as received (case, inner spaces, order of repeated fields)', () => {
    const fields: Pairs = [
      ...GET,
      ['cookie', 'a=1'],
      ['x-v', 'MiXeD  Case'],
      ['cookie', 'b=2'],
      ['accept', 'text/html, */*;q=0.8'],
    ];
    const r = request(fields);
    expect(str(r.rec.of('headers')[0]!.head.headers)).toEqual(fields.slice(4));
  });
});

describe('responses (client role)', () => {
  function response(fields: Pairs, flags = Flag.END_HEADERS | Flag.END_STREAM, method = 'GET') {
    const { conn, peer, rec, send } = rawClient();
    const id = conn.openStream({ ...get(), method }, true);
    rec.take();
    peer.w.headers(id, peer.block(fields), flags);
    const frames = send();
    return { rec, frames, id };
  }
  it.each([
    ['without :status', [['x-a', '1']], /without :status/],
    ['with a non-numeric :status', [[':status', 'abc']], /:status "abc" is not a three-digit status/],
    [
      'with a request pseudo-header',
      [
        [':status', '200'],
        [':path', '/'],
      ],
      /unexpected pseudo-header :path in a response/,
    ],
    ['with status 101', [[':status', '101']], /status 101 on HTTP\/2/],
  ] as Array<[string, Pairs, RegExp]>)('rejects a response %s', (_w, fields, msg) => {
    const r = response(fields);
    expect(r.rec.of('streamError')[0]!.error.message).toMatch(msg);
    expect(r.rec.of('headers')).toEqual([]);
    expect(r.rec.of('close')).toEqual([{ type: 'close', id: r.id }]);
  });

  it('an interim response with END_STREAM is rejected', () => {
    const r = response([[':status', '103']]);
    expect(r.rec.of('streamError')[0]!.error.message).toMatch(/interim 103 response with END_STREAM/);
  });

  it('HEAD, 204 and 304 responses may announce a length without a body', () => {
    expect(
      response(
        [
          [':status', '200'],
          ['content-length', '100'],
        ],
        undefined,
        'HEAD',
      ).rec.of('headers')[0]!.end,
    ).toBe(true);
    expect(
      response([
        [':status', '304'],
        ['content-length', '100'],
      ]).rec.of('streamError'),
    ).toEqual([]);
    expect(
      response([
        [':status', '200'],
        ['content-length', '100'],
      ]).rec.of('streamError')[0]!.error.code,
    ).toBe(CL);
  });
});

describe('what we send', () => {
  it('refuses connection-specific fields, CR/LF in values and pseudo-headers among fields, sending nothing', () => {
    const { conn, rec } = rawClient();
    const bad = (h: Pairs): unknown => {
      try {
        conn.openStream(get('/', h), true);
      } catch (e) {
        return e;
      }
      return null;
    };
    expect(bad([['Connection', 'close']])).toMatchObject({ code: Http2ErrorCodes.BAD_OUTBOUND, header: 'Connection' });
    expect(bad([['transfer-encoding', 'chunked']])).toMatchObject({ code: Http2ErrorCodes.BAD_OUTBOUND });
    expect(bad([['x-a', 'a\r\nb']])).toMatchObject({ code: Http2ErrorCodes.BAD_OUTBOUND });
    expect(bad([[':path', '/x']])).toMatchObject({ code: Http2ErrorCodes.BAD_OUTBOUND });
    expect(bad([['te', 'trailers']])).toBeNull();
    expect(() => conn.openStream({ ...get(), path: '/a b' }, true)).toThrow(/:path "\/a b"/);
    expect(() => conn.openStream({ ...get(), protocol: 'websocket', method: 'CONNECT' }, false)).toThrow(
      /SETTINGS_ENABLE_CONNECT_PROTOCOL/,
    );
    expect(rec.out.length).toBe(1); // only the te: trailers request went out
  });

  it('extended CONNECT goes out once the server enables it', () => {
    const { conn, peer, send } = rawClient({}, [[SettingId.ENABLE_CONNECT_PROTOCOL, 1]]);
    conn.openStream(
      { method: 'CONNECT', protocol: 'websocket', scheme: 'https', authority: 'h', path: '/ws', headers: [] },
      false,
    );
    const h = send().find((f) => f.type === FrameType.HEADERS)!;
    expect(peer.decode(h.payload)).toEqual([
      [':method', 'CONNECT'],
      [':scheme', 'https'],
      [':authority', 'h'],
      [':path', '/ws'],
      [':protocol', 'websocket'],
    ]);
  });
});
