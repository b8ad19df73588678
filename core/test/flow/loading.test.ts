/**
 * Loading flows from states cheaply without changing what comes out: adopted state arrays,
 * fields decoded lazily (mitmcert) or shared (common short strings), key checks that remember
 * the last order, constructors that only make ids and timestamps for new objects.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Cert } from '../../src/certs/cert.js';
import { latin1Of } from '../../src/flow/bytes.js';
import {
  Client,
  flowFromState,
  Headers,
  HTTPFlow,
  Request,
  Response,
  Server,
  StateError,
  tclientConn,
  tflow,
  tflows,
  tserverConn,
  url,
  type HTTPFlowState,
} from '../../src/flow/index.js';
import { StateKeys } from '../../src/flow/state-keys.js';

const pem = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/example-com.pem'));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Flow ids: version 7 (time-ordered, flow-id.ts). */
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('loading flows', () => {
  it('round-trips every kind of flow, copying or adopting the state', () => {
    for (const f of tflows()) {
      const state = f.getState();
      expect(flowFromState(f.getState()).getState()).toEqual(state);
      expect(flowFromState(f.getState(), true).getState()).toEqual(state);
    }
  });

  it('copies the state by default: changing it afterwards does not change the flow', () => {
    const state = tflow({ resp: true }).getState();
    const f = flowFromState(state) as HTTPFlow;
    const before = f.getState();
    state.client_conn.peername[1] = 1;
    state.server_conn.alpn_offers.push(Buffer.from('h3'));
    state.request.headers.push([Buffer.from('x'), Buffer.from('y')]);
    state.metadata.k = 'v';
    expect(f.getState()).toEqual(before);
  });

  it('with adopt, takes the state arrays over instead of copying them', () => {
    const state = tflow({ resp: true }).getState();
    const f = flowFromState(state, true) as HTTPFlow;
    expect(f.clientConn.peername).toBe(state.client_conn.peername);
    expect(f.serverConn.alpnOffers).toBe(state.server_conn.alpn_offers);
    expect(f.request.headers.fields).toBe(state.request.headers);
    expect(f.metadata).toBe(state.metadata);
    // getState still hands out copies.
    expect(f.getState().request.headers).not.toBe(state.request.headers);
  });

  it('gives new flows and connections fresh ids and times, and loaded ones those of their state', () => {
    const before = Date.now();
    const f = new HTTPFlow(tclientConn(), tserverConn());
    expect(f.id).toMatch(UUID7);
    // The first 48 bits are the time the id was made: ids sort in the order they were made (to the millisecond).
    const ms = parseInt(f.id.slice(0, 8) + f.id.slice(9, 13), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
    expect(new HTTPFlow(tclientConn(), tserverConn()).id.slice(0, 13) >= f.id.slice(0, 13)).toBe(true);
    expect(f.timestampCreated).toBeGreaterThan(1.6e9);
    expect(f.metadata).toEqual({});
    f.metadata.x = 1; // a new flow's metadata is its own, mutable object
    expect(new HTTPFlow(tclientConn(), tserverConn()).metadata).toEqual({});
    expect(new Client({ peername: ['a', 1], sockname: ['b', 2], timestampStart: 1 }).id).toMatch(UUID);
    expect(new Server().id).toMatch(UUID);
    const state = tflow().getState();
    const g = flowFromState(state) as HTTPFlow;
    expect([g.id, g.clientConn.id, g.serverConn.id, g.timestampCreated]).toEqual([
      state.id,
      state.client_conn.id,
      state.server_conn.id,
      state.timestamp_created,
    ]);
    // Loaded connections get their own arrays, not the loader's placeholders.
    g.clientConn.alpnOffers.push(Buffer.from('h2'));
    g.serverConn.cipherList.push('x');
    expect(flowFromState(state).clientConn.alpnOffers).toEqual([]);
    expect(flowFromState(state).serverConn.cipherList).toEqual([]);
  });
});

describe('mitmcert is parsed on first access', () => {
  const state = (): ReturnType<Client['getState']> => ({ ...tclientConn().getState(), mitmcert: pem });

  it('writes an unparsed certificate back byte for byte', () => {
    const s = state();
    const c = Client.fromState(s);
    expect(c.getState().mitmcert).toBe(pem);
    expect(c.getState()).toEqual(s);
  });

  it('parses it when read, and the state still round-trips', () => {
    const c = Client.fromState(state());
    expect(c.mitmcert).toBeInstanceOf(Cert);
    expect(c.mitmcert!.cn).toBe('example.com');
    expect(c.getState().mitmcert!.equals(pem)).toBe(true);
  });

  it('takes a set certificate or null over the loaded one', () => {
    const c = Client.fromState(state());
    c.mitmcert = null;
    expect(c.getState().mitmcert).toBeNull();
    const d = Client.fromState(state());
    const other = Cert.fromPem(pem);
    d.mitmcert = other;
    expect(d.mitmcert).toBe(other);
  });

  it('reports a damaged certificate when it is read, not when the flow is loaded', () => {
    const c = Client.fromState({ ...tclientConn().getState(), mitmcert: Buffer.from('not a certificate') });
    expect(c.getState().mitmcert).toEqual(Buffer.from('not a certificate'));
    expect(() => c.mitmcert).toThrow();
  });
});

describe('short latin1 fields', () => {
  it('come back as shared constants when common, decoded otherwise, and round-trip byte for byte', () => {
    expect(latin1Of(Buffer.from('GET'))).toBe('GET');
    expect(latin1Of(Buffer.from('HTTP/1.1'))).toBe('HTTP/1.1');
    expect(latin1Of(Buffer.from('get'))).toBe('get');
    expect(latin1Of(Buffer.from([0x4f, 0xff]))).toBe('O\xff');
    expect(latin1Of(Buffer.alloc(0))).toBe('');
    const state = tflow({ resp: true }).getState();
    state.request.method = Buffer.from('pAtCh');
    state.request.scheme = Buffer.from('https');
    state.request.http_version = Buffer.from('HTTP/2.0');
    state.response!.reason = Buffer.from([0x4f, 0x4b, 0xe9, 0xff]);
    const f = flowFromState(state, true) as HTTPFlow;
    expect([f.request.method, f.request.rawMethod, f.request.httpVersion, f.response!.reason]).toEqual([
      'PATCH',
      'pAtCh',
      'HTTP/2.0',
      'OK\xe9\xff',
    ]);
    const out = f.getState() as HTTPFlowState;
    expect(out.request.method).toEqual(Buffer.from('pAtCh'));
    expect(out.response!.reason).toEqual(Buffer.from([0x4f, 0x4b, 0xe9, 0xff]));
  });

  it('load through Request.fromState and Response.fromState like through setState', () => {
    const req = tflow().request.getState();
    const viaSet = new Request({ host: '', port: 0, method: '', scheme: '', path: '' });
    viaSet.setState(req);
    expect(Request.fromState(req).getState()).toEqual(viaSet.getState());
    const resp = tflow({ resp: true }).response!.getState();
    const r = new Response({ statusCode: 0 });
    r.setState(resp);
    expect(Response.fromState(resp).getState()).toEqual(r.getState());
  });
});

describe('StateKeys', () => {
  const keys = new StateKeys(['a', 'b', 'c'], 'test');

  it('accepts allowed keys in any order, also after it learned another order', () => {
    keys.check({ a: 1, b: 2, c: 3 });
    keys.check({ c: 3, a: 1 });
    keys.check({ a: 1, b: 2, c: 3 });
    keys.check({});
  });

  it('names every unexpected key, whatever order it learned', () => {
    keys.check({ a: 1, b: 2 });
    expect(() => keys.check({ a: 1, b: 2, x: 0, y: 0 })).toThrow(
      new StateError('Unexpected fields in test state: x, y.'),
    );
    expect(() => keys.check({ x: 0, a: 1 })).toThrow(/Unexpected fields in test state: x\./);
  });

  it('ignores inherited keys, as Object.keys does', () => {
    const o = Object.create({ inherited: 1 }) as Record<string, number>;
    o.a = 1;
    keys.check(o);
  });

  it('is what flows use: an unexpected key in a connection or a flow is still rejected', () => {
    const state = tflow().getState();
    flowFromState(state);
    expect(() => flowFromState({ ...state, extra: 1 } as never)).toThrow(/Unexpected fields in http flow state: extra/);
    expect(() => flowFromState({ ...state, client_conn: { ...state.client_conn, extra: 1 } } as never)).toThrow(
      /Unexpected fields in client connection state: extra/,
    );
  });
});

describe('hot paths of filters', () => {
  it('Headers.toString gives the header block byte for byte as latin1, also past its scratch size', () => {
    const h = new Headers([
      [Buffer.from('X-A'), Buffer.from([0xe9, 0xff, 0x20])],
      ['b', ''],
    ]);
    expect(h.toString()).toBe('X-A: \xe9\xff \r\nb: \r\n');
    expect(new Headers().toString()).toBe('');
    const big = new Headers([
      ['x', 'y'.repeat(10_000)],
      ['z', '1'],
    ]);
    expect(big.toString()).toBe(`x: ${'y'.repeat(10_000)}\r\nz: 1\r\n`);
    expect(h.toString()).toBe('X-A: \xe9\xff \r\nb: \r\n');
  });

  it('parseAuthority without checks answers as the full parse does', () => {
    for (const a of [
      'example.com',
      'example.com:8080',
      '[::1]',
      '[::1]:443',
      '[abc]',
      '',
      'bad host',
      'a:b',
      'xn--bcher-kva.example',
      'ex_ample.com.',
    ]) {
      const slow = (() => {
        // The full parse, as before the shortcut: regex, brackets, validation.
        const m = /^([^:]+|\[.+\])(?::([0-9]+))?$/.exec(a);
        if (!m) return [a, null];
        let host = m[1]!;
        if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
        const port = m[2] === undefined ? null : Number(m[2]);
        const ok = url.isValidHost(host) && (port === null || url.isValidPort(port));
        return ok ? [host, port] : [a, null];
      })();
      expect(url.parseAuthority(a, false), a).toEqual(slow);
    }
  });
});
