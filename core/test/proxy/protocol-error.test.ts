import { describe, expect, it } from 'vitest';
import { DnsWireError, DnsWireErrorCodes } from '../../src/proxy/dns/index.js';
import { Http1Error, Http1ErrorCodes } from '../../src/proxy/http1/index.js';
import { Http2Error, Http2ErrorCodes } from '../../src/proxy/http2/index.js';
import { ProtocolError } from '../../src/proxy/protocol-error.js';
import { Socks5Error, Socks5ErrorCodes } from '../../src/proxy/socks5/index.js';
import {
  WebSocketError,
  WebSocketErrorCodes,
  WebSocketHandshakeError,
  WebSocketHandshakeErrorCodes,
} from '../../src/proxy/websocket/index.js';

describe('ProtocolError', () => {
  it.each([
    ['http1', 'Http1Error', new Http1Error(Http1ErrorCodes.BAD_HEADER, 'bad header', 'request', 7), 7],
    ['http2', 'Http2Error', new Http2Error(Http2ErrorCodes.PROTOCOL, 'bad frame', 1, 3), -1],
    ['websocket', 'WebSocketError', new WebSocketError(WebSocketErrorCodes.MASK, 'unmasked', 'client frame', 9), 9],
    [
      'websocket',
      'WebSocketHandshakeError',
      new WebSocketHandshakeError(WebSocketHandshakeErrorCodes.BAD_REQUEST, 'no key'),
      -1,
    ],
    ['dns', 'DnsWireError', new DnsWireError(DnsWireErrorCodes.TRUNCATED, 'short', 12), 12],
    ['socks5', 'Socks5Error', new Socks5Error(Socks5ErrorCodes.MALFORMED, 'bad version', 0), 0],
  ] as const)('%s: %s keeps its name, code, message and offset', (protocol, name, err, offset) => {
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toBeInstanceOf(Error);
    expect(err.protocol).toBe(protocol);
    expect(err.name).toBe(name);
    expect(err.code).toMatch(/^MITMTS_ERR_/);
    expect(err.offset).toBe(offset);
    expect(String(err)).toBe(`${name}: ${err.message}`);
  });

  it('keeps what each protocol answers with', () => {
    expect(new Http1Error(Http1ErrorCodes.HEAD_TOO_LARGE, 'x', 'request').status).toBe(431);
    expect(new Http1Error(Http1ErrorCodes.HEAD_TOO_LARGE, 'x', 'response').status).toBe(502);
    const h2 = new Http2Error(Http2ErrorCodes.FLOW_CONTROL, 'x', 3, 5);
    expect([h2.errorCode, h2.streamId, h2.isConnectionError]).toEqual([3, 5, false]);
    const ws = new WebSocketError(WebSocketErrorCodes.INVALID_UTF8, 'not UTF-8', 'text message');
    expect([ws.closeCode, ws.closeReason, ws.message]).toEqual([1007, 'not UTF-8', 'not UTF-8: text message']);
    ws.offset = 40;
    expect(ws.describe()).toBe('WebSocket protocol error (frame at byte 40): not UTF-8: text message');
  });
});
