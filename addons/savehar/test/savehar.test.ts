import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createProxy, FlowReader, type Har, type HTTPFlow } from '@mitmts/sdk';
import { requestVia, startOrigin, tflow, twebsocketflow, withAddons } from '@mitmts/sdk/testing';
import { Save } from '@mitmts/addon-save';
import { SaveHar } from '@mitmts/addon-savehar';

const tmp = (name: string): string => join(mkdtempSync(join(tmpdir(), 'mitmts-savehar-')), name);
const readHar = (path: string): Har => JSON.parse(readFileSync(path, 'utf8')) as Har;

describe('save.har', () => {
  it('writes the chosen flows as HAR 1.2, compressed for .zhar, to stdout for -', async () => {
    const tctx = await withAddons([SaveHar]);
    const flows = [tflow({ resp: true }), tflow({ resp: true })];
    const path = tmp('out.har');
    await tctx.call('save.har', flows, path);
    const har = readHar(path);
    expect(har.log.version).toBe('1.2');
    expect(har.log.entries.map((e) => e.request.url)).toEqual(flows.map((f) => f.request.url));
    expect(tctx.hasLog(/HAR file saved \(\d+ bytes\)\./, 'alert')).toBe(true);
    const z = tmp('out.zhar');
    await tctx.call('save.har', flows, z);
    expect(JSON.parse(inflateSync(readFileSync(z)).toString('utf8'))).toEqual(har);
    const out: string[] = [];
    tctx.addon<SaveHar>('savehar').stdout = (t) => void out.push(t);
    await tctx.call('save.har', flows.slice(0, 1), '-');
    expect((JSON.parse(out.join('')) as Har).log.entries).toHaveLength(1);
    // a HAR file reads back as flows
    expect([...new FlowReader(path)].map((f) => (f as HTTPFlow).request.url)).toEqual(flows.map((f) => f.request.url));
  });

  it('writes ~/ paths to the home directory (as mitmproxy expands a command path)', async () => {
    const tctx = await withAddons([SaveHar]);
    const home = process.env['HOME'];
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-savehar-home-'));
    process.env['HOME'] = dir;
    try {
      await tctx.call('save.har', [tflow({ resp: true })], '~/home.har');
    } finally {
      process.env['HOME'] = home;
    }
    expect(readHar(join(dir, 'home.har')).log.entries).toHaveLength(1);
  });

  it('reports a path it cannot write as a command error', async () => {
    const tctx = await withAddons([SaveHar]);
    await expect(tctx.call('save.har', [tflow({ resp: true })], '/nonexistent/dir/x.har')).rejects.toThrow(
      /Cannot save the HAR file \/nonexistent\/dir\/x\.har/,
    );
  });
});

describe('hardump', () => {
  it('keeps completed flows (WebSockets when they end), filtered by save_stream_filter, and writes them on exit', async () => {
    const path = tmp('dump.har');
    const tctx = await withAddons([Save, SaveHar], { hardump: path, save_stream_filter: '~d example.com' });
    const keep = tflow({ resp: true });
    const skip = tflow({ resp: true });
    const failed = tflow({ err: true });
    const ws = twebsocketflow();
    for (const f of [keep, failed, ws]) f.request.host = 'example.com';
    skip.request.host = 'other.org';
    for (const f of [keep, skip]) await tctx.trigger('response', f);
    await tctx.trigger('error', failed);
    await tctx.trigger('response', ws);
    expect(tctx.addon<SaveHar>('savehar').flows).toEqual([keep, failed]);
    await tctx.trigger('websocket_end', ws);
    await tctx.done();
    expect(readHar(path).log.entries).toHaveLength(3);
  });

  it('keeps nothing while hardump is empty', async () => {
    const tctx = await withAddons([SaveHar]);
    await tctx.trigger('response', tflow({ resp: true }));
    expect(tctx.addon<SaveHar>('savehar').flows).toHaveLength(0);
  });

  it('dumps real traffic through a running proxy on shutdown', async () => {
    const origin = await startOrigin((req, res) => res.end(`hi ${req.url}`));
    const url = origin.url;
    const path = tmp('live.har');
    const proxy = await createProxy({ addons: [SaveHar], options: { hardump: path } });
    try {
      for (const p of ['/one', '/two']) await requestVia(proxy, `${url}${p}`);
    } finally {
      await proxy.close();
      await origin.close();
    }
    const entries = readHar(path).log.entries;
    expect(entries.map((e) => [e.request.url, e.response.status, e.response.content.text])).toEqual([
      [`${url}/one`, 200, 'hi /one'],
      [`${url}/two`, 200, 'hi /two'],
    ]);
  });
});
