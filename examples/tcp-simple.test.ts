import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { messages, proxyWith } from './support.js';

let echo: net.Server;
let received = '';
let proxy: EmbeddedProxy;
beforeAll(async () => {
  // A line-echo server speaking neither HTTP nor TLS.
  echo = net.createServer((s) =>
    s.on('data', (d) => {
      received += d.toString();
      s.write(d);
    }),
  );
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  proxy = await proxyWith('tcp-simple.ts');
});
afterAll(async () => {
  await proxy.close();
  await new Promise((r) => echo.close(r));
});

describe('tcp-simple', () => {
  it('rewrites foo to bar in the messages it relays', async () => {
    const { port } = echo.address() as net.AddressInfo;
    const socket = net.connect(proxy.port, proxy.host);
    const reply = await new Promise<string>((resolve, reject) => {
      let buf = '';
      let tunnelled = false;
      socket.on('error', reject);
      socket.on('data', (d) => {
        buf += d.toString('latin1');
        if (!tunnelled && buf.includes('\r\n\r\n')) {
          expect(buf).toMatch(/^HTTP\/1\.1 200/);
          tunnelled = true;
          buf = '';
          socket.write('say foo\n');
        } else if (tunnelled && buf.endsWith('\n')) resolve(buf);
      });
      socket.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    });
    socket.destroy();
    expect(received).toBe('say bar\n');
    expect(reply).toBe('say bar\n');
    expect(messages(proxy, 'info')).toContain('tcp_message[from_client=true, content="say bar\\n"]');
  });
});
