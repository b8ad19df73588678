import { describe, expect, it } from 'vitest';
import { listenAddress, parseMode, parseModes } from '../../src/proxy/modes.js';

describe('proxy mode specs', () => {
  it('parses the modes and their listen addresses', () => {
    expect(parseMode('regular')).toMatchObject({ type: 'regular', data: '', customListenHost: null, customListenPort: null, defaultPort: 8080 });
    expect(parseMode('regular@8081')).toMatchObject({ customListenPort: 8081, customListenHost: null });
    expect(parseMode('regular@127.0.0.2:8082')).toMatchObject({ customListenHost: '127.0.0.2', customListenPort: 8082 });
    expect(parseMode('socks5')).toMatchObject({ type: 'socks5', defaultPort: 1080 });
    expect(parseMode('REVERSE:example.com')).toMatchObject({ type: 'reverse', server: { scheme: 'https', host: 'example.com', port: 443 } });
    expect(parseMode('reverse:http://example.com:8000/@9000')).toMatchObject({ server: { scheme: 'http', host: 'example.com', port: 8000 }, customListenPort: 9000 });
    expect(parseMode('upstream:proxy.local:3128')).toMatchObject({ server: { scheme: 'http', host: 'proxy.local', port: 3128 } });
    expect(parseMode('reverse:[::1]:443')).toMatchObject({ server: { host: '::1', port: 443 } });
    expect(parseMode('reverse:dns://1.1.1.1')).toMatchObject({ defaultPort: 53, transport: 'both' });
    expect(listenAddress(parseMode('regular'), '', null)).toEqual({ host: '', port: 8080 });
    expect(listenAddress(parseMode('regular'), '127.0.0.1', 9999)).toEqual({ host: '127.0.0.1', port: 9999 });
  });

  it('explains bad specs', () => {
    expect(() => parseMode('foo')).toThrowError('Invalid proxy mode specification: foo (unknown mode)');
    expect(() => parseMode('regular:x')).toThrowError('Invalid proxy mode specification: regular:x (mode takes no arguments)');
    expect(() => parseMode('regular@99999')).toThrowError('(invalid port: 99999)');
    expect(() => parseMode('reverse:ftp://x')).toThrowError('(Invalid scheme: ftp)');
    expect(() => parseMode('reverse:tcp://x')).toThrowError('(Port specification missing.)');
    expect(() => parseMode('reverse:http://x/path')).toThrowError(/no path allowed/);
    expect(() => parseMode('osproxy')).toThrowError(/renamed to local mode/);
  });

  it('refuses two servers on one address', () => {
    expect(() => parseModes(['regular', 'upstream:http://p:1'], '', null)).toThrowError('Cannot spawn multiple servers on the same address: :8080');
    expect(parseModes(['regular', 'socks5'], '', null)).toHaveLength(2);
  });
});
