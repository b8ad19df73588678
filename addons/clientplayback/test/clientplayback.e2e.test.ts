// The addon in a running proxy (createProxy): a flow recorded live is replayed from the flow
// store, as the web UI and scripts do; the real server sees the request again, the hooks fire for
// the replay, and flow.revert brings the first response back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { requestVia, startOrigin, type Origin } from '@mitmts/sdk/testing';
import { ClientPlayback } from '../src/index.js';

let server: Origin;
let proxy: EmbeddedProxy;
const seen: string[] = [];
const hooks: string[] = [];
let replayed: (f: HTTPFlow) => void = () => undefined;

beforeAll(async () => {
  let n = 0;
  server = await startOrigin((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers['x-id']} ${req.body.toString()}`);
    res.end(`answer ${++n}`);
  });
  const watch = {
    name: 'watch',
    request: (f: HTTPFlow) => void hooks.push(`request ${f.isReplay ?? 'live'} live=${f.live}`),
    response: (f: HTTPFlow) => {
      hooks.push(`response ${f.isReplay ?? 'live'}`);
      if (f.isReplay) replayed(f);
    },
  };
  proxy = await createProxy({ addons: [ClientPlayback, watch] });
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

describe('clientplayback in a running proxy', () => {
  it('replays a live-recorded flow from the store: the server sees it again, its hooks fire, revert undoes it', async () => {
    const live = await requestVia(proxy, `${server.url}/again?x=1`, {
      method: 'POST',
      body: 'payload',
      headers: { 'x-id': '7' },
    });
    expect(live.body.toString()).toBe('answer 1');
    const flow = proxy.flows.all()[0] as HTTPFlow;
    expect(flow.live).toBe(false);
    hooks.length = 0;

    const done = new Promise<HTTPFlow>((r) => (replayed = r));
    await proxy.command('replay.client', '~u /again');
    expect(await done).toBe(flow);
    // The response hook ran; the replay ends right after it.
    while ((await proxy.command('replay.client.count')) > 0) await new Promise((r) => setImmediate(r));

    expect(seen).toEqual(['POST /again?x=1 7 payload', 'POST /again?x=1 7 payload']);
    expect(hooks).toEqual(['request request live=true', 'response request']);
    expect([flow.isReplay, flow.live, flow.response!.text]).toEqual(['request', false, 'answer 2']);
    expect(proxy.flows.all()).toEqual([flow]);

    flow.revert();
    expect([flow.isReplay, flow.response!.text]).toEqual([null, 'answer 1']);
  });

  it('refuses a flow that is still live (held or under way), with a warning', async () => {
    const f = proxy.flows.all()[0] as HTTPFlow;
    f.live = true;
    try {
      await proxy.command('replay.client', [f]);
      expect(
        proxy.logs.some(
          (e) => e.level === 'warn' && e.message.startsWith("Can't replay live flow. (POST http://127.0.0.1:"),
        ),
      ).toBe(true);
      expect(await proxy.command('replay.client.count')).toBe(0);
    } finally {
      f.live = false;
    }
  });
});
