import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPHeaders, OptionsError, type EmbeddedProxy } from '@mitmts/sdk';
import { requestVia, startOrigin, tflow, treq, withAddon, type Origin } from '@mitmts/sdk/testing';
import { StickyAuth } from '../src/index.js';

const withAuth = (host: string, auth: string) =>
  tflow({ req: treq({ host, headers: new HTTPHeaders([['Authorization', auth]]) }) });
const withoutAuth = (host: string) => tflow({ req: treq({ host, headers: new HTTPHeaders() }) });

describe('stickyauth (unit)', () => {
  it('does nothing while the option is unset', async () => {
    const tctx = await withAddon(StickyAuth);
    await tctx.trigger('request', withAuth('a.example', 'Basic Zm9vOmJhcg=='));
    const f = withoutAuth('a.example');
    await tctx.trigger('request', f);
    expect(f.request.headers.has('authorization')).toBe(false);
    expect(tctx.addon<StickyAuth>('stickyauth').hosts.size).toBe(0);
  });

  it('adds the remembered Authorization to matching requests to the same host only', async () => {
    const tctx = await withAddon(StickyAuth);
    tctx.configure({ stickyauth: '.' });
    await tctx.trigger('request', withAuth('a.example', 'Basic Zm9vOmJhcg=='));
    const same = withoutAuth('a.example');
    const other = withoutAuth('b.example');
    await tctx.trigger('request', same);
    await tctx.trigger('request', other);
    expect(same.request.headers.get('authorization')).toBe('Basic Zm9vOmJhcg==');
    expect(other.request.headers.has('authorization')).toBe(false);
  });

  it('never replaces an Authorization the request sends, and remembers the newest one', async () => {
    const tctx = await withAddon(StickyAuth);
    tctx.configure({ stickyauth: '.' });
    await tctx.trigger('request', withAuth('a.example', 'Bearer one'));
    const explicit = withAuth('a.example', 'Bearer two');
    await tctx.trigger('request', explicit);
    expect(explicit.request.headers.getAll('authorization')).toEqual(['Bearer two']);
    const later = withoutAuth('a.example');
    await tctx.trigger('request', later);
    expect(later.request.headers.get('authorization')).toBe('Bearer two');
  });

  it('adds only where the filter matches, but remembers from every request', async () => {
    const tctx = await withAddon(StickyAuth);
    tctx.configure({ stickyauth: '~m POST' });
    await tctx.trigger('request', withAuth('a.example', 'Bearer t'));
    const get = withoutAuth('a.example');
    await tctx.trigger('request', get);
    expect(get.request.headers.has('authorization')).toBe(false);
    const post = withoutAuth('a.example');
    post.request.method = 'POST';
    await tctx.trigger('request', post);
    expect(post.request.headers.get('authorization')).toBe('Bearer t');
  });

  it('keeps the bytes of a non-ASCII credential', async () => {
    const tctx = await withAddon(StickyAuth);
    tctx.configure({ stickyauth: '.' });
    const f = tflow({
      req: treq({ headers: new HTTPHeaders([[Buffer.from('authorization'), Buffer.from([0x42, 0xff, 0x00])]]) }),
    });
    await tctx.trigger('request', f);
    const g = withoutAuth('address');
    await tctx.trigger('request', g);
    expect(g.request.headers.getAllRaw('authorization')).toEqual([Buffer.from([0x42, 0xff, 0x00])]);
  });

  it('remembers several Authorization headers joined with a comma, as mitmproxy reads them', async () => {
    const tctx = await withAddon(StickyAuth);
    tctx.configure({ stickyauth: '.' });
    await tctx.trigger(
      'request',
      tflow({
        req: treq({
          headers: new HTTPHeaders([
            ['Authorization', 'Basic a'],
            ['authorization', 'Bearer b'],
          ]),
        }),
      }),
    );
    const g = withoutAuth('address');
    await tctx.trigger('request', g);
    expect(g.request.headers.getAll('authorization')).toEqual(['Basic a, Bearer b']);
  });

  it('rejects a bad filter naming the option, and keeps the previous filter', async () => {
    const tctx = await withAddon(StickyAuth);
    tctx.configure({ stickyauth: '~m POST' });
    let err: unknown;
    try {
      tctx.configure({ stickyauth: '~m POST & (' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as Error).message).toMatch(
      /^Invalid stickyauth "~m POST & \(": Invalid filter expression at position \d+: /,
    );
    expect(tctx.kernel.options.get('stickyauth')).toBe('~m POST');
    await tctx.trigger('request', withAuth('a.example', 'Bearer t'));
    const post = withoutAuth('a.example');
    post.request.method = 'POST';
    await tctx.trigger('request', post);
    expect(post.request.headers.get('authorization')).toBe('Bearer t');
  });

  it('turns off again with an empty filter', async () => {
    const tctx = await withAddon(StickyAuth);
    tctx.configure({ stickyauth: '.' });
    await tctx.trigger('request', withAuth('a.example', 'Bearer t'));
    tctx.configure({ stickyauth: '' });
    const f = withoutAuth('a.example');
    await tctx.trigger('request', f);
    expect(f.request.headers.has('authorization')).toBe(false);
  });
});

describe('stickyauth (end to end)', () => {
  let origin: Origin;
  let proxy: EmbeddedProxy;

  const get = async (path: string, headers: Record<string, string> = {}): Promise<number> =>
    (await requestVia(proxy, `${origin.url}${path}`, { headers })).status;

  beforeAll(async () => {
    origin = await startOrigin((req, res) =>
      res.writeHead(req.headers.authorization === 'Basic dXNlcjpwdw==' ? 200 : 401).end(),
    );
    proxy = await createProxy({ addons: [StickyAuth], options: { stickyauth: '~d 127.0.0.1' } });
  });

  afterAll(async () => {
    await proxy.close();
    await origin.close();
  });

  it('logs in once, then unauthenticated requests through the proxy are authorized', async () => {
    expect(await get('/login', { authorization: 'Basic dXNlcjpwdw==' })).toBe(200);
    expect(await get('/private')).toBe(200);
    expect(origin.requests.at(-1)!.headers.authorization).toBe('Basic dXNlcjpwdw==');
  });
});
