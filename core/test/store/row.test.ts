import { describe, expect, it } from 'vitest';
import { tdnsflow, tflow, ttcpflow, tudpflow, twebsocketflow } from '../../src/flow/testing.js';
import { flowRow } from '../../src/store/row.js';

describe('flowRow', () => {
  it('gives every flow type a row of the same shape: the same fields in the same order', () => {
    const keys = (f: Parameters<typeof flowRow>[0]): string[] => Object.keys(flowRow(f, 1));
    const http = keys(tflow({ resp: true }));
    expect(http).toHaveLength(29);
    for (const f of [tflow(), twebsocketflow(), ttcpflow(), tudpflow(), tdnsflow()]) expect(keys(f)).toEqual(http);
  });

  it('reads an HTTP flow: URL from the Host header, content types joined, sizes, addresses', () => {
    const f = tflow({ resp: true, err: true });
    f.request.headers.set('host', 'example.com');
    f.request.headers.add('content-type', 'text/plain');
    f.request.headers.add('Content-Type', 'text/html');
    f.response!.headers.set('content-type', 'application/json');
    f.marked = ':star:';
    f.comment = 'checked';
    f.isReplay = 'request';
    f.clientConn.tls = true;
    const r = flowRow(f, 7);
    expect(r).toEqual({
      seq: 7,
      id: f.id,
      type: 'http',
      timestampCreated: f.timestampCreated,
      timestampStart: f.request.timestampStart,
      timestampEnd: f.response!.timestampEnd,
      method: 'GET',
      scheme: 'http',
      host: 'address',
      prettyHost: 'example.com',
      port: 22,
      path: '/path',
      // The Host header names no port: the pretty URL takes the scheme's default (as mitmproxy's pretty_url).
      url: 'http://example.com/path',
      httpVersion: 'HTTP/1.1',
      status: 200,
      hasResponse: true,
      requestContentType: 'text/plain\ntext/html',
      responseContentType: 'application/json',
      requestSize: f.request.rawContent!.length,
      responseSize: f.response!.rawContent!.length,
      websocket: false,
      marked: ':star:',
      comment: 'checked',
      error: f.error!.msg,
      isReplay: 'request',
      intercepted: false,
      tls: true,
      clientAddress: `${f.clientConn.peername![0]}:${f.clientConn.peername![1]}`,
      serverAddress: `${f.serverConn.address![0]}:${f.serverConn.address![1]}`,
    });
    // Without a response, the end is the error's time; without either, none.
    const failed = tflow({ err: true });
    expect(flowRow(failed, 1)).toMatchObject({
      status: null,
      hasResponse: false,
      timestampEnd: failed.error!.timestamp,
    });
    expect(flowRow(tflow(), 1)).toMatchObject({ timestampEnd: null, responseContentType: '', responseSize: 0 });
  });
});
