import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { looksLikeTls, parseClientHello, ClientHelloError } from '../../src/proxy/tls/clienthello.js';

/** Capture the real ClientHello Node's TLS client sends. */
function captureHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (parseClientHello(buf)) {
          resolve(buf);
          s.destroy();
          srv.close();
        }
      });
    });
    srv.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ ...opts, port: (srv.address() as net.AddressInfo).port, host: '127.0.0.1' });
      c.on('error', () => undefined);
      setTimeout(() => reject(new Error('no hello')), 2000).unref();
    });
  });
}

describe('ClientHello parsing', () => {
  it('reads SNI, ALPN and cipher suites from a real client', async () => {
    const raw = await captureHello({ servername: 'example.test', ALPNProtocols: ['h2', 'http/1.1'] });
    expect(looksLikeTls(raw)).toBe(true);
    const hello = parseClientHello(raw)!;
    expect(hello.sni).toBe('example.test');
    expect(hello.alpnProtocols).toEqual(['h2', 'http/1.1']);
    expect(hello.cipherSuites.length).toBeGreaterThan(3);
    expect(hello.extensions.some(([t]) => t === 0)).toBe(true);
    expect(hello.raw.length).toBe(raw.length);
  });

  it('waits for more bytes at every split point, and reassembles multi-record hellos', async () => {
    const raw = await captureHello({ servername: 'split.test' });
    for (let i = 0; i < raw.length; i++) expect(parseClientHello(raw.subarray(0, i))).toBeNull();
    // Split the handshake message across two records.
    const body = raw.subarray(5);
    const cut = 40;
    const rec = (b: Buffer) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
    const two = Buffer.concat([rec(body.subarray(0, cut)), rec(body.subarray(cut))]);
    expect(parseClientHello(two)!.sni).toBe('split.test');
  });

  it('has no SNI for an IP address', async () => {
    const raw = await captureHello({});
    expect(parseClientHello(raw)!.sni).toBeNull();
  });

  it('rejects what is not a ClientHello', () => {
    expect(looksLikeTls(Buffer.from('GET / HTTP/1.1\r\n'))).toBe(false);
    expect(() => parseClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toThrow(ClientHelloError);
    expect(() => parseClientHello(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0]))).toThrowError(
      'expected a ClientHello (handshake type 1), got type 2',
    );
  });
});
