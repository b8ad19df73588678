import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPHeaders, OptionsError, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import {
  requestVia,
  startOrigin,
  tflow,
  treq,
  tresp,
  withAddon,
  type Origin,
  type TestContext,
} from '@mitmts/sdk/testing';
import { StickyCookie } from '../src/index.js';

/** A flow to host:port/path whose response sets the given Set-Cookie headers. */
function setting(setCookies: string[], host = 'www.example.com', port = 80, path = '/'): HTTPFlow {
  return tflow({
    req: treq({ host, port, path }),
    resp: tresp({ headers: new HTTPHeaders(setCookies.map((c) => ['Set-Cookie', c] as [string, string])) }),
  });
}

function to(host = 'www.example.com', port = 80, path = '/', cookie?: string): HTTPFlow {
  return tflow({
    req: treq({ host, port, path, headers: new HTTPHeaders(cookie === undefined ? [] : [['Cookie', cookie]]) }),
  });
}

async function sent(tctx: TestContext, f: HTTPFlow): Promise<string | undefined> {
  await tctx.trigger('request', f);
  return f.request.headers.get('cookie');
}

describe('stickycookie (unit)', () => {
  it('does nothing while the option is unset', async () => {
    const tctx = await withAddon(StickyCookie);
    await tctx.trigger('response', setting(['a=1']));
    expect(tctx.addon<StickyCookie>('stickycookie').jar.size).toBe(0);
    expect(await sent(tctx, to())).toBeUndefined();
  });

  it('replays cookies to the host and port that set them, and marks the flow', async () => {
    const tctx = await withAddon(StickyCookie);
    tctx.configure({ stickycookie: '.' });
    await tctx.trigger('response', setting(['a=1; HttpOnly', 'b="x y"; Secure']));
    const f = to('www.example.com', 80, '/any/path?q=1');
    expect(await sent(tctx, f)).toBe('a=1; b="x y"');
    expect(f.metadata['stickycookie']).toBe(true);
    const other = to('api.example.com');
    expect(await sent(tctx, other)).toBeUndefined();
    expect(other.metadata['stickycookie']).toBeUndefined();
    expect(await sent(tctx, to('www.example.com', 8080))).toBeUndefined();
  });

  it('sends Domain cookies to subdomains and Path cookies below their path', async () => {
    const tctx = await withAddon(StickyCookie);
    tctx.configure({ stickycookie: '.' });
    await tctx.trigger('response', setting(['d=1; Domain=example.com', 'p=2; Path=/api', 'e=3; domain=evil.com']));
    expect(await sent(tctx, to('api.example.com', 80, '/'))).toBe('d=1');
    expect(await sent(tctx, to('example.com', 80, '/api/v1'))).toBe('d=1');
    expect(await sent(tctx, to('www.example.com', 80, '/api/v1'))).toBe('d=1; p=2');
    expect(await sent(tctx, to('www.example.com', 80, '/apix'))).toBe('d=1');
    expect(await sent(tctx, to('evil.com'))).toBeUndefined();
  });

  it('removes cookies the server expires (Max-Age<=0 or a past date)', async () => {
    const tctx = await withAddon(StickyCookie);
    tctx.configure({ stickycookie: '.' });
    await tctx.trigger('response', setting(['a=1', 'b=2', 'c=3']));
    await tctx.trigger('response', setting(['a=; Max-Age=0', 'b=; Expires=Thu, 01 Jan 1970 00:00:00 GMT']));
    expect(await sent(tctx, to())).toBe('c=3');
    await tctx.trigger('response', setting(['c=; max-age=-1']));
    expect(tctx.addon<StickyCookie>('stickycookie').jar.size).toBe(0);
    await tctx.trigger('response', setting(['gone=1; Max-Age=0']));
    expect(await sent(tctx, to())).toBeUndefined();
  });

  it('keeps cookies the request sends and adds only the others', async () => {
    const tctx = await withAddon(StickyCookie);
    tctx.configure({ stickycookie: '.' });
    await tctx.trigger('response', setting(['a=jar', 'b=jar']));
    const f = to('www.example.com', 80, '/', 'a=mine; z=9');
    expect(await sent(tctx, f)).toBe('a=mine; z=9; b=jar');
    const all = to('www.example.com', 80, '/', 'b=mine; a=mine');
    expect(await sent(tctx, all)).toBe('b=mine; a=mine');
    expect(all.metadata['stickycookie']).toBeUndefined();
  });

  it('remembers only from matching responses and adds only to matching requests', async () => {
    const tctx = await withAddon(StickyCookie);
    tctx.configure({ stickycookie: '~d example.com & ~m GET' });
    await tctx.trigger('response', setting(['other=1'], 'example.org'));
    await tctx.trigger('response', setting(['a=1']));
    expect(tctx.addon<StickyCookie>('stickycookie').jar.entries()).toEqual([
      ['www.example.com', 80, '/', [['a', '1']]],
    ]);
    const post = to();
    post.request.method = 'POST';
    expect(await sent(tctx, post)).toBeUndefined();
    expect(await sent(tctx, to())).toBe('a=1');
  });

  it('rejects a bad filter naming the option, and keeps the previous filter', async () => {
    const tctx = await withAddon(StickyCookie);
    tctx.configure({ stickycookie: '~d example.com' });
    expect(() => tctx.configure({ stickycookie: '~nope' })).toThrow(OptionsError);
    expect(() => tctx.configure({ stickycookie: '~nope' })).toThrow(/^Invalid stickycookie "~nope": /);
    expect(tctx.kernel.options.get('stickycookie')).toBe('~d example.com');
    await tctx.trigger('response', setting(['a=1']));
    expect(await sent(tctx, to())).toBe('a=1');
    tctx.configure({ stickycookie: null });
    expect(await sent(tctx, to())).toBeUndefined();
  });
});

describe('stickycookie (end to end)', () => {
  let origin: Origin;
  let proxy: EmbeddedProxy;

  const get = async (path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> => {
    const r = await requestVia(proxy, `${origin.url}${path}`, { headers });
    return { status: r.status, body: r.text };
  };

  beforeAll(async () => {
    origin = await startOrigin((req, res) => {
      if (req.url === '/login')
        res.writeHead(200, { 'set-cookie': ['session=s3cr3t; Path=/; HttpOnly', 'theme=dark'] }).end('welcome');
      else if (req.url === '/logout') res.writeHead(200, { 'set-cookie': 'session=; Max-Age=0' }).end('bye');
      else res.writeHead(req.headers.cookie?.includes('session=s3cr3t') ? 200 : 403).end(req.headers.cookie ?? '');
    });
    proxy = await createProxy({ addons: [StickyCookie], options: { stickycookie: '~d 127.0.0.1' } });
  });

  afterAll(async () => {
    await proxy.close();
    await origin.close();
  });

  it('a client without cookie support stays logged in, keeps its own cookies, and logs out', async () => {
    expect((await get('/private')).status).toBe(403);
    expect((await get('/login')).body).toBe('welcome');
    expect(await get('/private')).toEqual({ status: 200, body: 'session=s3cr3t; theme=dark' });
    expect(await get('/private', { cookie: 'theme=light' })).toEqual({
      status: 200,
      body: 'theme=light; session=s3cr3t',
    });
    await get('/logout');
    expect(await get('/private')).toEqual({ status: 403, body: 'theme=dark' });
    expect(proxy.flows.all().filter((f) => (f as HTTPFlow).metadata['stickycookie']).length).toBe(4); // private, private, logout, private
  });
});
