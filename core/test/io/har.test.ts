/** HAR import (browser-made and our own) and export (HAR 1.2 as browsers import it). */
import { inflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type HTTPFlow, type WebSocketMessage, WebSocketOpcode } from '../../src/flow/index.js';
import {
  FlowReadErrorCode,
  FlowReader,
  flowsToHar,
  type Har,
  type HarEntry,
  harToFlows,
  isMostlyBinary,
  isoTimestamp,
  parseIsoTimestamp,
  serializeHar,
} from '../../src/io/index.js';
import { FLOWS_MITM } from './fixtures.js';

const BROWSER_HAR = fileURLToPath(new URL('../../../test/fixtures/har/browser.har', import.meta.url));
const mitmFlows = [...new FlowReader(FLOWS_MITM)];

/** What HAR 1.2 requires of an entry (what DevTools' HAR import reads). */
function checkEntry(e: HarEntry): void {
  expect(typeof e.startedDateTime).toBe('string');
  expect(Number.isNaN(new Date(e.startedDateTime).getTime())).toBe(false);
  expect(typeof e.time).toBe('number');
  for (const k of ['method', 'url', 'httpVersion'] as const) expect(typeof e.request[k]).toBe('string');
  for (const k of ['cookies', 'headers', 'queryString'] as const) expect(Array.isArray(e.request[k])).toBe(true);
  expect(typeof e.request.headersSize).toBe('number');
  expect(typeof e.request.bodySize).toBe('number');
  expect(typeof e.response.status).toBe('number');
  expect(typeof e.response.statusText).toBe('string');
  expect(typeof e.response.httpVersion).toBe('string');
  expect(Array.isArray(e.response.cookies) && Array.isArray(e.response.headers)).toBe(true);
  expect(typeof e.response.content.size).toBe('number');
  expect(typeof e.response.content.mimeType).toBe('string');
  expect(typeof e.response.redirectURL).toBe('string');
  for (const k of ['send', 'wait', 'receive', 'connect', 'ssl'] as const) expect(typeof e.timings[k]).toBe('number');
  expect(e.cache).toEqual({});
}

