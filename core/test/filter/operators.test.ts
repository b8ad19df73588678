import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFilter, matchFilter } from '../../src/filter/index.js';
import {
  Headers,
  TCPMessage,
  WebSocketMessage,
  tdnsflow,
  tdnsreq,
  tflow,
  tresp,
  ttcpflow,
  tudpflow,
  twebsocketflow,
  type Flow,
} from '../../src/flow/index.js';

const m = (expr: string, f: Flow) => parseFilter(expr)(f);

const http = () => tflow();
const httpResp = () => tflow({ resp: true });
const all = () => [
  tflow(),
  tflow({ resp: true }),
  tflow({ err: true }),
  twebsocketflow(),
  ttcpflow(),
  tudpflow(),
  tdnsflow(),
  tdnsflow({ resp: true }),
];
const kinds = (expr: string) => all().map((f) => m(expr, f));

describe('no-argument operators', () => {
  it('~all matches everything', () => expect(kinds('~all')).toEqual([true, true, true, true, true, true, true, true]));
  it('~http', () => expect(kinds('~http')).toEqual([true, true, true, true, false, false, false, false]));
  it('~websocket', () => expect(kinds('~websocket')).toEqual([false, false, false, true, false, false, false, false]));
  it('~tcp', () => expect(kinds('~tcp')).toEqual([false, false, false, false, true, false, false, false]));
  it('~udp', () => expect(kinds('~udp')).toEqual([false, false, false, false, false, true, false, false]));
  it('~dns', () => expect(kinds('~dns')).toEqual([false, false, false, false, false, false, true, true]));
  it('~q: HTTP or DNS without response', () =>
    expect(kinds('~q')).toEqual([true, false, true, false, false, false, true, false]));
  it('~s: HTTP or DNS with response', () =>
    expect(kinds('~s')).toEqual([false, true, false, true, false, false, false, true]));
  it('~e', () => {
    expect(kinds('~e')).toEqual([false, false, true, false, false, false, false, false]);
    expect(m('~e', ttcpflow({ err: true }))).toBe(true);
    expect(m('~e', tdnsflow({ err: true }))).toBe(true);
  });

  it('~marked', () => {
    const f = http();
    expect(m('~marked', f)).toBe(false);
    f.marked = ':default:';
    expect(m('~marked', f)).toBe(true);
    const t = ttcpflow();
    t.marked = 'x';
    expect(m('~marked', t)).toBe(true);
  });

  it('~replay, ~replayq, ~replays', () => {
    const f = http();
    expect([m('~replay', f), m('~replayq', f), m('~replays', f)]).toEqual([false, false, false]);
    f.isReplay = 'request';
    expect([m('~replay', f), m('~replayq', f), m('~replays', f)]).toEqual([true, true, false]);
    f.isReplay = 'response';
    expect([m('~replay', f), m('~replayq', f), m('~replays', f)]).toEqual([true, false, true]);
  });

  it('~a: response Content-Type is an asset type (request headers ignored)', () => {
    const withCt = (ct: string, where: 'req' | 'resp' = 'resp') => {
      const f = tflow({ resp: true });
      (where === 'resp' ? f.response! : f.request).headers.set('Content-Type', ct);
      return f;
    };
    for (const ct of [
      'text/javascript',
      'application/x-javascript',
      'application/javascript',
      'text/css',
      'image/png',
      'font/woff2',
      'application/font-woff',
      'text/css; charset=utf-8',
    ]) {
      expect([ct, m('~a', withCt(ct))]).toEqual([ct, true]);
    }
    expect(m('~a', withCt('text/html'))).toBe(false);
    expect(m('~a', withCt('IMAGE/PNG'))).toBe(false); // asset patterns are case-sensitive
    expect(m('~a', withCt('image/png', 'req'))).toBe(false);
    expect(m('~a', http())).toBe(false);
    const f = tflow({ resp: true });
    f.response!.headers.add('CONTENT-TYPE', 'image/gif');
    expect(m('~a', f)).toBe(true);
    expect(m('~a', ttcpflow())).toBe(false);
  });
});

