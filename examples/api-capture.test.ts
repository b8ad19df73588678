import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import type { CaptureRecord } from './api-capture.js';
import { proxyWith, send } from './support.js';

/** An API on loopback: a JSON endpoint and a Server-Sent Events stream (plain or gzip'd). */
const EVENTS = [
  'event: message_start\ndata: {"type":"message_start","usage":{"input_tokens":3}}\n\n',
  'event: delta\ndata: {"text":"Hel"}\n\n',
  ': keep-alive\n\n',
  'event: delta\ndata: {"text":"lo"}\n\n',
  'data: [DONE]\n\n',
];
let api: http.Server;
let base: string;
let proxy: EmbeddedProxy;
const file = join(mkdtempSync(join(tmpdir(), 'mitmts-apicapture-')), 'calls.jsonl');

beforeAll(async () => {
  api = http.createServer((req, res) => {
    if (req.url === '/v1/models') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: [{ id: 'm-1' }], api_key_hint: 'none' }));
      return;
    }
    // The stream: events written one by one, as a model's answer arrives.
    const gzip = req.url === '/v1/stream-gzip';
    res.writeHead(200, { 'content-type': 'text/event-stream', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
    if (gzip) {
      res.end(gzipSync(EVENTS.join('')));
      return;
    }
    let i = 0;
    const next = (): void => {
      if (i === EVENTS.length) return void res.end();
      res.write(EVENTS[i++]);
      setImmediate(next);
    };
    next();
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  proxy = await proxyWith('api-capture.ts', { api_capture: file, api_capture_filter: '~u /v1/' });
});
afterAll(async () => {
  await proxy?.close();
  await new Promise((r) => api.close(r));
});

const records = (): CaptureRecord[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CaptureRecord);

describe('api-capture', () => {
  it('writes one JSON line per exchange: request, response, parsed events, timings; secrets redacted', async () => {
    const headers = { authorization: 'Bearer sk-live-0123456789abcdefghijklmnop', 'content-type': 'application/json' };
    expect((await send(proxy, `${base}/v1/models`, { headers })).status).toBe(200);
    const stream = await send(proxy, `${base}/v1/stream`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'm-1', stream: true, password: 'hunter2' }),
    });
    expect(stream.body).toBe(EVENTS.join(''));
    expect((await send(proxy, `${base}/v1/stream-gzip`, { headers: { 'accept-encoding': 'gzip' } })).status).toBe(200);
    await send(proxy, `${base}/other`);
    await proxy.close();

    const [models, sse, gz, ...rest] = records();
    expect(rest).toEqual([]);
    expect(models!.request).toMatchObject({
      method: 'GET',
      url: `${base}/v1/models`,
      headers: { authorization: 'Bearer <redacted 34 chars>' },
    });
    expect(models!.response).toMatchObject({
      status: 200,
      body: { data: [{ id: 'm-1' }], api_key_hint: '<redacted 4 chars>' },
    });
    expect(sse!.request.body).toEqual({ model: 'm-1', stream: true, password: '<redacted 7 chars>' });
    const want = [
      { event: 'message_start', data: { type: 'message_start', usage: { input_tokens: 3 } } },
      { event: 'delta', data: { text: 'Hel' } },
      { event: 'delta', data: { text: 'lo' } },
      { event: 'message', data: '[DONE]' },
    ];
    expect(sse!.response!.events).toEqual(want);
    expect(gz!.response!.events).toEqual(want);
    for (const r of [models!, sse!, gz!]) {
      expect(r.timings_ms.total).toBeGreaterThanOrEqual(0);
      expect(r.timings_ms.wait).toBeGreaterThanOrEqual(0);
      expect(Date.parse(r.started)).toBeGreaterThan(0);
      expect(r.run).toBeNull();
    }
    expect(readFileSync(file, 'utf8')).not.toContain('hunter2');
  });

  it('rejects an invalid filter', async () => {
    const p = await proxyWith('api-capture.ts');
    try {
      expect(() => p.kernel.options.update({ api_capture_filter: '~u (' })).toThrow(/^api_capture_filter: /);
    } finally {
      await p.close();
    }
  });
});