describe('HAR export', () => {
  const har: Har = JSON.parse(serializeHar(flowsToHar(mitmFlows)).toString('utf8'));
  const byPath = (p: string) => har.log.entries.find((e) => e.request.url.includes(p))!;

  it('writes a HAR 1.2 log of the HTTP flows (TCP skipped), every entry complete', () => {
    expect(har.log.version).toBe('1.2');
    expect(har.log.creator).toEqual({ name: 'mitmts', version: '0.1.0', comment: '' });
    expect(har.log.pages).toEqual([]);
    expect(har.log.entries).toHaveLength(14);
    har.log.entries.forEach(checkEntry);
    expect(serializeHar(flowsToHar(mitmFlows)).toString('utf8')).toMatch(/^\{\n {4}"log": \{\n {8}"version"/);
  });

  it('exports timestamps and timings like mitmproxy', () => {
    const f = mitmFlows[0] as HTTPFlow;
    const e = har.log.entries[0]!;
    expect(e.startedDateTime).toBe(isoTimestamp(f.request.timestampStart));
    expect(e.timings.send).toBeCloseTo(1000 * (f.request.timestampEnd! - f.request.timestampStart), 6);
    expect(e.timings.wait).toBeCloseTo(1000 * (f.response!.timestampStart - f.request.timestampEnd!), 6);
    expect(e.timings.connect).toBeCloseTo(1000 * (f.serverConn.timestampTcpSetup! - f.serverConn.timestampStart!), 6);
    expect(e.timings.ssl).toBe(-1);
    const total = [e.timings.connect, e.timings.send, e.timings.wait, e.timings.receive]
      .filter((x) => x >= 0)
      .reduce((a, b) => a + b);
    expect(e.time).toBeCloseTo(total, 6);
    expect(e.serverIPAddress).toBe('127.0.0.1');
    const tls = byPath('/secure');
    expect(tls.timings.ssl).toBeGreaterThan(0);
  });

  it('exports decoded bodies with size and compression, binary as base64', () => {
    const gz = byPath('/gzip');
    const f = mitmFlows.find((x) => (x as HTTPFlow).request?.path === '/gzip') as HTTPFlow;
    expect(gz.response.content.size).toBe(f.response!.rawContent!.length);
    expect(gz.response.content.compression).toBe(f.response!.content!.length - f.response!.rawContent!.length);
    expect(JSON.parse(gz.response.content.text!)).toMatchObject({ compressed: 'gzip' });
    expect(gz.response.content.mimeType).toBe('application/json');
    const png = byPath('/image.png');
    expect(png.response.content.encoding).toBe('base64');
    expect(Buffer.from(png.response.content.text!, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(byPath('/br').response.content.text).toContain('décodé correctement');
  });

  it('exports cookies, redirects, post data, errors and WebSocket messages', () => {
    const c = byPath('/cookies');
    expect(c.request.cookies).toEqual([
      { name: 'prior', value: '1' },
      { name: 'other', value: 'two' },
    ]);
    expect(c.response.cookies).toEqual([
      { name: 'session', value: 'abc123', path: '/', domain: '', httpOnly: true, secure: false },
      { name: 'theme', value: 'dark', path: '/app', domain: '', httpOnly: false, secure: false, sameSite: 'Lax' },
    ]);
    expect(byPath('/redirect').response.redirectURL).toBe('/plain?x=redirected');
    const form = byPath('/form');
    expect(form.request.postData).toEqual({
      mimeType: 'application/x-www-form-urlencoded',
      text: 'name=mitm&lang=ts',
      params: [
        { name: 'name', value: 'mitm' },
        { name: 'lang', value: 'ts' },
      ],
    });
    expect(byPath('/plain').request.queryString).toEqual([{ name: 'x', value: '1' }]);
    const err = byPath('/refused');
    expect(err.response).toMatchObject({ status: 0, headersSize: -1, bodySize: -1, _transferSize: 0 });
    expect(err.response._error).toMatch(/Connect call failed/);
    const ws = byPath('/ws');
    expect(ws._resourceType).toBe('websocket');
    expect(ws._webSocketMessages!.map((m) => [m.type, m.opcode, m.data])).toEqual([
      ['send', 1, 'hello websocket'],
      ['send', 2, Buffer.from([0, 1, 0xfe, 0xff]).toString('base64')],
      ['send', 1, 'second text frame'],
      ['receive', 1, 'echo: hello websocket'],
      ['receive', 2, Buffer.from([0, 1, 0xfe, 0xff]).toString('base64')],
      ['receive', 1, 'echo: second text frame'],
    ]);
    expect(byPath('/h2').request.httpVersion).toBe('HTTP/2.0');
  });

  it('writes .zhar as zlib level 9', () => {
    const z = serializeHar(flowsToHar(mitmFlows), { compress: true });
    expect(inflateSync(z).equals(serializeHar(flowsToHar(mitmFlows)))).toBe(true);
  });

  it('reports connect/ssl once per server connection', () => {
    const f = mitmFlows[0] as HTTPFlow;
    const h = flowsToHar([f, f]);
    expect(h.log.entries[0]!.timings.connect).toBeGreaterThan(0);
    expect(h.log.entries[1]!.timings.connect).toBe(-1);
  });
});

describe('HAR import', () => {
  it('reads a browser HAR (BOM, gzip header, base64, [name, value] pairs, offsets) through FlowReader', async () => {
    const flows = [] as HTTPFlow[];
    for await (const f of new FlowReader(BROWSER_HAR)) flows.push(f as HTTPFlow);
    expect(flows).toHaveLength(3);
    const [api, logo, login] = flows as [HTTPFlow, HTTPFlow, HTTPFlow];
    expect(api.request.prettyUrl).toBe('https://example.com/api/items?page=2&q=a%20b');
    expect(api.request.httpVersion).toBe('HTTP/2');
    expect(api.request.timestampStart).toBeCloseTo(1704164645.123456, 6);
    expect(api.request.timestampEnd).toBeCloseTo(1704164645.123456 + 0.2505, 6);
    expect(api.response!.httpVersion).toBe('HTTP/2');
    expect(api.response!.statusCode).toBe(200);
    expect(api.response!.reason).toBe('OK');
    expect(api.response!.headers.has('content-encoding')).toBe(false);
    expect(api.response!.text).toBe('{"items":["é","€"],"next":3}');
    expect(api.response!.headers.get('content-length')).toBe(String(api.response!.rawContent!.length));
    expect(api.serverConn.address).toEqual(['93.184.216.34', 443]);
    expect(api.clientConn.peername).toEqual(['127.0.0.1', 0]);
    expect(api.clientConn.timestampStart).toBeCloseTo(1704164645.123456, 6);
    expect(logo.response!.rawContent!.subarray(1, 4).toString()).toBe('PNG');
    expect(logo.request.headers.get('host')).toBe('example.com');
    expect(logo.serverConn.address).toBeNull();
    expect(logo.request.timestampStart).toBe(1704164646);
    expect(login.request.method).toBe('POST');
    expect(login.request.text).toBe('user=alice&pass=s3cr%21t');
    expect(login.request.urlencodedForm.get('pass')).toBe('s3cr!t');
    expect(login.request.timestampStart).toBe(1704164647.5 - 3600);
    expect(login.response!.statusCode).toBe(302);
    expect(login.response!.reason).toBe('Found');
    expect(login.response!.cookies.get('sid')![0]).toBe('43');
  });

  it('round-trips our own export (bodies, headers, status, methods)', () => {
    const http = mitmFlows.filter((f) => f.type === 'http') as HTTPFlow[];
    const back = [...new FlowReader(serializeHar(flowsToHar(http)))] as HTTPFlow[];
    expect(back).toHaveLength(http.length);
    back.forEach((b, i) => {
      const a = http[i]!;
      expect(b.request.method).toBe(a.request.method);
      // Request.make sets the URL after the headers, which rewrites Host to the bare host (as in
      // mitmproxy), so compare the request target rather than the Host-based pretty URL.
      expect(b.request.url).toBe(a.request.url);
      expect(b.response?.statusCode ?? 0).toBe(a.response?.statusCode ?? 0);
      if (a.response && a.response.statusCode !== 101) expect(b.response!.content).toEqual(a.response.content);
      expect(b.request.timestampStart).toBeCloseTo(a.request.timestampStart, 5);
      // HAR's "HTTP/2.0" is not one of the spellings mitmproxy maps to HTTP/2.
      expect(b.request.httpVersion).toBe('HTTP/1.1');
    });
  });

  it('round-trips WebSocket messages: type, direction, content (text and binary), time', () => {
    const ws = mitmFlows.find((f) => (f as HTTPFlow).websocket) as HTTPFlow;
    const [back] = harToFlows(serializeHar(flowsToHar([ws]))) as [HTTPFlow];
    expect(back.websocket).not.toBeNull();
    const key = (m: WebSocketMessage) => [m.type, m.fromClient, m.content.toString('hex'), m.timestamp];
    expect(back.websocket!.messages.map(key)).toEqual(ws.websocket!.messages.map(key));
    expect(back.websocket!.messages.some((m) => m.type === WebSocketOpcode.BINARY)).toBe(true);
    // and the imported flow saves as a format 21 state mitmproxy reads
    expect(back.getState().websocket!.messages[0]).toHaveLength(6);
  });

  it("imports Chrome DevTools' _webSocketMessages, a close frame's code, and skips other control frames", () => {
    const entry = {
      startedDateTime: '2024-01-02T03:04:05.000Z',
      time: 12,
      _resourceType: 'websocket',
      request: {
        method: 'GET',
        url: 'wss://echo.example/socket',
        httpVersion: 'HTTP/1.1',
        headers: [{ name: 'Upgrade', value: 'websocket' }],
      },
      response: {
        status: 101,
        httpVersion: 'HTTP/1.1',
        headers: [{ name: 'Upgrade', value: 'websocket' }],
        content: { size: 0, mimeType: 'x-unknown' },
      },
      _webSocketMessages: [
        { type: 'send', time: 1704164645.5, opcode: 1, data: 'héllo' },
        { type: 'receive', time: 1704164645.6, opcode: 2, data: Buffer.from([0, 1, 254, 255]).toString('base64') },
        { type: 'receive', time: 1704164645.7, opcode: 9, data: '' },
        { type: 'send', time: 1704164645.8, opcode: 8, data: '', code: 4000, reason: 'bye' },
      ],
    };
    const [f] = harToFlows(JSON.stringify({ log: { entries: [entry] } })) as [HTTPFlow];
    const ws = f.websocket!;
    expect(ws.messages.map((m) => [m.type, m.fromClient, m.content.toString('hex'), m.timestamp])).toEqual([
      [1, true, Buffer.from('héllo').toString('hex'), 1704164645.5],
      [2, false, '0001feff', 1704164645.6],
    ]);
    expect([ws.closeCode, ws.closeReason, ws.closedByClient, ws.timestampEnd]).toEqual([
      4000,
      'bye',
      true,
      1704164645.8,
    ]);
    expect(() =>
      harToFlows(
        JSON.stringify({
          log: { entries: [{ ...entry, _webSocketMessages: [{ type: 'up', time: 1, opcode: 1, data: '' }] }] },
        }),
      ),
    ).toThrow(/log\.entries\[0\]\._webSocketMessages\[0\]\.type must be "send" or "receive"/);
  });

  it('rejects what is not HAR with a HAR error', () => {
    for (const bad of ['{', '{"log": {}}', '{"log": {"entries": [{"request": {}}]}}', '{"log": {"entries": [1]}}']) {
      let err: { code?: string; message?: string } = {};
      try {
        harToFlows(bad);
      } catch (e) {
        err = e as typeof err;
      }
      expect(err.code, bad).toBe(FlowReadErrorCode.HAR);
      expect(err.message).toMatch(/^Unable to read HAR file: .*Please provide a valid HAR file/);
    }
    expect(() => [
      ...new FlowReader(
        Buffer.from(
          '{"log": {"entries": [{"startedDateTime": "yesterday", "time": 1, "request": {"method": "GET", "url": "http://a/", "headers": []}, "response": {"status": 200, "headers": []}}]}}',
        ),
      ),
    ]).toThrow(/startedDateTime "yesterday" is not an ISO 8601/);
  });

  it('parses timestamps like datetime.fromisoformat and formats them like isoformat()', () => {
    expect(parseIsoTimestamp('2024-01-02T03:04:05.123456Z')).toBeCloseTo(1704164645.123456, 6);
    expect(parseIsoTimestamp('2024-01-02T03:04:05+02:00')).toBe(1704157445);
    expect(parseIsoTimestamp('2024-01-02T03:04:05.5-05:30')).toBe(1704184445.5);
    // Values from CPython: datetime.fromtimestamp(t, timezone.utc).isoformat()
    expect(isoTimestamp(1795308226.2792192)).toBe('2026-11-22T00:43:46.279219+00:00');
    expect(isoTimestamp(946681200)).toBe('1999-12-31T23:00:00+00:00');
    expect(isoTimestamp(0.5)).toBe('1970-01-01T00:00:00.500000+00:00');
    expect(isoTimestamp(1700000000.9999996)).toBe('2023-11-14T22:13:21+00:00');
  });

  it('isMostlyBinary follows mitmproxy (over 30% control or high bytes in the first 100)', () => {
    expect(isMostlyBinary(Buffer.from('plain text\n'))).toBe(false);
    expect(isMostlyBinary(Buffer.from([0, 1, 2, 65]))).toBe(true);
    expect(isMostlyBinary(Buffer.alloc(0))).toBe(false);
  });
});
