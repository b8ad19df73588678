import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect, TLSSocket, type ConnectionOptions, type PeerCertificate, type SecureContext } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { CertStore } from '../../src/certs/index.js';
import { parseClientHello } from '../../src/proxy/tls/clienthello.js';
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
async function handshake(
  opts: ConnectionOptions,
): Promise<{ peer: PeerCertificate; protocol: string | null; cipher: string }> {
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

describe("TLS handshakes with the store's certificates", async () => {
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

  it('signs with the ECDSA leaf key, also over TLS 1.2 (ECDHE-ECDSA)', async () => {
    const { cipher, protocol } = await handshake({
      host: '127.0.0.1',
      port,
      servername: 'tls12.example.test',
      ca,
      maxVersion: 'TLSv1.2',
    });
    expect(protocol).toBe('TLSv1.2');
    expect(cipher).toMatch(/^ECDHE-ECDSA-/);
  });

  it("offers DHE with the DH parameters file (TLS 1.2) when leaves carry the CA's RSA key", async () => {
    const rsa = await CertStore.fromConfdir(store.paths.confdir, { leafKey: 'ca' });
    const { port: rsaPort } = await serve(rsa, '127.0.0.1');
    const { cipher, protocol } = await handshake({
      host: '127.0.0.1',
      port: rsaPort,
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
  const dir = mitmproxyConfdir();
  const store = await CertStore.fromConfdir(dir);
  const { port } = await serve(store, '127.0.0.1');

  it("verifies against the CA certificate users installed, also with mitmproxy's DH parameters", async () => {
    const { peer } = await handshake({
      host: '127.0.0.1',
      port,
      servername: 'trusted.example.test',
      ca: store.caCertPem,
    });
    expect(peer.subject.CN).toBe('trusted.example.test');
    expect(peer.pubkey!.length).toBe(65); // an uncompressed P-256 point
    const rsa = await CertStore.fromConfdir(dir, { leafKey: 'ca' });
    const dhe = await handshake({
      host: '127.0.0.1',
      port: (await serve(rsa, '127.0.0.1')).port,
      servername: 'dhe.example.test',
      ca: store.caCertPem,
      maxVersion: 'TLSv1.2',
      ciphers: 'DHE-RSA-AES128-GCM-SHA256',
    });
    expect(dhe.cipher).toBe('DHE-RSA-AES128-GCM-SHA256');
  });
});

/**
 * A server that reads each connection's ClientHello first (as the proxy does), waits until
 * `batch` connections are there, then creates all their TLS sockets back to back with
 * `handshakeContext`: every handshake runs after the shared context was last changed.
 */
async function batchServer(store: CertStore, batch: number): Promise<{ port: number; contexts: SecureContext[] }> {
  const waiting: Array<{ raw: Socket; buf: Buffer; sni: string }> = [];
  const contexts: SecureContext[] = [];
  const server = createServer((raw) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const hello = parseClientHello(buf);
      if (!hello) return;
      raw.removeListener('data', onData);
      raw.pause();
      waiting.push({ raw, buf, sni: hello.sni! });
      if (waiting.length < batch) return;
      for (const w of waiting.splice(0)) {
        w.raw.unshift(w.buf);
        const ctx = store.handshakeContext(store.getCert(w.sni, [w.sni]));
        contexts.push(ctx);
        const t = new TLSSocket(w.raw, { isServer: true, secureContext: ctx });
        t.on('error', () => t.destroy());
        t.pipe(t);
      }
    };
    raw.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  afterAll(() => server.close());
  return { port: (server.address() as AddressInfo).port, contexts };
}

describe('handshakes of new hosts through the shared context', async () => {
  const store = await CertStore.fromConfdir(mitmproxyConfdir());

  it('present each connection its own leaf, verified against the CA', async () => {
    const names = ['one.shared.test', 'two.shared.test', 'three.shared.test', 'four.shared.test'];
    const { port, contexts } = await batchServer(store, names.length);
    const results = await Promise.all(
      names.map((servername) => handshake({ host: '127.0.0.1', port, servername, ca: store.caCertPem })),
    );
    expect(results.map((r) => r.peer.subject.CN)).toEqual(names);
    expect(results.map((r) => r.peer.subjectaltname)).toEqual(names.map((n) => `DNS:${n}`));
    // All four went through the one shared context.
    expect(new Set(contexts).size).toBe(1);
    expect(new Set(results.map((r) => r.peer.fingerprint256)).size).toBe(4);
  });

  it('keep presenting the right leaf once a host has its own context', async () => {
    const names = ['again.shared.test', 'other.shared.test'];
    const { port, contexts } = await batchServer(store, names.length);
    for (let round = 0; round < 4; round++) {
      const results = await Promise.all(
        names.map((servername) => handshake({ host: '127.0.0.1', port, servername, ca: store.caCertPem })),
      );
      expect(results.map((r) => r.peer.subject.CN)).toEqual(names);
    }
    // The first rounds shared one context; later rounds used each host's own.
    expect(new Set(contexts).size).toBe(3);
  });

  it('resume TLS sessions across contexts (one set of ticket keys per store)', async () => {
    const { port, contexts } = await batchServer(store, 1);
    let session: Buffer | undefined;
    const reused: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      const sock = connect({
        host: '127.0.0.1',
        port,
        servername: 'resume.shared.test',
        ca: store.caCertPem,
        ...(session ? { session } : {}),
      });
      sock.on('session', (s: Buffer) => (session = s));
      await once(sock, 'secureConnect');
      sock.write('ping\n');
      await once(sock, 'data');
      reused.push(sock.isSessionReused());
      sock.destroy();
    }
    expect(reused).toEqual([false, true, true, true]);
    // Shared context twice, then the host's own: resumption does not depend on which one.
    expect(new Set(contexts).size).toBe(2);
  });
});
