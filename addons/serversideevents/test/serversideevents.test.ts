import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, HTTPResponse, type EmbeddedProxy } from '@mitmts/sdk';
import { startOrigin, requestVia, tflow, withAddon, type Origin } from '@mitmts/sdk/testing';
import { ServerSideEvents } from '../src/index.js';

const HELD = 'server-sent events are held until the response ends';

describe('serversideevents (unit)', () => {
  it('without a proxy runtime (no live_bodies): warns about a held event stream, not about a streamed one or other content', async () => {
    const tctx = await withAddon(ServerSideEvents);
    const sse = tflow({ resp: HTTPResponse.make(200, '', { 'content-type': 'text/event-stream; charset=utf-8' }) });
    await tctx.trigger('responseheaders', sse);
    expect(tctx.messages('warn')).toEqual([
      `http://address:22/path: ${HELD}, because live_bodies does not match this response. Make it live: --set live_bodies='~ts text/event-stream' (the default), or set flow.response.stream = true in a script (responseheaders).`,
    ]);
    const streamed = tflow({ resp: HTTPResponse.make(200, '', { 'content-type': 'text/event-stream' }) });
    streamed.response!.stream = true;
    await tctx.trigger('responseheaders', streamed);
    await tctx.trigger('responseheaders', tflow({ resp: true }));
    expect(tctx.messages('warn')).toHaveLength(1);
  });
});

describe('serversideevents (end to end)', () => {
  let server: Origin;
  let proxy: EmbeddedProxy;
  beforeAll(async () => {
    server = await startOrigin((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      res.end('data: two\n\n');
    });
    proxy = await createProxy({ addons: [ServerSideEvents] });
  });
  afterAll(async () => {
    await proxy.close();
    await server.close();
  });

  it('live by default: the events arrive and nothing is said', async () => {
    const { body } = await requestVia(proxy, `${server.url}/live`);
    expect(body.toString()).toBe('data: one\n\ndata: two\n\n');
    expect(proxy.logs.some((e) => e.message.includes(HELD))).toBe(false);
  });

  it("with live_bodies '' the events arrive once the stream ends, and the log says why they were held", async () => {
    proxy.kernel.options.update({ live_bodies: '' });
    const { body } = await requestVia(proxy, `${server.url}/events`);
    expect(body.toString()).toBe('data: one\n\ndata: two\n\n');
    expect(proxy.logs.some((e) => e.level === 'warn' && e.message.startsWith(`${server.url}/events: ${HELD}`))).toBe(
      true,
    );
  });
});
