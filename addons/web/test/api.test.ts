// The REST API through a real proxy: auth, flows, actions, edits, options, commands, dumps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowReader, type HTTPFlow } from '@mitmts/sdk';
import { withAddons } from '@mitmts/sdk/testing';
import { Core } from '@mitmts/addon-corecommands';
import { ReadFile } from '@mitmts/addon-readfile';
import { Web } from '@mitmts/addon-web';
import type { WebFlow } from '../src/protocol.js';
import { api, HoldAddon, startWeb, viaProxy, type WebRig } from './helpers.js';

let rig: WebRig;
const hold = new HoldAddon();
beforeAll(async () => {
  rig = await startWeb([Core, hold]);
});
afterAll(() => rig.close());

const flows = async (): Promise<WebFlow[]> => (await api(rig, 'GET', '/flows')).json() as WebFlow[];
const byPath = async (path: string): Promise<WebFlow> => (await flows()).find((f) => f.request?.path === path)!;

const held = (path: string): Promise<HTTPFlow> => hold.held(path);

describe('auth', () => {
  it('without a token the page is the login page (401); the API says how to authenticate', async () => {
    const page = await api(rig, 'GET', '/', undefined, {});
    expect(page.status).toBe(401);
    expect(page.text).toContain('<form method="get" action="/"');
    const apiRes = await api(rig, 'GET', '/flows', undefined, {});
    expect(apiRes.status).toBe(401);
    expect(apiRes.text).toMatch(/Authorization: Bearer/);
  });

  it('a wrong token is refused with 403, by query, header and cookie', async () => {
    expect((await api(rig, 'GET', '/?token=nope', undefined, {})).status).toBe(403);
    expect((await api(rig, 'GET', '/flows', undefined, { authorization: 'Bearer nope' })).status).toBe(403);
    expect((await api(rig, 'GET', '/flows', undefined, { cookie: 'mitmts_web_auth=forged' })).status).toBe(403);
  });

  it('the token logs a browser in (cookie); state changes then need the XSRF header', async () => {
    const page = await api(rig, 'GET', `/?token=${rig.token}`, undefined, {});
    expect(page.status).toBe(200);
    const cookies = page.headers.getSetCookie();
    const auth = cookies.find((c) => c.startsWith('mitmts_web_auth='))!;
    const xsrf = cookies.find((c) => c.startsWith('_mitmproxy_xsrf='))!;
    expect(auth).toMatch(/HttpOnly/);
    expect(auth).not.toContain(rig.token);
    expect(xsrf).toMatch(/SameSite=Strict/);
    const jar = [auth.split(';')[0], xsrf.split(';')[0]].join('; ');
    const xsrfValue = xsrf.split(';')[0]!.split('=')[1]!;
    expect((await api(rig, 'GET', '/state', undefined, { cookie: jar })).status).toBe(200);
    const noXsrf = await api(rig, 'POST', '/clear', undefined, { cookie: jar });
    expect(noXsrf.status).toBe(403);
    expect(noXsrf.text).toMatch(/XSRF/);
    expect((await api(rig, 'POST', '/clear', undefined, { cookie: jar, 'x-xsrftoken': 'other' })).status).toBe(403);
    expect((await api(rig, 'POST', '/clear', undefined, { cookie: jar, 'x-xsrftoken': xsrfValue })).status).toBe(200);
  });

  it('refuses Host headers that are not loopback (DNS rebinding)', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const u = new URL(rig.base);
      import('node:http').then(({ request }) => {
        const req = request(
          {
            host: u.hostname,
            port: u.port,
            path: '/state',
            headers: { host: 'attacker.example:80', authorization: `Bearer ${rig.token}` },
          },
          (r) => {
            r.resume();
            resolve(r.statusCode!);
          },
        );
        req.on('error', reject);
        req.end();
      }, reject);
    });
    expect(res).toBe(403);
  });
});

