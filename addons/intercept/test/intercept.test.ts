import { describe, expect, it } from 'vitest';
import { OptionsError, HTTPRequest } from '@mitmts/sdk';
import { tclientConn, tflow, ttcpflow, withAddons, type TestContext } from '@mitmts/sdk/testing';
import { Intercept } from '../src/index.js';

const live = (url = 'http://example.com/hold'): ReturnType<typeof tflow> => {
  const f = tflow({ req: HTTPRequest.make('GET', url) });
  f.live = true;
  return f;
};

/** Fire a flow hook as the runtime does: the promise settles only once the flow is resumed. */
const runtimeHook = (
  tctx: TestContext,
  name: 'request' | 'response' | 'tcp_message',
  f: Parameters<TestContext['trigger']>[1],
): Promise<void> => Promise.resolve(tctx.kernel.addons.triggerFlow(name, f as never));

describe('intercept (unit)', () => {
  it('does nothing without a filter, even when active', async () => {
    const tctx = await withAddons([Intercept]);
    tctx.configure({ intercept_active: true });
    const f = live();
    await tctx.trigger('request', f);
    expect(f.intercepted).toBe(false);
  });

  it('its flow hooks are left out of the chain while nothing can be held (activeWhen)', async () => {
    const tctx = await withAddons([Intercept]);
    const hooks = ['request', 'response', 'websocket_message', 'tcp_message'] as const;
    expect(hooks.filter((h) => tctx.kernel.addons.has(h))).toEqual([]);
    tctx.configure({ intercept: '~u /hold' });
    expect(hooks.filter((h) => tctx.kernel.addons.has(h))).toEqual(hooks);
    tctx.configure({ intercept_active: false });
    expect(hooks.filter((h) => tctx.kernel.addons.has(h))).toEqual([]);
    tctx.configure({ intercept_active: true });
    expect(tctx.kernel.addons.has('websocket_message')).toBe(true);
  });

  it('a filter turns interception on, clearing it turns it off', async () => {
    const tctx = await withAddons([Intercept]);
    tctx.configure({ intercept: '~u /hold' });
    expect(tctx.kernel.options.get('intercept_active')).toBe(true);
    tctx.configure({ intercept: null });
    expect(tctx.kernel.options.get('intercept_active')).toBe(false);
  });

  it('holds matching flows at request and at response, and only those', async () => {
    const tctx = await withAddons([Intercept], { intercept: '~u /hold' });
    const hold = live();
    const pass = live('http://example.com/other');
    // The request hook waits for the resume: do not await it yet.
    const waiting = runtimeHook(tctx, 'request', hold);
    await runtimeHook(tctx, 'request', pass);
    expect([hold.intercepted, pass.intercepted]).toEqual([true, false]);
    let resumed = false;
    void waiting.then(() => (resumed = true));
    await Promise.resolve();
    expect(resumed).toBe(false);
    hold.resume();
    await waiting;
    expect(resumed).toBe(true);
    hold.response = null;
    const again = runtimeHook(tctx, 'response', hold);
    expect(hold.intercepted).toBe(true);
    hold.resume();
    await again;
  });

  it('holds TCP messages too', async () => {
    const tctx = await withAddons([Intercept], { intercept: '~tcp' });
    const f = ttcpflow();
    f.live = true;
    const waiting = runtimeHook(tctx, 'tcp_message', f);
    expect(f.intercepted).toBe(true);
    f.resume();
    await waiting;
  });

  it('leaves replayed flows and flows read from a file alone', async () => {
    const tctx = await withAddons([Intercept], { intercept: '~u /hold' });
    const replayed = live();
    replayed.isReplay = 'request';
    const loaded = live();
    loaded.live = false;
    await tctx.trigger('request', replayed);
    await tctx.trigger('request', loaded);
    expect([replayed.intercepted, loaded.intercepted]).toEqual([false, false]);
  });

  it('pauses nothing while intercept_active is off, with the filter kept', async () => {
    const tctx = await withAddons([Intercept], { intercept: '~u /hold' });
    tctx.configure({ intercept_active: false });
    const f = live();
    await tctx.trigger('request', f);
    expect(f.intercepted).toBe(false);
  });

  it('kills the held flows of a client that disconnects, and only those', async () => {
    const tctx = await withAddons([Intercept], { intercept: '~u /hold' });
    const mine = live();
    const other = live();
    other.clientConn = tclientConn();
    const w1 = runtimeHook(tctx, 'request', mine);
    const w2 = runtimeHook(tctx, 'request', other);
    await tctx.trigger('client_disconnected', mine.clientConn);
    await w1;
    expect([mine.intercepted, mine.error?.msg]).toEqual([false, 'Connection killed.']);
    expect(other.intercepted).toBe(true);
    expect(tctx.hasLog(/disconnected; killed 1 intercepted flow\./, 'info')).toBe(true);
    await tctx.done();
    await w2;
    expect(other.intercepted).toBe(false);
  });

  it('refuses a bad filter with an options error naming the option', async () => {
    const tctx = await withAddons([Intercept]);
    expect(() => tctx.configure({ intercept: '~u (' })).toThrow(OptionsError);
    expect(() => tctx.configure({ intercept: '~u (' })).toThrow(/Invalid intercept "~u \("/);
  });
});
