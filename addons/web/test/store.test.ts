// The web UI over a real SQLite store (the store addon, a database file in a temporary
// directory): with more flows recorded than the kernel keeps in memory, the REST windows, the
// live view, filters and body searches answer from the store; deleting is refused with a reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '@mitmts/addon-store';
import { FlowReader, type HTTPFlow } from '@mitmts/sdk';
import type { WebFlow } from '../src/protocol.js';
import { api, startWeb, UiClient, viaProxy, type WebRig } from './helpers.js';

const FLOWS = 30;
const KEPT = 5;
/** Every third flow is JSON (`/json/N`, body `{"path": ...}`); the others are text (`/text/N`, body `hello /text/N`). */
const pathOf = (i: number): string => (i % 3 === 0 ? `/json/${i}` : `/text/${i}`);

let rig: WebRig;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mitmts-web-store-'));
  rig = await startWeb([Store], { store: join(dir, 'flows.db'), store_memory_flows: KEPT });
  for (let i = 0; i < FLOWS; i++) expect((await viaProxy(rig, 'GET', pathOf(i))).status).toBe(200);
});

afterAll(async () => {
  await rig?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Page = { count: number; offset: number; flows: WebFlow[] };
const list = async (query: string): Promise<Page> => {
  const res = await api(rig, 'GET', `/flows?${query}`);
  expect(res.status, res.text).toBe(200);
  return res.json() as Page;
};
const paths = (p: Page): string[] => p.flows.map((f) => f.request!.path);

describe('the web UI over a SQLite store', () => {
  it('keeps the memory bound the store set (the UI does not raise it)', () => {
    const flows = rig.proxy.kernel.flows;
    expect(flows.limit).toBe(KEPT);
    expect(flows.size).toBeLessThanOrEqual(KEPT);
    expect(flows.index.name).toMatch(/^sqlite:/);
  });

  it('pages through every recorded flow by position, from both ends', async () => {
    const first = await list('limit=4&offset=0');
    expect(first.count).toBe(FLOWS);
    expect(paths(first)).toEqual([0, 1, 2, 3].map(pathOf));
    const middle = await list('limit=3&offset=11');
    expect(paths(middle)).toEqual([11, 12, 13].map(pathOf));
    const last = await list(`limit=4&offset=${FLOWS - 3}`);
    expect(paths(last)).toEqual([27, 28, 29].map(pathOf));
    const desc = await list('limit=2&offset=1&desc=true');
    expect(paths(desc)).toEqual([28, 27].map(pathOf));
  });

  it('filters and sorts in the store, flows evicted from memory included', async () => {
    const json = await list(`filter=${encodeURIComponent('~u /json/')}&limit=100&sort=url`);
    expect(json.count).toBe(10);
    expect(paths(json)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27].map(pathOf).sort());
    // A body search: only the text bodies say hello; the real filter decides on decoded records.
    const hello = await list(`filter=${encodeURIComponent('~bs "hello /text/1"')}&limit=100`);
    expect(paths(hello)).toEqual([
      '/text/1',
      '/text/10',
      '/text/11',
      '/text/13',
      '/text/14',
      '/text/16',
      '/text/17',
      '/text/19',
    ]);
  });

  it('serves a flow evicted from memory, read back from the store', async () => {
    const [oldest] = (await list('limit=1&offset=0')).flows;
    expect(rig.proxy.kernel.flows.get(oldest!.id)).toBeUndefined();
    const res = await api(rig, 'GET', `/flows/${oldest!.id}`);
    expect(res.status).toBe(200);
    expect((res.json() as WebFlow).request!.path).toBe(pathOf(0));
    const body = await api(rig, 'GET', `/flows/${oldest!.id}/response/content.data`);
    expect(body.text).toBe(JSON.stringify({ path: pathOf(0), body: '' }));
  });

  it('a live view shows a window of the store, anchored in the middle, and follows new flows at the end', async () => {
    const c = await UiClient.open(rig);
    try {
      c.send({ type: 'view/set', payload: { filter: '~u /text/', sort: { column: 'seq', desc: false } } });
      c.send({ type: 'view/window', payload: { offset: 5, limit: 3 } });
      await c.until(() => c.paths().join() === ['/text/8', '/text/10', '/text/11'].join());
      expect(c.count).toBe(20);
      c.send({ type: 'view/window', payload: { offset: 18, limit: 3 } });
      // Near the end the window is the last rows (and stays there).
      await c.until(() => c.paths().join() === ['/text/26', '/text/28', '/text/29'].join());
      await viaProxy(rig, 'GET', '/text/new');
      await c.until(() => c.count === 21 && c.paths().at(-1) === '/text/new');
    } finally {
      c.ws.close();
    }
  });

  it('lists, dumps and exports every stored flow, not only the ones in memory, streamed', async () => {
    const all = await api(rig, 'GET', '/flows');
    expect(all.status).toBe(200);
    // Streamed (chunked), not one string with a length.
    expect(all.headers.get('content-length')).toBeNull();
    const listed = (all.json() as WebFlow[]).map((f) => f.request!.path);
    expect(listed.slice(0, FLOWS)).toEqual(Array.from({ length: FLOWS }, (_, i) => pathOf(i)));
    expect(rig.proxy.kernel.flows.size).toBeLessThan(listed.length);
    const json = await api(rig, 'GET', `/flows?filter=${encodeURIComponent('~u /json/')}`);
    expect((json.json() as WebFlow[]).map((f) => f.request!.path)).toEqual(
      [0, 3, 6, 9, 12, 15, 18, 21, 24, 27].map(pathOf),
    );

    const dump = await fetch(`${rig.base}/flows/dump?filter=${encodeURIComponent('~u /text/')}`, {
      headers: { authorization: `Bearer ${rig.token}` },
    });
    expect(dump.headers.get('content-disposition')).toMatch(/flows\.mitm/);
    const read = [...new FlowReader(Buffer.from(await dump.arrayBuffer()))] as HTTPFlow[];
    expect(read.slice(0, 20).map((f) => f.request.path)).toEqual(
      Array.from({ length: FLOWS }, (_, i) => pathOf(i)).filter((p) => p.startsWith('/text/')),
    );
    // The oldest flow's body comes back from the store's record.
    expect(read[0]!.response!.text).toBe('hello /text/1');

    const har = (await api(rig, 'GET', '/flows/export.har')).json() as {
      log: { version: string; entries: Array<{ request: { url: string }; response: { status: number } }> };
    };
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries.slice(0, FLOWS).map((e) => new URL(e.request.url).pathname)).toEqual(
      Array.from({ length: FLOWS }, (_, i) => pathOf(i)),
    );
    expect(har.log.entries.every((e) => e.response.status === 200)).toBe(true);
  });

  it('refuses to delete flows the store keeps, saying why', async () => {
    const [f] = (await list('limit=1&offset=0')).flows;
    const del = await api(rig, 'DELETE', `/flows/${f!.id}`);
    expect(del.status).toBe(409);
    expect(del.text).toMatch(/recorded in a store \(sqlite:.*flows\.db\) cannot be deleted/);
    const clear = await api(rig, 'POST', '/clear');
    expect(clear.status).toBe(409);
    expect((await list('limit=1')).count).toBe(FLOWS + 1);
  });
});

