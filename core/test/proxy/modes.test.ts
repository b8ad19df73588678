import { describe, expect, it } from 'vitest';
import { listenAddress, modeDescription, parseMode, parseModes } from '../../src/proxy/modes.js';
import { modeRefusal } from '../../src/proxy/modes/index.js';

describe('proxy mode specs', () => {
  it('parses the modes and their listen addresses', () => {
    expect(parseMode('regular')).toMatchObject({
      type: 'regular',
      data: '',
      customListenHost: null,
      customListenPort: null,
      defaultPort: 8080,
    });
    expect(parseMode('regular@8081')).toMatchObject({ customListenPort: 8081, customListenHost: null });
    expect(parseMode('regular@127.0.0.2:8082')).toMatchObject({
      customListenHost: '127.0.0.2',
      customListenPort: 8082,
    });
    expect(parseMode('socks5')).toMatchObject({ type: 'socks5', defaultPort: 1080 });
    expect(parseMode('REVERSE:example.com')).toMatchObject({
      type: 'reverse',
      server: { scheme: 'https', host: 'example.com', port: 443 },
    });
    expect(parseMode('reverse:http://example.com:8000/@9000')).toMatchObject({
      server: { scheme: 'http', host: 'example.com', port: 8000 },
      customListenPort: 9000,
    });
    expect(parseMode('upstream:proxy.local:3128')).toMatchObject({
      server: { scheme: 'http', host: 'proxy.local', port: 3128 },
    });
    expect(parseMode('reverse:[::1]:443')).toMatchObject({ server: { host: '::1', port: 443 } });
    expect(parseMode('reverse:dns://1.1.1.1')).toMatchObject({ defaultPort: 53, transport: 'both' });
    expect(listenAddress(parseMode('regular'), '', null)).toEqual({ host: '', port: 8080 });
    expect(listenAddress(parseMode('regular'), '127.0.0.1', 9999)).toEqual({ host: '127.0.0.1', port: 9999 });
  });

  it('explains bad specs', () => {
    expect(() => parseMode('foo')).toThrowError('Invalid proxy mode specification: foo (unknown mode)');
    expect(() => parseMode('regular:x')).toThrowError(
      'Invalid proxy mode specification: regular:x (mode takes no arguments)',
    );
    expect(() => parseMode('regular@99999')).toThrowError('(invalid port: 99999)');
    expect(() => parseMode('reverse:ftp://x')).toThrowError('(Invalid scheme: ftp)');
    expect(() => parseMode('reverse:tcp://x')).toThrowError('(Port specification missing.)');
    expect(() => parseMode('reverse:http://x/path')).toThrowError(/no path allowed/);
    expect(() => parseMode('osproxy')).toThrowError(/renamed to local mode/);
  });

  it('refuses two servers on one address', () => {
    expect(() => parseModes(['regular', 'upstream:http://p:1'], '', null)).toThrowError(
      'Cannot spawn multiple servers on the same address: :8080',
    );
    expect(parseModes(['regular', 'socks5'], '', null)).toHaveLength(2);
  });

  it('lets any number of listeners take port 0 (any free port)', () => {
    expect(parseModes(['regular@0', 'socks5@0', 'dns@0'], '', null)).toHaveLength(3);
  });

  it('names each mode in its listener log line as mitmproxy does', () => {
    expect(
      [
        'regular',
        'transparent',
        'socks5',
        'upstream:http://p:3128',
        'reverse:https://api.example',
        'reverse:tcp://db:5432@5432',
        'dns',
      ].map((m) => modeDescription(parseMode(m))),
    ).toEqual([
      'HTTP(S) proxy',
      'Transparent proxy',
      'SOCKS v5 proxy',
      'HTTP(S) proxy (upstream mode)',
      'Reverse proxy to https://api.example',
      'Reverse proxy to tcp://db:5432',
      'DNS server',
    ]);
  });
});

describe('modes mitmts refuses', () => {
  const SEE = 'see docs/modes.md.';
  it.each([
    [
      'wireguard',
      "wireguard mode needs a userspace WireGuard stack mitmts does not have. On Linux, run kernel WireGuard (wg-quick) and send the WireGuard interface's traffic into transparent mode with TPROXY; " +
        SEE,
    ],
    [
      'wireguard:/etc/wg.conf@51821',
      "wireguard mode needs a userspace WireGuard stack mitmts does not have. On Linux, run kernel WireGuard (wg-quick) and send the WireGuard interface's traffic into transparent mode with TPROXY; " +
        SEE,
    ],
    [
      'local:curl',
      'local mode needs an OS-level process redirector mitmts does not have. Point the program at a regular-mode listener (HTTP_PROXY/HTTPS_PROXY; socks5 mode for programs that only speak SOCKS), or use transparent mode on Linux; ' +
        SEE,
    ],
    [
      'tun',
      'tun mode needs a userspace TCP/IP stack mitmts does not have. On Linux, route the traffic into transparent mode with TPROXY instead; ' +
        SEE,
    ],
    [
      'reverse:http3://example.com',
      'HTTP/3 and QUIC need QUIC, which Node 20 does not have. Use reverse:https://example.com instead: clients fall back to HTTP/1.1 or HTTP/2 over TCP; ' +
        SEE,
    ],
    [
      'reverse:quic://example.com:4433',
      'HTTP/3 and QUIC need QUIC, which Node 20 does not have. Use reverse:https://example.com:4433 instead: clients fall back to HTTP/1.1 or HTTP/2 over TCP; ' +
        SEE,
    ],
    [
      'reverse:udp://example.com:53',
      'mitmts has no UDP relay (udp, dtls targets); it reverse-proxies TCP targets (http, https, tls, tcp) and DNS (dns); ' +
        SEE,
    ],
    [
      'reverse:dtls://example.com:853',
      'mitmts has no UDP relay (udp, dtls targets); it reverse-proxies TCP targets (http, https, tls, tcp) and DNS (dns); ' +
        SEE,
    ],
  ])('%s, saying what to use instead', (spec, why) => {
    expect(modeRefusal(parseMode(spec))).toBe(`Proxy mode ${spec} is not supported: ${why}`);
  });

  it('none of the modes that run', () => {
    for (const m of [
      'regular',
      'transparent',
      'socks5',
      'upstream:https://p:3128',
      'reverse:http://a',
      'reverse:https://a',
      'reverse:tls://a:1',
      'reverse:tcp://a:1',
      'reverse:dns://1.1.1.1',
      'dns',
    ]) {
      expect(modeRefusal(parseMode(m))).toBeNull();
    }
  });
});