describe('regex operators', () => {
  it('~u and bare words search the pretty URL (Host header preferred)', () => {
    const f = http();
    expect(m('~u address:22/path', f)).toBe(true);
    expect(m('address:22/path', f)).toBe(true);
    expect(m('~u /PATH', f)).toBe(true);
    expect(m('~u nope', f)).toBe(false);
    expect(m('~u ^http://address:22/path$', f)).toBe(true);
    f.request.headers.set('Host', 'pretty.example');
    expect(m('~u pretty.example', f)).toBe(true);
    expect(m('~u address', f)).toBe(false);
    expect(m('~u dns.google', tdnsflow())).toBe(true);
    expect(m('~u other', tdnsflow())).toBe(false);
    expect(m('~u .', tdnsflow({ req: tdnsreq({ questions: [] }) }))).toBe(false);
    expect(m('~u .', ttcpflow())).toBe(false);
  });

  it('~u on CONNECT flows sees host:port', () => {
    const f = tflow();
    f.request.method = 'CONNECT';
    f.request.authority = 'secure.example:443';
    expect(m('~u ^secure.example:443$', f)).toBe(true);
  });

  it('~d matches request.host or the Host header host', () => {
    const f = http();
    expect(m('~d address', f)).toBe(true);
    expect(m('~d ^ADDRESS$', f)).toBe(true);
    expect(m('~d other', f)).toBe(false);
    f.request.headers.set('Host', 'other.example:8080');
    expect(m('~d other.example', f)).toBe(true);
    expect(m('~d 8080', f)).toBe(false);
    expect(m('~d .', ttcpflow())).toBe(false);
  });

  it('~m matches the raw method', () => {
    const f = http();
    expect(m('~m get', f)).toBe(true);
    expect(m('~m ^GET$', f)).toBe(true);
    expect(m('~m post', f)).toBe(false);
    f.request.method = 'get';
    expect(f.request.method).toBe('GET');
    expect(parseFilter('~m ^get$', { caseSensitive: true })(f)).toBe(true); // the raw bytes, not .method
    expect(parseFilter('~m ^GET$', { caseSensitive: true })(f)).toBe(false);
    expect(m('~m .', ttcpflow())).toBe(false);
  });

  it('~h, ~hq, ~hs search "name: value" header lines', () => {
    const f = httpResp();
    expect(m("~h 'header: qvalue'", f)).toBe(true);
    expect(m("~h 'header-response: svalue'", f)).toBe(true);
    expect(m("~h '^content-length: 7'", f)).toBe(true);
    expect(m('~h nothere', f)).toBe(false);
    expect(m("~hq 'header: qvalue'", f)).toBe(true);
    expect(m("~hq 'header-response: svalue'", f)).toBe(false);
    expect(m("~hs 'header-response: svalue'", f)).toBe(true);
    expect(m("~hs 'header: qvalue'", f)).toBe(false);
    expect(m('~hs .', http())).toBe(false);
    expect(m("~h 'qvalue$'", f)).toBe(false);
    expect(m("~h 'qvalue\\r$'", f)).toBe(true);
    expect(m("~h 'qvalue\\r\\ncontent-length'", f)).toBe(true);
    const empty = tflow();
    empty.request.headers = new Headers();
    expect(m('~hq .', empty)).toBe(false);
    expect(m('~hq ^$', empty)).toBe(true);
    expect(m('~h .', ttcpflow())).toBe(false);
  });

  it('~h matches header bytes: UTF-8 patterns find UTF-8 values', () => {
    const f = http();
    f.request.headers.set('X-Name', Buffer.from('Ярослав', 'utf8'));
    expect(m('~hq Ярослав', f)).toBe(true);
    // Byte patterns fold ASCII case only (as Python's bytes regexes): 'я' and 'Я' differ.
    expect(m('~hq ярослав', f)).toBe(false);
    expect(m('~hq x-NAME', f)).toBe(true);
    expect(m('~hq x-name:\\s\\S\\S', f)).toBe(true); // one character = two bytes
  });

  it('~t, ~tq, ~ts look at Content-Type values', () => {
    const f = httpResp();
    f.request.headers.set('content-type', 'application/json');
    f.response!.headers.set('Content-Type', 'text/html; charset=utf-8');
    expect(m('~t json', f)).toBe(true);
    expect(m('~t html', f)).toBe(true);
    expect(m('~t xml', f)).toBe(false);
    expect(m('~tq json', f)).toBe(true);
    expect(m('~tq html', f)).toBe(false);
    expect(m('~ts html', f)).toBe(true);
    expect(m('~ts json', f)).toBe(false);
    expect(m('~ts ^text/html', f)).toBe(true);
    expect(m('~ts .', http())).toBe(false);
    expect(m('~t ^content-type', f)).toBe(false); // values only, not "name: value"
  });

  it('~b, ~bq, ~bs search decoded bodies', () => {
    const f = httpResp();
    expect(m('~b content', f)).toBe(true);
    expect(m('~b message', f)).toBe(true);
    expect(m('~b nomatch', f)).toBe(false);
    expect(m('~bq content', f)).toBe(true);
    expect(m('~bq message', f)).toBe(false);
    expect(m('~bs message', f)).toBe(true);
    expect(m('~bs content', f)).toBe(false);
    expect(m('~b CONTENT', f)).toBe(true);
    f.response!.headers.set('content-encoding', 'gzip');
    f.response!.rawContent = zlib.gzipSync(Buffer.from('compressed secret'));
    expect(m('~bs secret', f)).toBe(true);
    f.response!.rawContent = Buffer.from('not really gzip but secret');
    expect(m('~bs secret', f)).toBe(true); // undecodable: raw bytes are searched
    f.request.rawContent = null;
    expect(m('~bq .', f)).toBe(false);
    const e = tflow();
    e.request.rawContent = Buffer.alloc(0);
    expect(m('~bq ^$', e)).toBe(false); // empty bodies are skipped, as in mitmproxy
  });

  it('~b is dot-all and byte-level', () => {
    const f = httpResp();
    f.response!.rawContent = Buffer.from('line1\nline2 яч', 'utf8');
    expect(m('~bs line1.line2', f)).toBe(true);
    expect(m('~bs яч', f)).toBe(true);
    expect(m('~bs ЯЧ', f)).toBe(false); // bytes: case folding is ASCII-only
    expect(m('~bs LINE1', f)).toBe(true);
    f.response!.rawContent = Buffer.from([0x00, 0xff, 0xfe]);
    expect(m('~bs \\xff\\xfe', f)).toBe(true);
  });

  it('~b on WebSocket, TCP, UDP and DNS', () => {
    const ws = twebsocketflow();
    expect(m('~b "hello binary"', ws)).toBe(true);
    expect(m('~b "it\'s me"', ws)).toBe(true);
    expect(m('~bq "hello text"', ws)).toBe(true);
    expect(m('~bq "it\'s me"', ws)).toBe(false);
    expect(m('~bs "it\'s me"', ws)).toBe(true);
    expect(m('~bs hello', ws)).toBe(false);
    ws.websocket!.messages.push(new WebSocketMessage(1, false, Buffer.from('server says hi')));
    expect(m('~bs "says hi"', ws)).toBe(true);
    for (const t of [ttcpflow(), tudpflow()]) {
      expect(m('~b hello', t)).toBe(true);
      expect(m('~bq hello', t)).toBe(true);
      expect(m('~bs hello', t)).toBe(false);
      expect(m('~bs "it\'s"', t)).toBe(true);
      expect(m('~bq "it\'s"', t)).toBe(false);
    }
    const tcp = ttcpflow({ messages: [new TCPMessage(true, Buffer.from('binary\x00data'))] });
    expect(m('~b "y\\x00d"', tcp) || m('~b y.d', tcp)).toBe(true);
    const d = tdnsflow({ resp: true });
    expect(m('~b 8.8.4.4', d)).toBe(true);
    expect(m('~bq 8.8.4.4', d)).toBe(false);
    expect(m('~bq dns.google', d)).toBe(true);
    expect(m('~bs 8.8.8.8', d)).toBe(true);
    expect(m('~bs .', tdnsflow())).toBe(false);
  });

  it('~src and ~dst', () => {
    const f = http();
    expect(m('~src 127.0.0.1', f)).toBe(true);
    expect(m('~src :22$', f)).toBe(true);
    expect(m('~src 10.0.0.1', f)).toBe(false);
    expect(m('~dst address:22', f)).toBe(true);
    expect(m('~dst 192.168', f)).toBe(false);
    expect(m('~src 127', ttcpflow())).toBe(true);
    expect(m('~dst address', tdnsflow())).toBe(true);
    f.serverConn.address = null;
    expect(m('~dst .', f)).toBe(false);
  });

  it('~meta renders metadata like Python str()', () => {
    const f = http();
    expect(m('~meta .', f)).toBe(false);
    f.metadata = { a: 'b', n: 1, x: 1.5, t: true, no: null, d: { key: 'value' }, l: ['s', 2] };
    expect(m('~meta "a: b"', f)).toBe(true);
    expect(m('~meta "^n: 1$"', f)).toBe(true);
    expect(m('~meta "x: 1.5"', f)).toBe(true);
    expect(m('~meta "t: True"', f)).toBe(true);
    expect(m('~meta "no: None"', f)).toBe(true);
    expect(m("~meta \"d: \\{'key': 'value'\\}\"", f)).toBe(true);
    // Inside quotes a backslash escapes the next character: the regex escape \[ is written \\[ there.
    expect(m('~meta "l: \\[\'s\', 2\\]"', f)).toBe(false);
    expect(m('~meta "l: \\\\[\'s\', 2\\\\]"', f)).toBe(true);
    expect(m('~meta l:.\\[.s', f)).toBe(true); // unquoted: backslashes reach the regex as written
    expect(m('~meta "^b$"', f)).toBe(false);
  });

  it('~marker matches the marker string', () => {
    const f = http();
    f.marked = 'X';
    expect(m('~marker X', f)).toBe(true);
    expect(m('~marker default', f)).toBe(false);
    f.marked = ':default:';
    expect(m('~marker default', f)).toBe(true);
    expect(m('~marker X', f)).toBe(false);
  });

  it('~comment (multi-line)', () => {
    const f = ttcpflow();
    expect(m('~comment .', f)).toBe(false);
    f.comment = 'first line\nsecond Line';
    expect(m('~comment "^second"', f)).toBe(true);
    expect(m('~comment "line$"', f)).toBe(true);
    expect(m('~comment "^line"', f)).toBe(false);
  });
});

