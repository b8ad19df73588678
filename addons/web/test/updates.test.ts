// The /updates WebSocket through a real proxy: view deltas, filter errors, mitmweb's flows/*
// messages, auth, and a client that stops reading is dropped while the proxy keeps serving.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { FilterUpdate } from '../src/protocol.js';
import { startWeb, UiClient as Client, viaProxy, type WebRig } from './helpers.js';

let rig: WebRig;
beforeAll(async () => {
  rig = await startWeb();
});
afterAll(() => rig.close());

describe('/updates', () => {
  it('a view gets its window and then deltas as flows arrive; a filter narrows it', async () => {
    const c = await Client.open(rig);
    c.send({ type: 'view/set', payload: { filter: '~u /ws/', sort: { column: 'seq', desc: false } } });
    expect(await c.next((m) => m.type === 'view/filter')).toMatchObject({
      payload: { filter: '~u /ws/', describe: 'url matches //ws//i' },
    });
    c.send({ type: 'view/window', payload: { offset: 0, limit: 50 } });
    await viaProxy(rig, 'GET', '/ws/1');
    await viaProxy(rig, 'GET', '/other');
    await viaProxy(rig, 'GET', '/ws/2');
    await c.until(() => c.paths().join() === '/ws/1,/ws/2' && c.rows.every((r) => r.status === 200));
    expect(c.count).toBe(2);
    c.send({ type: 'view/set', payload: { filter: '~u /ws/2', sort: { column: 'seq', desc: false } } });
    await c.until(() => c.paths().join() === '/ws/2');
    c.ws.close();
  });

  it("an invalid filter gets the parser's error and the view keeps the old filter", async () => {
    const c = await Client.open(rig);
    c.send({ type: 'view/set', payload: { filter: '~b', sort: { column: 'seq', desc: false } } });
    const m = await c.next((x) => x.type === 'view/filter');
    expect(m.payload).toMatchObject({
      filter: '~b',
      error: expect.stringMatching(/^Invalid filter expression at position 2: /),
    });
    c.ws.close();
  });

  it("a client without a view gets mitmweb's flows/add and flows/update messages", async () => {
    const c = await Client.open(rig);
    await viaProxy(rig, 'GET', '/legacy');
    const add = await c.next(
      (m) =>
        m.type === 'flows/add' &&
        (m.payload as { flow: { request?: { path: string } } }).flow.request?.path === '/legacy',
    );
    expect(add.payload).toHaveProperty('matching_filters');
    c.ws.close();
  });

  it("answers mitmweb's flows/updateFilter with the matching ids, then marks new flows by each named filter", async () => {
    await viaProxy(rig, 'GET', '/uf/1');
    const c = await Client.open(rig);
    try {
      c.send({ type: 'flows/updateFilter', payload: { name: 'search', expr: '~u /uf/' } });
      const first = (await c.next((m) => m.type === 'flows/filterUpdate')).payload as FilterUpdate;
      const ids = first.matching_flow_ids;
      expect(first.name).toBe('search');
      expect(ids.length).toBeGreaterThanOrEqual(1);
      const all = (await (
        await fetch(`${rig.base}/flows`, { headers: { authorization: `Bearer ${rig.token}` } })
      ).json()) as Array<{ id: string; request: { path: string } }>;
      expect(ids).toEqual(all.filter((f) => f.request.path.startsWith('/uf/')).map((f) => f.id));
      c.send({ type: 'flows/updateFilter', payload: { name: 'highlight', expr: '~u /uf/2' } });
      await c.next((m) => m.type === 'flows/filterUpdate' && (m.payload as FilterUpdate).name === 'highlight');
      await viaProxy(rig, 'GET', '/uf/2');
      await viaProxy(rig, 'GET', '/not-uf');
      const added = async (path: string): Promise<Record<string, boolean>> =>
        (
          (
            await c.next(
              (m) =>
                m.type === 'flows/add' &&
                (m.payload as { flow: { request?: { path: string } } }).flow.request?.path === path,
            )
          ).payload as { matching_filters: Record<string, boolean> }
        ).matching_filters;
      expect(await added('/uf/2')).toEqual({ search: true, highlight: true });
      expect(await added('/not-uf')).toEqual({ search: false, highlight: false });
      // A filter that does not parse: the parser's message, and the name matches nothing.
      c.send({ type: 'flows/updateFilter', payload: { name: 'search', expr: '~u (' } });
      const bad = (await c.next((m) => m.type === 'flows/filterUpdate')).payload as FilterUpdate;
      expect(bad).toMatchObject({ name: 'search', matching_flow_ids: [] });
      expect(bad.error).toMatch(/./);
    } finally {
      c.ws.close();
    }
  });

  it('refuses WebSocket connections without the token, with a wrong one, or from another origin', async () => {
    const url = `${rig.base.replace('http', 'ws')}/updates`;
    const status = (headers: Record<string, string>): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    expect(await status({})).toBe(401);
    expect(await status({ authorization: 'Bearer wrong' })).toBe(403);
    expect(await status({ authorization: `Bearer ${rig.token}`, origin: 'http://evil.example' })).toBe(403);
    expect(await status({ authorization: `Bearer ${rig.token}`, origin: rig.base })).toBe(101);
  });
});

describe('a client that does not read', () => {
  it('is dropped once its unsent data passes the bound; other clients and the proxy go on', async () => {
    const r = await startWeb();
    try {
      const server = r.web.server!;
      // A small bound for the test (the default is 16 MiB).
      server.hub.maxBuffered = 1 << 20;
      const u = new URL(r.base);
      const stuck = net.connect(Number(u.port), u.hostname);
      await new Promise((resolve) => stuck.once('connect', resolve));
      stuck.write(
        `GET /updates HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
          `Sec-WebSocket-Version: 13\r\nAuthorization: Bearer ${r.token}\r\n\r\n`,
      );
      await new Promise((resolve) => stuck.once('data', resolve));
      stuck.pause();
      const good = await Client.open(r);
      expect(server.hub.size).toBe(2);
      const big = 'x'.repeat(64 << 10);
      let sent = 0;
      // Log lines go to every client as events/add; keep logging until the stuck client is dropped.
      while (server.hub.size > 1 && sent < 4000) {
        r.proxy.kernel.log.info(`${sent} ${big}`);
        sent++;
        // Let the reading client read between lines (it lives in this process).
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(server.hub.size).toBe(1);
      expect(
        r.proxy.logs.some(
          (e) => e.level === 'warn' && /Web UI client dropped: it did not read its updates/.test(e.message),
        ),
      ).toBe(true);
      // The reading client got everything, and the proxy still serves.
      await good.next((m) => m.type === 'events/add' && m.payload.message.startsWith(`${sent - 1} `));
      expect((await viaProxy(r, 'GET', '/still/here')).status).toBe(200);
      good.ws.close();
      stuck.destroy();
    } finally {
      await r.close();
    }
  });
});