describe('a store opened while the web UI runs', () => {
  it('is read at once: the view, the REST lists and evicted flows come from it, no restart', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mitmts-web-late-store-'));
    const late = await startWeb([Store]);
    try {
      const server = late.web.server;
      for (const p of ['/before/1', '/before/2', '/before/3']) await viaProxy(late, 'GET', p);
      const c = await UiClient.open(late);
      c.send({ type: 'view/set', payload: { filter: '', sort: { column: 'seq', desc: false } } });
      c.send({ type: 'view/window', payload: { offset: 0, limit: 50 } });
      await c.until(() => c.count === 3);

      const flows = late.proxy.kernel.flows;
      const plugged = new Promise<void>((resolve) => {
        const off = flows.onIndexChange(() => {
          off();
          resolve();
        });
      });
      late.proxy.kernel.options.update({ store: join(d, 'flows.db'), store_memory_flows: 2 });
      await plugged;
      await late.web.settled();
      expect(late.proxy.kernel.flows.index.name).toMatch(/^sqlite:/);
      for (let i = 0; i < 6; i++) await viaProxy(late, 'GET', `/after/${i}`);
      const stored = await late.proxy.kernel.flows.index.count();
      expect(stored).toBeGreaterThanOrEqual(6);
      // The same server (and token): nothing restarted.
      expect(late.web.server).toBe(server);
      await c.until(() => c.count === stored && c.paths().includes('/after/5'));
      const page = (await api(late, 'GET', '/flows?limit=100')).json() as Page;
      expect(page.count).toBe(stored);
      const listed = ((await api(late, 'GET', '/flows')).json() as WebFlow[]).map((f) => f.request!.path);
      expect(listed.filter((p) => p.startsWith('/after/'))).toEqual([0, 1, 2, 3, 4, 5].map((i) => `/after/${i}`));
      // Memory keeps 2; the first /after/ flow is read back from the store.
      const first = page.flows.find((f) => f.request!.path === '/after/0')!;
      expect(late.proxy.kernel.flows.get(first.id)).toBeUndefined();
      expect((await api(late, 'GET', `/flows/${first.id}`)).status).toBe(200);
      c.ws.close();
    } finally {
      await late.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