describe('~c', () => {
  it('matches the response status code', () => {
    const f = httpResp();
    expect(m('~c 200', f)).toBe(true);
    expect(m('~c 0200', f)).toBe(true);
    expect(m('~c 201', f)).toBe(false);
    expect(m('~c 200', http())).toBe(false);
    expect(m('~c 200', tdnsflow({ resp: true }))).toBe(false);
    expect(m('~c 101', twebsocketflow())).toBe(true);
    expect(m('~c 404', tflow({ resp: tresp({ statusCode: 404 }) }))).toBe(true);
  });
});

describe('case sensitivity', () => {
  const saved = process.env['MITMPROXY_CASE_SENSITIVE_FILTERS'];
  afterEach(() => {
    if (saved === undefined) delete process.env['MITMPROXY_CASE_SENSITIVE_FILTERS'];
    else process.env['MITMPROXY_CASE_SENSITIVE_FILTERS'] = saved;
  });

  it('is case-insensitive by default for every regex operator', () => {
    const f = httpResp();
    f.metadata = { k: 'V' };
    f.comment = 'C';
    f.marked = 'M';
    for (const e of [
      '~u PATH',
      '~d ADDRESS',
      '~m get',
      '~h HEADER',
      '~hq HEADER',
      '~hs SVALUE',
      '~b MESSAGE',
      '~bq CONTENT',
      '~bs MESSAGE',
      '~meta v',
      '~comment c',
      '~marker m',
      'PATH',
    ]) {
      expect([e, m(e, f)]).toEqual([e, true]);
    }
  });

  it('MITMPROXY_CASE_SENSITIVE_FILTERS=1 at parse time makes regexes case-sensitive', () => {
    const f = httpResp();
    process.env['MITMPROXY_CASE_SENSITIVE_FILTERS'] = '1';
    const sensitive = parseFilter('~u PATH');
    expect(sensitive(f)).toBe(false);
    expect(parseFilter('~u path')(f)).toBe(true);
    expect(parseFilter('~b MESSAGE')(f)).toBe(false);
    expect(String(sensitive)).toBe('url matches /PATH/');
    delete process.env['MITMPROXY_CASE_SENSITIVE_FILTERS'];
    expect(sensitive(f)).toBe(false); // decided when parsed
    expect(parseFilter('~u PATH')(f)).toBe(true);
    expect(parseFilter('~u PATH', { caseSensitive: true })(f)).toBe(false);
  });
});

describe('matchFilter', () => {
  it('accepts strings, filters and null', () => {
    const f = httpResp();
    expect(matchFilter('~s', f)).toBe(true);
    expect(matchFilter(parseFilter('~q'), f)).toBe(false);
    expect(matchFilter(null, f)).toBe(true);
    expect(matchFilter(undefined, f)).toBe(true);
    expect(() => matchFilter('~b', f)).toThrow(/expected a regex argument after ~b/);
    expect(() => matchFilter('', f)).toThrow('Empty filter expression');
  });
});
