import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Cert } from '../../src/certs/cert.js';
import { Client, ConnectionStatus, Server, StateError, tclientConn, tserverConn } from '../../src/flow/index.js';

const pem = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/example-com.pem'));

describe('connections', () => {
  it('are cheap to construct with fresh ids and sensible defaults', () => {
    const c = new Client({ peername: ['127.0.0.1', 5000], sockname: ['0.0.0.0', 8080], timestampStart: 1 });
    const s = new Server({ address: ['example.com', 443] });
    expect(c.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.id).not.toBe(new Client({ peername: ['a', 1], sockname: ['b', 2], timestampStart: 1 }).id);
    expect([c.connected, c.tls, c.tlsEstablished, c.proxyMode, c.transportProtocol, c.certificateList]).toEqual([
      true,
      false,
      false,
      'regular',
      'tcp',
      [],
    ]);
    expect([s.connected, s.state, s.timestampStart, s.peername, s.via]).toEqual([
      false,
      ConnectionStatus.CLOSED,
      null,
      null,
      null,
    ]);
    expect(String(c)).toBe('Client(127.0.0.1:5000, state=open)');
    expect(String(s)).toBe('Server(example.com:443, state=closed)');
  });

  it('a server address cannot change while the connection is open', () => {
    const s = new Server({ address: ['a', 1] });
    s.address = ['b', 2];
    s.state = ConnectionStatus.OPEN;
    s.address = ['b', 2];
    expect(() => (s.address = ['c', 3])).toThrow(/Cannot change server.address on an open connection/);
    expect(() => (s.via = ['http', ['proxy', 8080]])).toThrow(/server.via/);
  });

  it('state keys follow the format-21 schema exactly', () => {
    expect(Object.keys(tclientConn().getState()).sort()).toEqual(
      [
        'id',
        'peername',
        'sockname',
        'transport_protocol',
        'error',
        'tls',
        'certificate_list',
        'alpn',
        'alpn_offers',
        'cipher',
        'cipher_list',
        'tls_version',
        'sni',
        'timestamp_start',
        'timestamp_end',
        'timestamp_tls_setup',
        'mitmcert',
        'proxy_mode',
      ].sort(),
    );
    expect(Object.keys(tserverConn().getState()).sort()).toEqual(
      [
        'id',
        'peername',
        'sockname',
        'transport_protocol',
        'error',
        'tls',
        'certificate_list',
        'alpn',
        'alpn_offers',
        'cipher',
        'cipher_list',
        'tls_version',
        'sni',
        'timestamp_start',
        'timestamp_end',
        'timestamp_tls_setup',
        'address',
        'timestamp_tcp_setup',
        'via',
      ].sort(),
    );
  });

  it('round-trips state including certificates (parsed lazily) and via', () => {
    const c = tclientConn();
    c.certificateList = [Cert.fromPem(pem)];
    c.mitmcert = Cert.fromPem(pem);
    c.alpnOffers = [Buffer.from('h2'), Buffer.from('http/1.1')];
    c.cipherList = ['TLS_AES_128_GCM_SHA256'];
    const state = c.getState();
    expect(state.certificate_list).toEqual([pem]);
    expect(state.mitmcert).toEqual(pem);
    const c2 = Client.fromState(state);
    expect(c2.getState()).toEqual(state);
    expect(c2.certificateList[0]!.cn).toBe('example.com');
    expect(c2.certificateList[0]!.altnames).toEqual(['example.com', 'www.example.com', '127.0.0.1']);
    expect(c2.certificateList[0]!.organization).toBe('mitmts test');
    expect(c2.mitmcert!.equals(c.mitmcert)).toBe(true);
    const s = tserverConn();
    s.via = ['http', ['proxy.local', 3128]];
    const s2 = Server.fromState(s.getState());
    expect(s2.via).toEqual(['http', ['proxy.local', 3128]]);
    expect(s2.equals(s)).toBe(true);
    expect(s2.copy().getState()).toEqual(s.getState());
  });

  it('rejects malformed state', () => {
    const st = tclientConn().getState();
    expect(() => Client.fromState({ ...st, tls_version: 'TLSv9' as never })).toThrow(StateError);
    expect(() => Client.fromState({ ...st, transport_protocol: 'sctp' as never })).toThrow(/transport_protocol/);
    expect(() => Client.fromState({ ...st, extra: 1 } as never)).toThrow(
      /Unexpected fields in client connection state: extra/,
    );
  });
});
