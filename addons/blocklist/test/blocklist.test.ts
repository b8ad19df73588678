import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, FlowError, HTTPResponse, type EmbeddedProxy } from '@mitmts/sdk';
import { requestVia, startOrigin, tflow, withAddon, type Origin } from '@mitmts/sdk/testing';
import { BlockList } from '@mitmts/addon-blocklist';

async function blocked(specs: string[], flow = tflow()) {
  const tctx = await withAddon(BlockList);
  tctx.configure({ block_list: specs });
  await tctx.trigger('request', flow);
  return flow;
}

describe('blocklist', () => {
  it('leaves its request hook out of the chain while the list is empty (activeWhen)', async () => {
    const tctx = await withAddon(BlockList);
    expect(tctx.kernel.addons.has('request')).toBe(false);
    tctx.configure({ block_list: ['/~u address/403'] });
    expect(tctx.kernel.addons.has('request')).toBe(true);
    tctx.configure({ block_list: [] });
    expect(tctx.kernel.addons.has('request')).toBe(false);
  });

  it('answers a matching request with an empty response of that status', async () => {
    const f = await blocked(['/~u address/403']);
    expect(f.response!.statusCode).toBe(403);
    expect(f.response!.reason).toBe('Forbidden');
    expect(f.response!.rawContent!.length).toBe(0);
    expect(f.response!.headers.get('server')).toBe('mitmts');
    expect(f.metadata['blocklisted']).toBe(true);
    expect(f.error).toBeNull();
  });

  it('kills the flow for 444', async () => {
    const f = await blocked(['/~u address/444']);
    expect(f.response).toBeNull();
    expect(f.error!.msg).toBe(FlowError.KILLED_MESSAGE);
    expect(f.metadata['blocklisted']).toBe(true);
  });

  it('leaves requests that match no rule alone', async () => {
    const f = await blocked(['/~u example.com/404', '!~s!444']);
    expect(f.response).toBeNull();
    expect(f.error).toBeNull();
    expect(f.metadata['blocklisted']).toBeUndefined();
  });

  it('applies every matching rule in order, as mitmproxy does', async () => {
    expect((await blocked(['/~q/404', '/~u address/410'])).response!.statusCode).toBe(410);
    const killedFirst = await blocked(['/~q/444', '/~q/404']);
    expect(killedFirst.error!.msg).toBe(FlowError.KILLED_MESSAGE);
  });

  it('skips flows that already have a response or an error, and flows that are not live', async () => {
    const answered = tflow({ resp: true });
    await blocked(['/~all/404'], answered);
    expect(answered.response!.statusCode).toBe(200);
    expect(answered.metadata['blocklisted']).toBeUndefined();

    const failed = tflow({ err: true });
    await blocked(['/~all/404'], failed);
    expect(failed.response).toBeNull();

    const loaded = tflow();
    loaded.live = false;
    await blocked(['/~all/404'], loaded);
    expect(loaded.response).toBeNull();
  });

  it('does nothing with an empty block_list', async () => {
    const f = await blocked([]);
    expect(f.response).toBeNull();
  });

  it('rejects a bad spec naming the option and the spec, and keeps the previous rules', async () => {
    const tctx = await withAddon(BlockList);
    tctx.configure({ block_list: ['/~q/404'] });
    expect(() => tctx.configure({ block_list: ['/~q/404', '/~q/999'] })).toThrow(
      'Cannot parse block_list option /~q/999: Invalid HTTP status code: 999',
    );
    expect(tctx.kernel.options.get('block_list')).toEqual(['/~q/404']);
    const f = tflow();
    await tctx.trigger('request', f);
    expect(f.response!.statusCode).toBe(404);
    expect(() => tctx.configure({ block_list: ['x'] })).toThrow(
      expect.objectContaining({ code: 'MITMTS_ERR_OPTION_INVALID' }),
    );
  });

  it('accepts --set style specs', async () => {
    const tctx = await withAddon(BlockList);
    tctx.set('block_list=:~d example.com:404', 'block_list=|~u /ads/|444');
    expect(tctx.addon<BlockList>('blocklist').items.map((i) => i.statusCode)).toEqual([404, 444]);
  });

  it('builds responses that look like HTTPResponse.make', () => {
    const r = HTTPResponse.make(404, '', { Server: 'mitmts' });
    expect(r.headers.get('content-length')).toBe('0');
  });
});

describe('blocklist through a running proxy', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await startOrigin((_req, res) => res.end('ok'));
  });
  afterAll(() => origin.close());

  async function get(proxy: EmbeddedProxy, path: string): Promise<string> {
    const r = await requestVia(proxy, `${origin.url}${path}`);
    return `${r.status} ${r.headers['server'] ?? '-'} ${JSON.stringify(r.text)}`;
  }

  it('answers blocked requests itself, closes 444 connections, forwards the rest', async () => {
    const proxy = await createProxy({
      addons: [BlockList],
      options: { block_list: ['|~u /ads/|404', ':~u /tracker:444'] },
    });
    try {
      expect(await get(proxy, '/ads/banner.png')).toBe('404 mitmts ""');
      await expect(get(proxy, '/tracker.js')).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(origin.requests).toEqual([]);
      expect(await get(proxy, '/index.html')).toBe('200 - "ok"');
      expect(origin.requests.map((r) => r.url)).toEqual(['/index.html']);
      const blockedFlows = proxy.flows.all().filter((f) => f.metadata['blocklisted'] === true);
      expect(blockedFlows.length).toBe(2);
    } finally {
      await proxy.close();
    }
  });
});
