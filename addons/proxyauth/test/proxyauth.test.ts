import { createHash } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow, type Socks5AuthData } from '@mitmts/sdk';
import { startOrigin, tflow, withAddons, type Origin } from '@mitmts/sdk/testing';
import { apr1, parseBasicAuth, ProxyAuth } from '@mitmts/addon-proxyauth';

const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

function htpasswd(lines: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mitmts-htpasswd-')), 'users');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

async function requestHeaders(spec: string, auth: string | null, mode = 'regular'): Promise<HTTPFlow> {
  const tctx = await withAddons([ProxyAuth], { proxyauth: spec });
  const f = tflow();
  f.clientConn.proxyMode = mode;
  if (auth !== null) f.request.headers.set(mode === 'regular' ? 'Proxy-Authorization' : 'Authorization', auth);
  await tctx.trigger('requestheaders', f);
  return f;
}

describe('proxyauth option', () => {
  it('accepts user:pass, any and @htpasswd, and rejects anything else naming the problem', async () => {
    const tctx = await withAddons([ProxyAuth]);
    const empty = `@${htpasswd([])}`;
    for (const ok of ['user:pass', 'any', empty]) expect(() => tctx.configure({ proxyauth: ok })).not.toThrow();
    expect(() => tctx.configure({ proxyauth: 'nocolon' })).toThrow(
      'Invalid proxyauth specification "nocolon": expected user:pass, any, @path-to-htpasswd or ldap[s]:...',
    );
    expect(() => tctx.configure({ proxyauth: 'a:b:c' })).toThrow('Invalid single-user auth specification "a:b:c"');
    expect(() => tctx.configure({ proxyauth: 'ldap:localhost:cn=x:pw:dc=y' })).toThrow(
      /LDAP authentication is not supported/,
    );
    expect(() => tctx.configure({ proxyauth: '@/nonexistent/htpasswd' })).toThrow(
      /Could not open htpasswd file: \/nonexistent\/htpasswd/,
    );
    const bad = htpasswd(['alice:{SHA}x', 'bob:plaintext']);
    expect(() => tctx.configure({ proxyauth: `@${bad}` })).toThrow(
      `${bad}:2: the password hash of user "bob" is in a format mitmts does not support`,
    );
    // A rejected value leaves the previous one active.
    expect(tctx.kernel.options.get('proxyauth')).toBe(empty);
  });
});

describe('authentication', () => {
  it('lets a request with the right credentials through, without the header, credentials in metadata', async () => {
    const f = await requestHeaders('alice:s3cret', basic('alice', 's3cret'));
    expect(f.response).toBeNull();
    expect(f.request.headers.has('proxy-authorization')).toBe(false);
    expect(f.metadata.proxyauth).toEqual(['alice', 's3cret']);
  });

  it('answers 407 with Proxy-Authenticate when credentials are missing or wrong', async () => {
    for (const auth of [null, basic('alice', 'wrong'), 'Bearer xyz', 'Basic !!!']) {
      const f = await requestHeaders('alice:s3cret', auth);
      expect(f.response?.statusCode).toBe(407);
      expect(f.response?.headers.get('proxy-authenticate')).toBe('Basic realm="mitmproxy"');
      expect(f.response?.text).toContain('407 Proxy Authentication Required');
    }
  });

  it('uses Authorization and 401 in server-like modes', async () => {
    const ok = await requestHeaders('any', basic('x', 'y'), 'reverse:http://example.com');
    expect(ok.response).toBeNull();
    const no = await requestHeaders('any', null, 'reverse:http://example.com');
    expect(no.response?.statusCode).toBe(401);
    expect(no.response?.headers.get('www-authenticate')).toBe('Basic realm="mitmproxy"');
  });

  it('accepts passwords with colons (RFC 7617)', () => {
    expect(parseBasicAuth(basic('u', 'a:b'))).toEqual(['u', 'a:b']);
    expect(parseBasicAuth('Basic')).toBeNull();
  });

  it('checks htpasswd files with bcrypt ($2y$ and $2b$), Apache MD5 and SHA1 hashes', async () => {
    const sha = `{SHA}${createHash('sha1').update('pw-sha').digest('base64')}`;
    const md5 = execFileSync('openssl', ['passwd', '-apr1', '-salt', 'q1w2e3r4', 'pw-md5']).toString().trim();
    const bc = bcrypt.hashSync('pw-bcrypt', 4).replace(/^\$2b\$/, '$2y$');
    const file = `@${htpasswd(['# users', `sha:${sha}`, `md5:${md5}`, `bc:${bc}`, ''])}`;
    for (const [user, pass] of [
      ['sha', 'pw-sha'],
      ['md5', 'pw-md5'],
      ['bc', 'pw-bcrypt'],
    ] as const) {
      expect((await requestHeaders(file, basic(user, pass))).response, user).toBeNull();
      expect((await requestHeaders(file, basic(user, `${pass}x`))).response?.statusCode, user).toBe(407);
    }
    expect((await requestHeaders(file, basic('nobody', 'pw-sha'))).response?.statusCode).toBe(407);
  });

  it('computes Apache MD5 hashes as openssl does', () => {
    for (const [pw, salt] of [
      ['secret', 'abcdefgh'],
      ['', 'x'],
      ['a'.repeat(40), '12345678'],
      ['pässwörd', 's4lt'],
    ] as const) {
      expect(apr1(pw, salt)).toBe(execFileSync('openssl', ['passwd', '-apr1', '-salt', salt, pw]).toString().trim());
    }
  });

  it('does nothing when proxyauth is unset, and skips replayed flows', async () => {
    const tctx = await withAddons([ProxyAuth]);
    const f = tflow();
    await tctx.trigger('requestheaders', f);
    expect(f.response).toBeNull();
    tctx.configure({ proxyauth: 'a:b' });
    const r = tflow();
    r.isReplay = 'request';
    await tctx.trigger('requestheaders', r);
    expect(r.response).toBeNull();
  });
});

describe('through a running proxy', () => {
  let origin: Origin;
  let upUrl: string;
  let proxy: EmbeddedProxy;

  beforeAll(async () => {
    origin = await startOrigin((req, res) => res.end(`hello ${req.url}`));
    upUrl = origin.url;
    proxy = await createProxy({ addons: [ProxyAuth], options: { proxyauth: 'alice:s3cret' } });
  });
  afterAll(async () => {
    await proxy.close();
    await origin.close();
  });

  // Asynchronous: the proxy runs in this process and must keep serving while curl waits.
  const curl = (args: string[]): Promise<string> =>
    new Promise((resolve) => {
      execFile(
        'curl',
        ['-s', '-o', '-', '-w', '\n%{http_code}', ...args],
        { encoding: 'utf8', timeout: 15_000 },
        (_err, stdout) => resolve(stdout),
      );
    });

  it('answers 407 without credentials and never contacts the server', async () => {
    const before = origin.requests.length;
    const out = await curl(['-x', proxy.url, `${upUrl}/no-auth`]);
    expect(out.endsWith('\n407')).toBe(true);
    expect(origin.requests.length).toBe(before);
  });

  it('forwards with credentials (curl -U), without the Proxy-Authorization header', async () => {
    const out = await curl(['-x', proxy.url, '-U', 'alice:s3cret', `${upUrl}/with-auth`]);
    expect(out).toBe('hello /with-auth\n200');
    expect(origin.requests.at(-1)!.headers['proxy-authorization']).toBeUndefined();
  });

  it('authenticates a CONNECT once for the HTTPS requests in its tunnel', async () => {
    const secure = await startOrigin((req, res) => res.end(`secure ${req.url}`), { tls: true });
    const p = await createProxy({
      addons: [ProxyAuth],
      options: { proxyauth: 'alice:s3cret', ssl_verify_upstream_trusted_ca: secure.caCertPath },
    });
    try {
      const url = secure.url;
      const refused = await curl(['-x', p.url, '--cacert', p.caCertPath, '-w', '\n%{http_connect}', `${url}/no-auth`]);
      expect(refused.endsWith('\n407')).toBe(true);
      const ok = await curl(['-x', p.url, '-U', 'alice:s3cret', '--cacert', p.caCertPath, `${url}/a`, `${url}/b`]);
      expect(ok).toBe('secure /a\n200secure /b\n200');
      expect(secure.requests.map((r) => r.headers['proxy-authorization'])).toEqual([undefined, undefined]);
      const inner = (p.flows.all() as HTTPFlow[]).filter((f) => f.request.method === 'GET');
      expect(inner.map((f) => [f.request.path, f.metadata.proxyauth])).toEqual([
        ['/a', ['alice', 's3cret']],
        ['/b', ['alice', 's3cret']],
      ]);
    } finally {
      await p.close();
      await secure.close();
    }
  });
});

describe('socks5_auth', () => {
  const data = (f: HTTPFlow, password: string): Socks5AuthData => ({
    clientConn: f.clientConn,
    username: 'alice',
    password,
    valid: false,
  });

  it('accepts the right credentials and authenticates the requests of that connection', async () => {
    const tctx = await withAddons([ProxyAuth], { proxyauth: 'alice:s3cret' });
    const f = tflow();
    f.clientConn.proxyMode = 'socks5';
    const d = data(f, 's3cret');
    await tctx.trigger('socks5_auth', d);
    expect(d.valid).toBe(true);
    await tctx.trigger('requestheaders', f);
    expect([f.response, f.metadata.proxyauth]).toEqual([null, ['alice', 's3cret']]);
  });

  it('refuses wrong credentials (bcrypt too), and does nothing while proxyauth is unset', async () => {
    const tctx = await withAddons([ProxyAuth], {
      proxyauth: `@${htpasswd([`alice:${bcrypt.hashSync('s3cret', 4)}`])}`,
    });
    const wrong = data(tflow(), 'nope');
    await tctx.trigger('socks5_auth', wrong);
    expect(wrong.valid).toBe(false);
    const right = data(tflow(), 's3cret');
    await tctx.trigger('socks5_auth', right);
    expect(right.valid).toBe(true);
    const off = await withAddons([ProxyAuth]);
    const d = data(tflow(), 'x');
    await off.trigger('socks5_auth', d);
    expect(d.valid).toBe(false);
  });
});
