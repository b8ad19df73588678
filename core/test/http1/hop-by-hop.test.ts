import { describe, expect, it } from 'vitest';
import { responseFieldsForClient, withoutHopByHop } from '../../src/proxy/http1/hop-by-hop.js';
import type { RawHeaders } from '../../src/proxy/http1/types.js';

const fields = (...pairs: Array<[string, string]>): RawHeaders =>
  pairs.map(([n, v]) => [Buffer.from(n), Buffer.from(v)]);
const text = (f: RawHeaders): string[] => f.map(([n, v]) => `${n.toString()}: ${v.toString()}`);
const REQUEST = { request: true, keepProxyAuthorization: false };

describe('withoutHopByHop', () => {
  it('returns the same array when there is nothing to remove', () => {
    const f = fields(['Host', 'a'], ['Accept', '*/*']);
    expect(withoutHopByHop(f, REQUEST)).toBe(f);
  });

  it('drops Connection and every field it names, in any case, over several Connection fields', () => {
    const f = fields(
      ['Host', 'a'],
      ['connection', 'X-One'],
      ['CONNECTION', 'x-two, close'],
      ['x-one', '1'],
      ['X-TWO', '2'],
      ['X-Three', '3'],
    );
    expect(text(withoutHopByHop(f, REQUEST))).toEqual(['Host: a', 'X-Three: 3']);
  });

  it('keeps TE only as trailers, drops Keep-Alive, Proxy-Connection and Upgrade outside an upgrade', () => {
    expect(
      text(
        withoutHopByHop(
          fields(['TE', 'gzip, Trailers'], ['Keep-Alive', '5'], ['Proxy-Connection', 'keep-alive'], ['Upgrade', 'h2c']),
          REQUEST,
        ),
      ),
    ).toEqual(['TE: trailers']);
    expect(text(withoutHopByHop(fields(['TE', 'gzip']), REQUEST))).toEqual([]);
  });

  it('keeps Connection: upgrade and Upgrade on a request that upgrades, not on a response', () => {
    const f = fields(['Connection', 'keep-alive, Upgrade'], ['Upgrade', 'websocket'], ['Keep-Alive', '5']);
    expect(text(withoutHopByHop(f, REQUEST))).toEqual(['Connection: keep-alive, Upgrade', 'Upgrade: websocket']);
    expect(text(withoutHopByHop(f, { request: false, keepProxyAuthorization: true }))).toEqual([]);
  });

  it('drops Proxy-Authorization unless it is kept (upstream mode)', () => {
    const f = fields(['Proxy-Authorization', 'Basic eA=='], ['Host', 'a']);
    expect(text(withoutHopByHop(f, REQUEST))).toEqual(['Host: a']);
    expect(withoutHopByHop(f, { request: true, keepProxyAuthorization: true })).toBe(f);
  });
});

describe('responseFieldsForClient', () => {
  const f = fields(['Connection', 'keep-alive'], ['Content-Length', '2']);
  it('says close when the proxy closes, keep-alive to an HTTP/1.0 client it keeps, nothing otherwise', () => {
    expect(text(responseFieldsForClient(f, false, false))).toEqual(['Content-Length: 2', 'Connection: close']);
    expect(text(responseFieldsForClient(f, true, true))).toEqual(['Content-Length: 2', 'Connection: keep-alive']);
    expect(text(responseFieldsForClient(f, true, false))).toEqual(['Content-Length: 2']);
  });
});