describe('flows', () => {
  it('lists flows made through the proxy, with details and bodies', async () => {
    const r = await viaProxy(rig, 'POST', '/json/a', '{"x":1}', { 'content-type': 'application/json' });
    expect(r.status).toBe(200);
    const f = await byPath('/json/a');
    expect(f.request).toMatchObject({ method: 'POST', contentLength: 7, content_type: 'application/json' });
    expect(f.response).toMatchObject({ status_code: 200, content_type: 'application/json' });
    expect((await api(rig, 'GET', `/flows/${f.id}`)).json()).toMatchObject({ id: f.id });
    const body = await api(rig, 'GET', `/flows/${f.id}/response/content.data`);
    expect(body.text).toBe('{"path":"/json/a","body":"{\\"x\\":1}"}');
    expect(body.headers.get('content-disposition')).toMatch(/attachment/);
    expect((await api(rig, 'GET', `/flows/${f.id}/request/content.data`)).text).toBe('{"x":1}');
    expect((await api(rig, 'GET', '/flows/nope')).status).toBe(404);
  });

  it('pages flows with filter, sort, offset and limit; a bad filter is a 400 with the filter error', async () => {
    for (const p of ['/page/1', '/page/2', '/page/3']) await viaProxy(rig, 'GET', p);
    const res = (await api(rig, 'GET', '/flows?filter=~u%20/page/&sort=url&desc=true&limit=2&offset=0')).json() as {
      count: number;
      flows: WebFlow[];
    };
    expect(res.count).toBe(3);
    expect(res.flows.map((f) => f.request!.path)).toEqual(['/page/3', '/page/2']);
    const bad = await api(rig, 'GET', '/flows?filter=~c%20abc&limit=1');
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/^Invalid filter expression at position \d+/);
  });

  it('marks, comments and edits a flow (PUT), reverts it, and refuses bad edits without changing anything', async () => {
    await viaProxy(rig, 'GET', '/edit/me');
    const f = await byPath('/edit/me');
    let res = await api(rig, 'PUT', `/flows/${f.id}`, {
      marked: ':star:',
      comment: 'look',
      request: { method: 'PATCH', headers: [['x-a', '1']], content: 'new body' },
      response: { status_code: 418 },
    });
    expect(res.status).toBe(200);
    const edited = res.json() as WebFlow;
    expect(edited).toMatchObject({ marked: ':star:', comment: 'look', modified: true });
    expect(edited.request).toMatchObject({ method: 'PATCH', contentLength: 8 });
    expect(edited.request!.headers).toEqual([
      ['x-a', '1'],
      ['content-length', '8'],
    ]);
    expect(edited.response!.status_code).toBe(418);
    res = await api(rig, 'PUT', `/flows/${f.id}`, { request: { method: 'GET', port: 'many' } });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/request.port must be an integer/);
    expect((await api(rig, 'PUT', `/flows/${f.id}`, { request: { colour: 'red' } })).text).toMatch(
      /Unknown update request.colour/,
    );
    expect(((await api(rig, 'GET', `/flows/${f.id}`)).json() as WebFlow).request!.method).toBe('PATCH');
    res = await api(rig, 'POST', `/flows/${f.id}/revert`);
    expect(res.json()).toMatchObject({ modified: false, request: { method: 'GET' }, response: { status_code: 200 } });
  });

  it('edits the URL of a request', async () => {
    await viaProxy(rig, 'GET', '/url/one');
    const f = await byPath('/url/one');
    const res = await api(rig, 'PUT', `/flows/${f.id}`, { request: { url: 'https://example.com:8443/two?q=1' } });
    expect((res.json() as WebFlow).request).toMatchObject({
      scheme: 'https',
      host: 'example.com',
      port: 8443,
      path: '/two?q=1',
    });
    expect((await api(rig, 'PUT', `/flows/${f.id}`, { request: { url: 'not a url' } })).status).toBe(400);
  });

  it('duplicates and deletes flows', async () => {
    await viaProxy(rig, 'GET', '/dup');
    const f = await byPath('/dup');
    const { id } = (await api(rig, 'POST', `/flows/${f.id}/duplicate`)).json() as { id: string };
    expect(id).not.toBe(f.id);
    expect(((await api(rig, 'GET', `/flows/${id}`)).json() as WebFlow).request!.path).toBe('/dup');
    expect((await api(rig, 'DELETE', `/flows/${id}`)).status).toBe(200);
    expect((await api(rig, 'GET', `/flows/${id}`)).status).toBe(404);
    expect(rig.proxy.flows.get(id)).toBeUndefined();
  });

  it('resumes a held flow after editing its request header: the server sees the edit', async () => {
    const pending = viaProxy(rig, 'GET', '/hold/edit', undefined, { 'x-token': 'before' });
    const flow = await held('/hold/edit');
    const j = (await api(rig, 'GET', `/flows/${flow.id}`)).json() as WebFlow;
    expect(j.intercepted).toBe(true);
    const headers = j.request!.headers.map(([k, v]) => [k, k === 'x-token' ? 'after' : v]);
    expect((await api(rig, 'PUT', `/flows/${flow.id}`, { request: { headers } })).status).toBe(200);
    expect((await api(rig, 'POST', `/flows/${flow.id}/resume`)).status).toBe(200);
    expect((await pending).status).toBe(200);
    expect(rig.last!.headers['x-token']).toBe('after');
  });

  it('kills a held flow; resumes every held flow at once', async () => {
    const killed = viaProxy(rig, 'GET', '/hold/kill').catch((e: Error) => ({ status: 0, body: e.message }));
    const k = await held('/hold/kill');
    expect((await api(rig, 'POST', `/flows/${k.id}/kill`)).status).toBe(200);
    expect((await killed).status).not.toBe(200);
    expect(k.error?.msg).toBe('Connection killed.');
    expect((await api(rig, 'POST', `/flows/${k.id}/kill`)).status).toBe(409);
    const a = viaProxy(rig, 'GET', '/hold/a');
    const b = viaProxy(rig, 'GET', '/hold/b');
    await held('/hold/a');
    await held('/hold/b');
    expect((await api(rig, 'POST', '/flows/resume')).json()).toEqual({ count: 2 });
    expect((await a).status).toBe(200);
    expect((await b).status).toBe(200);
  });

  it('deleting a held (live) flow kills it, and the hooks that follow do not bring it back', async () => {
    const pending = viaProxy(rig, 'GET', '/hold/del').catch(() => ({ status: 0, body: '' }));
    const f = await held('/hold/del');
    expect((await api(rig, 'DELETE', `/flows/${f.id}`)).status).toBe(200);
    expect((await pending).status).not.toBe(200);
    expect(f.error?.msg).toBe('Connection killed.');
    rig.web.server!.hub.flush();
    expect((await api(rig, 'GET', `/flows/${f.id}`)).status).toBe(404);
    expect((await flows()).some((x) => x.id === f.id)).toBe(false);
  });

  it('replays and exports through their addons, or answers 501 naming the addon to load', async () => {
    await viaProxy(rig, 'GET', '/export');
    const f = await byPath('/export');
    for (const [method, path, command] of [
      ['POST', `/flows/${f.id}/replay`, 'replay.client'],
      ['GET', `/flows/${f.id}/export/curl`, 'export'],
    ] as const) {
      const res = await api(rig, method, path);
      if (rig.proxy.kernel.commands.has(command)) expect(res.status).toBe(200);
      else {
        expect(res.status).toBe(501);
        expect(res.text).toContain(`no ${command} command`);
        expect(res.text).toMatch(/@mitmts\/addon-/);
      }
    }
    const har = (await api(rig, 'GET', `/flows/${f.id}/export/har`)).json() as {
      log: { entries: Array<{ request: { url: string } }> };
    };
    expect(har.log.entries[0]!.request.url).toBe(`${rig.upstream}/export`);
    expect((await api(rig, 'GET', `/flows/${f.id}/export/zip`)).status).toBe(400);
  });

  it('downloads flows as .mitm and uploads them back (replacing the view)', async () => {
    await viaProxy(rig, 'GET', '/dump/a');
    const dump = await fetch(`${rig.base}/flows/dump?filter=~u%20/dump/`, {
      headers: { authorization: `Bearer ${rig.token}` },
    });
    const bytes = Buffer.from(await dump.arrayBuffer());
    const read = [...new FlowReader(bytes)] as HTTPFlow[];
    expect(read.map((f) => f.request.path)).toEqual(['/dump/a']);
    const up = await api(rig, 'POST', '/flows/dump', bytes);
    expect(up.json()).toEqual({ loaded: 1 });
    expect((await flows()).map((f) => f.request!.path)).toEqual(['/dump/a']);
    expect((await api(rig, 'POST', '/flows/dump', Buffer.from('garbage'))).status).toBe(400);
  });

  it("fires the hooks of uploaded flows with the readfile addon loaded, as mitmweb's upload does", async () => {
    const seen: string[] = [];
    const recorder = {
      name: 'test.recorder',
      request: (f: HTTPFlow) => void seen.push(`request ${f.request.path}`),
      response: (f: HTTPFlow) => void seen.push(`response ${f.request.path}`),
    };
    const second = await startWeb([ReadFile, recorder]);
    try {
      await viaProxy(rig, 'GET', '/upload/hooks');
      const dump = await fetch(`${rig.base}/flows/dump?filter=${encodeURIComponent('~u /upload/hooks')}`, {
        headers: { authorization: `Bearer ${rig.token}` },
      });
      const up = await api(second, 'POST', '/flows/dump', Buffer.from(await dump.arrayBuffer()));
      expect(up.json()).toEqual({ loaded: 1 });
      expect(seen).toEqual(['request /upload/hooks', 'response /upload/hooks']);
      const listed = (await api(second, 'GET', '/flows')).json() as WebFlow[];
      expect(listed.map((f) => f.request!.path)).toEqual(['/upload/hooks']);
    } finally {
      await second.close();
    }
  });
});

