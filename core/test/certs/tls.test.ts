import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { connect, TLSSocket, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { CertStore } from '../../src/certs/index.js';
import { mitmproxyConfdir, tempDir } from './helpers.js';

/**
 * A TLS echo server on loopback that picks its certificate the way the runtime will: names from
 * the SNI (SNICallback), or without SNI from the local address the client connected to.
 */
async function serve(store: CertStore, host: string): Promise<{ port: number; server: Server }> {
  const server = createServer((raw) => {
    const local = store.selectNames({ localAddress: raw.localAddress ?? null });
    const tls = new TLSSocket(raw, {
      isServer: true,
      secureContext: store.secureContext(store.getCert(local.cn, local.sans)),
      SNICallback: (servername, cb) => {
        const n = store.selectNames({ sni: servername, localAddress: raw.localAddress ?? null });
        cb(null, store.secureContext(store.getCert(n.cn, n.sans)));
      },
    });
    tls.on('error', () => tls.destroy());
    tls.pipe(tls);
  });
  server.listen(0, host);
  await once(server, 'listening');
  afterAll(() => server.close());
  return { port: (server.address() as AddressInfo).port, server };
}

/** Connect, verify against the CA, exchange a line, return the server's certificate. */
async function handshake(opts: ConnectionOptions): Promise<{ peer: PeerCertificate; protocol: string | null; cipher: string }> {
  const sock = connect(opts);
  await once(sock, 'secureConnect');
  expect(sock.authorized).toBe(true);
  sock.write('ping\n');
  const [data] = (await once(sock, 'data')) as [Buffer];
  expect(data.toString()).toBe('ping\n');
  const result = { peer: sock.getPeerCertificate(), protocol: sock.getProtocol(), cipher: sock.getCipher().name };
  sock.destroy();
  return result;
}

describe('TLS handshakes with the store\'s certificates', async () => {
  const store = await CertStore.fromConfdir(tempDir());
  const { port } = await serve(store, '127.0.0.1');
  const ca = store.caCertPem;

  it('verifies for a DNS name sent as SNI', async () => {
    const { peer, protocol } = await handshake({ host: '127.0.0.1', port, servername: 'www.example.test', ca });
    expect(peer.subject.CN).toBe('www.example.test');
    expect(peer.subjectaltname).toBe('DNS:www.example.test');
    expect(peer.issuer.CN).toBe('mitmproxy');
    expect(protocol).toBe('TLSv1.3');
  });

  it('verifies for an IP address (no SNI)', async () => {
    const { peer } = await handshake({ host: '127.0.0.1', port, ca });
    expect(peer.subjectaltname).toBe('IP Address:127.0.0.1');
  });

  it('reuses the cached certificate for a known host', async () => {
    const first = await handshake({ host: '127.0.0.1', port, servername: 'again.example.test', ca });
    const count = store.generatedCount;
    const second = await handshake({ host: '127.0.0.1', port, servername: 'again.example.test', ca });
    expect(second.peer.fingerprint256).toBe(first.peer.fingerprint256);
    expect(store.generatedCount).toBe(count);
  });

  it('fails verification for a client that does not trust the CA', async () => {
    const sock = connect({ host: '127.0.0.1', port, servername: 'x.example.test' });
    const [err] = (await once(sock, 'error')) as [NodeJS.ErrnoException];
    // Only the leaf is served (as mitmproxy does when the CA file holds just the CA).
    expect(err.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('offers DHE with the DH parameters file (TLS 1.2)', async () => {
    const { cipher, protocol } = await handshake({
      host: '127.0.0.1',
      port,
      servername: 'dhe.example.test',
      ca,
      maxVersion: 'TLSv1.2',
      ciphers: 'DHE-RSA-AES128-GCM-SHA256',
    });
    expect(protocol).toBe('TLSv1.2');
    expect(cipher).toBe('DHE-RSA-AES128-GCM-SHA256');
  });

  it('verifies over IPv6', async () => {
    const v6 = await serve(store, '::1');
    const { peer } = await handshake({ host: '::1', port: v6.port, ca });
    expect(peer.subjectaltname).toBe('IP Address:0:0:0:0:0:0:0:1');
  });
});

describe('TLS handshakes with a CA made by mitmproxy', async () => {
  const store = await CertStore.fromConfdir(mitmproxyConfdir());
  const { port } = await serve(store, '127.0.0.1');

  it('verifies against the CA certificate users installed, also with mitmproxy\'s DH parameters', async () => {
    const { peer } = await handshake({ host: '127.0.0.1', port, servername: 'trusted.example.test', ca: store.caCertPem });
    expect(peer.subject.CN).toBe('trusted.example.test');
    const dhe = await handshake({
      host: '127.0.0.1',
      port,
      servername: 'dhe.example.test',
      ca: store.caCertPem,
      maxVersion: 'TLSv1.2',
      ciphers: 'DHE-RSA-AES128-GCM-SHA256',
    });
    expect(dhe.cipher).toBe('DHE-RSA-AES128-GCM-SHA256');
  });
});
