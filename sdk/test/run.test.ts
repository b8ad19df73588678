import { describe, expect, it } from 'vitest';
import { FLAGS } from '@mitmts/core';
import { runEnvironment, shellLine, splitRunArgv } from '@mitmts/sdk/cli';

describe('mitmts run: arguments', () => {
  const split = (...argv: string[]) => splitRunArgv(argv, FLAGS);
  it('takes mitmts options (and their values) before the command, with or without --', () => {
    expect(split('-w', 'out.mitm', '-s', 'a.ts', '--set', 'x=1', '-q', '--', 'node', '-e', '1')).toEqual({
      proxyArgs: ['-w', 'out.mitm', '-s', 'a.ts', '--set', 'x=1', '-q'],
      command: ['node', '-e', '1'],
      proxy: undefined,
      bypass: '',
      help: false,
    });
    expect(split('--anticache', '-p', '0', 'curl', '-x', 'y')).toMatchObject({
      proxyArgs: ['--anticache', '-p', '0'],
      command: ['curl', '-x', 'y'],
    });
    expect(split('--listen-port=0', '--proxy=http://h:1', '--bypass', 'a.com,b', 'ls')).toMatchObject({
      proxyArgs: ['--listen-port=0'],
      proxy: 'http://h:1',
      bypass: 'a.com,b',
      command: ['ls'],
    });
    expect(split('--help')).toMatchObject({ help: true, command: [] });
    expect(() => split('-w')).toThrow('-w needs a value');
  });

  it('shows a command line as a shell would', () => {
    expect(shellLine(['node', 'client.mjs', '--name', "it's me", 'a b', 'x=1'])).toBe(
      `node client.mjs --name 'it'\\''s me' 'a b' x=1`,
    );
  });

  it('sets the proxy, the CAs and the Node preload for the command alone', () => {
    const env = runEnvironment(
      { PATH: '/bin', NODE_OPTIONS: '--max-old-space-size=100', ALL_PROXY: 'socks5://x', HTTPS_PROXY: 'old' },
      {
        proxyUrl: 'http://u:p@127.0.0.1:1',
        bypass: 'localhost',
        caCert: '/c/ca.pem',
        caBundle: '/t/bundle.pem',
        preload: '/p/run preload.cjs',
      },
    );
    expect(env).toEqual({
      PATH: '/bin',
      HTTP_PROXY: 'http://u:p@127.0.0.1:1',
      HTTPS_PROXY: 'http://u:p@127.0.0.1:1',
      http_proxy: 'http://u:p@127.0.0.1:1',
      https_proxy: 'http://u:p@127.0.0.1:1',
      NO_PROXY: 'localhost',
      no_proxy: 'localhost',
      NODE_EXTRA_CA_CERTS: '/c/ca.pem',
      SSL_CERT_FILE: '/t/bundle.pem',
      REQUESTS_CA_BUNDLE: '/t/bundle.pem',
      CURL_CA_BUNDLE: '/t/bundle.pem',
      GIT_SSL_CAINFO: '/t/bundle.pem',
      NODE_OPTIONS: '--max-old-space-size=100 --require "/p/run preload.cjs"',
    });
  });
});