describe('options, commands, events, state', () => {
  it("lists options as mitmweb does and sets them with the command line's validation errors", async () => {
    const opts = (await api(rig, 'GET', '/options')).json() as Record<string, { type: string; value: unknown }>;
    expect(opts['web_port']).toMatchObject({ type: 'int' });
    expect(opts['anticache']).toBeUndefined();
    expect((await api(rig, 'PUT', '/options', { showhost: true })).status).toBe(200);
    expect(rig.proxy.kernel.options.get('showhost')).toBe(true);
    const bad = await api(rig, 'PUT', '/options', { tcp_timeout: 'soon' });
    expect(bad.status).toBe(400);
    let cli = '';
    try {
      rig.proxy.kernel.options.set(['tcp_timeout=soon']);
    } catch (err) {
      cli = (err as Error).message;
    }
    expect(bad.text).toBe(cli);
    expect((await api(rig, 'PUT', '/options', { no_such_option: 1 })).text).toMatch(/^Unknown option: no_such_option/);
  });

  it('lists and runs commands (mitmweb: {value} or {error})', async () => {
    const cmds = (await api(rig, 'GET', '/commands')).json() as Record<string, { signature_help: string }>;
    expect(cmds['flow.mark']!.signature_help).toMatch(/^flow.mark/);
    expect(
      (await api(rig, 'POST', '/commands/proxyserver.active_connections', { arguments: [] })).json(),
    ).toHaveProperty('value');
    expect(((await api(rig, 'POST', '/commands/nope', { arguments: [] })).json() as { error: string }).error).toMatch(
      /Unknown command: nope/,
    );
  });

  it('keeps the event log and reports state and filter help', async () => {
    rig.proxy.kernel.log.warn('something to see');
    const events = (await api(rig, 'GET', '/events')).json() as Array<{ message: string; level: string }>;
    expect(events.some((e) => e.message === 'something to see' && e.level === 'warn')).toBe(true);
    const state = (await api(rig, 'GET', '/state')).json() as {
      servers: Array<{ port: number }>;
      features: Record<string, boolean>;
    };
    expect(state.servers[0]!.port).toBe(rig.proxy.port);
    expect(state.features).toHaveProperty('intercept');
    const help = (await api(rig, 'GET', '/filter-help')).json() as { commands: Array<[string, string]> };
    expect(help.commands.some(([op]) => op === '~bs regex')).toBe(true);
  });
});

