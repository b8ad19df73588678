// The OTel sink against an in-process OTLP/HTTP receiver (JSON ExportTraceServiceRequest).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxy, FlowError, HTTPHeaders } from '@mitmts/sdk';
import { type TestContext, tflow, withAddons } from '@mitmts/sdk/testing';
import { flowToSpan, OTelSink, redactUrl } from '@mitmts/addon-sink-otel';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
}
interface OtlpSpan {
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes: Array<{ key: string; value: OtlpValue }>;
  status?: { code?: number; message?: string };
}
interface Received {
  readonly headers: http.IncomingHttpHeaders;
  readonly raw: string;
  readonly service: string | undefined;
  readonly spans: OtlpSpan[];
}

/** An OTLP/HTTP receiver: POST /v1/traces with JSON; `fail` requests answer 503 first. */
async function receiver(): Promise<{
  url: string;
  received: Received[];
  fail: { n: number };
  close: () => Promise<void>;
}> {
  const received: Received[] = [];
  const fail = { n: 0 };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/json') {
        res.writeHead(415).end();
        return;
      }
      if (fail.n > 0) {
        fail.n--;
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"code":3,"message":"bad batch"}');
        return;
      }
      const body = JSON.parse(raw) as {
        resourceSpans: Array<{
          resource: { attributes: Array<{ key: string; value: OtlpValue }> };
          scopeSpans: Array<{ spans: OtlpSpan[] }>;
        }>;
      };
      for (const rs of body.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
        received.push({ headers: req.headers, raw, service, spans: rs.scopeSpans.flatMap((s) => s.spans) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    received,
    fail,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const attrs = (s: OtlpSpan): Record<string, string | number> =>
  Object.fromEntries(s.attributes.map((a) => [a.key, a.value.stringValue ?? Number(a.value.intValue)]));

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function sink(options: Record<string, unknown>): Promise<TestContext> {
  const tctx = await withAddons([OTelSink], options);
  cleanup.push(() => tctx.done());
  return tctx;
}

describe('OpenTelemetry sink', () => {
  it('exports one CLIENT span per HTTP flow with the stable HTTP attributes, and no bodies', async () => {
    const otlp = await receiver();
    cleanup.push(otlp.close);
    const tctx = await sink({
      otel_endpoint: otlp.url,
      otel_service_name: 'edge-proxy',
      otel_headers: ['authorization=Bearer t0k'],
    });
    const ok = tflow({ resp: true });
    ok.request.headers = new HTTPHeaders([
      ['Host', 'address:22'],
      ['User-Agent', 'curl/8.5'],
      ['x-secret', 'SECRETHEADER'],
    ]);
    ok.request.text = 'SECRETREQUESTBODY';
    ok.response!.text = 'SECRETRESPONSEBODY';
    const notFound = tflow({ resp: true });
    notFound.response!.statusCode = 404;
    notFound.request.method = 'PURGE';
    const killed = tflow({ err: true });
    killed.error = new FlowError(FlowError.KILLED_MESSAGE);
    await tctx.trigger('response', ok);
    await tctx.trigger('response', notFound);
    await tctx.trigger('error', killed);
    await tctx.call('otel.flush');
    const spans = otlp.received.flatMap((r) => r.spans);
    expect(spans).toHaveLength(3);
    expect(otlp.received[0]!.service).toBe('edge-proxy');
    expect(otlp.received[0]!.headers.authorization).toBe('Bearer t0k');
    expect(spans.every((s) => s.kind === 3)).toBe(true); // SPAN_KIND_CLIENT
    expect(spans[0]!.name).toBe('GET');
    expect(attrs(spans[0]!)).toEqual({
      'http.request.method': 'GET',
      'url.full': 'http://address:22/path',
      'url.scheme': 'http',
      'server.address': 'address',
      'server.port': 22,
      'network.protocol.version': '1.1',
      'user_agent.original': 'curl/8.5',
      'network.peer.address': ok.serverConn.peername![0],
      'network.peer.port': ok.serverConn.peername![1],
      'http.response.status_code': 200,
    });
    expect(BigInt(spans[0]!.startTimeUnixNano)).toBe(BigInt(Math.round(ok.request.timestampStart * 1e6)) * 1000n);
    expect(spans[0]!.status?.code ?? 0).toBe(0);
    expect(spans[1]!.name).toBe('HTTP');
    expect(attrs(spans[1]!)).toMatchObject({
      'http.request.method': '_OTHER',
      'http.request.method_original': 'PURGE',
      'http.response.status_code': 404,
      'error.type': '404',
    });
    expect(spans[1]!.status).toMatchObject({ code: 2, message: 'HTTP 404' });
    expect(attrs(spans[2]!)).toMatchObject({ 'error.type': 'killed' });
    expect(spans[2]!.status).toMatchObject({ code: 2, message: 'Connection killed.' });
    const everything = otlp.received.map((r) => r.raw).join('');
    for (const secret of ['SECRETREQUESTBODY', 'SECRETRESPONSEBODY', 'SECRETHEADER'])
      expect(everything).not.toContain(secret);
    expect(await tctx.call('otel.status')).toBe(`exporting to ${otlp.url}: 3 spans exported, 0 lost`);
  });

  it('reports failed exports and counts the spans lost', async () => {
    const otlp = await receiver();
    cleanup.push(otlp.close);
    otlp.fail.n = 1;
    const tctx = await sink({ otel_endpoint: otlp.url });
    await tctx.trigger('response', tflow({ resp: true }));
    await tctx.call('otel.flush');
    expect(await tctx.call('otel.status')).toMatch(/0 spans exported, 1 lost, last error: /);
    expect(tctx.hasLog(/OpenTelemetry collector at .*\(1 spans lost; see otel.status\)/, 'warn')).toBe(true);
    await tctx.trigger('response', tflow({ resp: true }));
    await tctx.call('otel.flush');
    expect(await tctx.call('otel.status')).toMatch(/1 spans exported, 1 lost$/);
  });

  it('exports spans of a real proxy at shutdown, only for matching flows', async () => {
    const otlp = await receiver();
    cleanup.push(otlp.close);
    const origin = http.createServer((q, s) => {
      s.statusCode = q.url === '/missing' ? 404 : 200;
      s.end('body');
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => origin.close(r)));
    const port = (origin.address() as AddressInfo).port;
    const proxy = await createProxy({
      addons: [OTelSink],
      options: { otel_endpoint: otlp.url, otel_filter: '~c 404' },
    });
    for (const path of ['/ok', '/missing']) {
      await new Promise<void>((resolve, reject) => {
        http
          .get(
            {
              host: proxy.host,
              port: proxy.port,
              path: `http://127.0.0.1:${port}${path}`,
              headers: { host: `127.0.0.1:${port}` },
            },
            (res) => res.resume().on('end', resolve),
          )
          .on('error', reject);
      });
    }
    await proxy.close();
    const spans = otlp.received.flatMap((r) => r.spans);
    expect(spans.map((s) => attrs(s)['url.full'])).toEqual([`http://127.0.0.1:${port}/missing`]);
  });

  it('rejects bad option values', async () => {
    const tctx = await sink({});
    expect(() => tctx.configure({ otel_headers: ['no-equals'] })).toThrow(
      /otel_headers: "no-equals" is not name=value/,
    );
    expect(() => tctx.configure({ otel_endpoint: 'nope' })).toThrow(/otel_endpoint: "nope" is not a URL/);
    expect(await tctx.call('otel.status')).toBe('off (option otel_endpoint is not set)');
  });
});

describe('spans', () => {
  it('redact credentials and signatures in url.full', () => {
    expect(redactUrl('https://user:pw@example.com/a?Signature=abc&x=1')).toBe(
      'https://example.com/a?Signature=REDACTED&x=1',
    );
    expect(redactUrl('http://example.com/a?b=%20')).toBe('http://example.com/a?b=%20');
  });

  it('map HTTP versions to network.protocol.version', () => {
    const f = tflow({ resp: true });
    f.request.httpVersion = 'HTTP/2.0';
    expect(flowToSpan(f).attributes['network.protocol.version']).toBe('2');
  });
});
