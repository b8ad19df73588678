import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy } from '@mitmts/sdk';
import { ScriptLoader, type ScriptEvent } from '@mitmts/addon-script';
import { getViaProxy, upstream } from './http.js';

const version = (tag: string, delayMs: number): string => `
import { ctx, type HTTPFlow } from '@mitmts/sdk';
export default {
  name: 'tagger',
  async request(flow: HTTPFlow): Promise<void> {
    if (flow.request.path !== '/slow') return;
    ctx.log.info('${tag}: /slow waits');
    await new Promise((r) => setTimeout(r, ${delayMs}));
  },
  response(flow: HTTPFlow): void {
    flow.response!.headers.set('x-version', '${tag}');
  },
};
`;

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('hot reload under traffic', () => {
  it('a flow in flight finishes with the version it started with; the next one gets the new version', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mitmts-inflight-')));
    const file = join(dir, 'tagger.ts');
    writeFileSync(file, version('v1', 600));
    const up = await upstream();
    cleanup.push(up.close);
    const proxy: EmbeddedProxy = await createProxy({ addons: [ScriptLoader], options: { scripts: [file] } });
    cleanup.push(proxy.close);
    const loader = proxy.kernel.get<ScriptLoader>('script')!;

    const waiting = new Promise<void>((resolve) => {
      const off = proxy.kernel.log.onEntry((e) => {
        if (e.message === 'v1: /slow waits') {
          off();
          resolve();
        }
      });
    });
    const slow = getViaProxy(proxy, `${up.url}/slow`);
    await waiting;
    const loaded = new Promise<ScriptEvent>((resolve) => loader.onEvent((e) => e.type !== 'removed' && resolve(e)));
    writeFileSync(file, version('v2', 0));
    expect((await loaded).type).toBe('loaded');
    const fast = await getViaProxy(proxy, `${up.url}/fast`);
    expect(fast.headers['x-version']).toBe('v2');
    const old = await slow;
    expect(old.status).toBe(200);
    expect(old.body).toBe('upstream /slow');
    expect(old.headers['x-version']).toBe('v1');
  });

  it('the proxy keeps serving while a broken save is reported', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mitmts-inflight-')));
    const file = join(dir, 'tagger.ts');
    writeFileSync(file, version('good', 0));
    const up = await upstream();
    cleanup.push(up.close);
    const proxy = await createProxy({ addons: [ScriptLoader], options: { scripts: [file] } });
    cleanup.push(proxy.close);
    const loader = proxy.kernel.get<ScriptLoader>('script')!;
    const failed = new Promise<ScriptEvent>((resolve) => loader.onEvent((e) => e.type !== 'removed' && resolve(e)));
    writeFileSync(file, 'export default {');
    expect((await failed).type).toBe('failed');
    const r = await getViaProxy(proxy, `${up.url}/after`);
    expect(r.body).toBe('upstream /after');
    expect(r.headers['x-version']).toBe('good');
    expect(proxy.logs.some((e) => e.level === 'error' && e.message.startsWith(`error in script ${file}:`))).toBe(true);
  });
});