describe('without corecommands or with the UI off', () => {
  it('resume answers 501 naming the core commands addon', async () => {
    const h = new HoldAddon();
    const r = await startWeb([h]);
    try {
      const pending = viaProxy(r, 'GET', '/hold/x');
      const f = await h.held('/hold/x');
      const res = await api(r, 'POST', `/flows/${f.id}/resume`);
      expect(res.status).toBe(501);
      expect(res.text).toMatch(/flow.resume.*@mitmts\/addon-corecommands/);
      f.resume();
      await pending;
    } finally {
      await r.close();
    }
  });

  it('with web off (the default) no server runs and no hook of the UI is in the chain', async () => {
    const tctx = await withAddons([Web]);
    const web = tctx.addon<Web>('web');
    expect(web.server).toBeNull();
    expect(tctx.kernel.addons.names()).not.toContain('web.live');
    tctx.configure({ web: true, web_port: 0, web_open_browser: false });
    await web.settled();
    expect(web.server).not.toBeNull();
    expect(tctx.kernel.addons.names()).toContain('web.live');
    tctx.configure({ web: false });
    await web.settled();
    expect(web.server).toBeNull();
    expect(tctx.kernel.addons.names()).not.toContain('web.live');
    await tctx.done();
  });

  it('refuses a bad port and argon2 password hashes', async () => {
    const tctx = await withAddons([Web]);
    expect(() => tctx.configure({ web_port: 70000 })).toThrow(/web_port: 70000 is not a port/);
    expect(() => tctx.configure({ web_password: '$argon2id$v=19$...' })).toThrow(/argon2/);
    await tctx.done();
  });

  it('a port in use is logged and the proxy keeps running', async () => {
    const r = await startWeb();
    try {
      const tctx = await withAddons([Web], {
        web: true,
        web_port: Number(new URL(r.base).port),
        web_open_browser: false,
      });
      await tctx.addon<Web>('web').settled();
      expect(tctx.hasLog(/Web UI cannot listen on .*EADDRINUSE.*keeps running/, 'error')).toBe(true);
      await tctx.done();
    } finally {
      await r.close();
    }
  });
});
