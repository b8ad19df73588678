// The sink against a loopback HTTP endpoint that speaks enough of ClickHouse's HTTP interface
// for the official client, checking the requests it sends; and against a real server when
// CLICKHOUSE_URL names one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProxy, type Flow } from '@mitmts/sdk';
import { type TestContext, tflow, ttcpflow, withAddons } from '@mitmts/sdk/testing';
import { ClickHouseSink, type ClickHouseRow, flowToRow } from '@mitmts/addon-sink-clickhouse';

interface Received {
  readonly query: string;
  readonly params: URLSearchParams;
  readonly auth: string | undefined;
  readonly rows: ClickHouseRow[];
}

/** A fake ClickHouse: records each query; `failures` requests in a row answer 500 first. */
async function fakeClickHouse(): Promise<{
  url: string;
  received: Received[];
  failures: { n: number };
  close: () => Promise<void>;
}> {
  const received: Received[] = [];
  const failures = { n: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failures.n > 0) {
        failures.n--;
        res.writeHead(500, { 'content-type': 'text/plain', 'x-clickhouse-exception-code': '242' });
        res.end('Code: 242. DB::Exception: Table is in readonly mode. (TABLE_IS_READ_ONLY)');
        return;
      }
      const params = new URL(req.url ?? '/', 'http://x').searchParams;
      const body = Buffer.concat(chunks).toString('utf8');
      const query = params.get('query') ?? body;
      const rows = params.has('query')
        ? body
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as ClickHouseRow)
        : [];
      received.push({ query, params, auth: req.headers.authorization, rows });
      res.writeHead(200, {
        'content-type': 'text/plain',
        'x-clickhouse-query-id': params.get('query_id') ?? '',
        'x-clickhouse-summary': `{"written_rows":"${rows.length}"}`,
      });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    failures,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const inserts = (r: Received[]): Received[] => r.filter((x) => x.query.startsWith('INSERT'));
let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function sink(options: Record<string, unknown>): Promise<TestContext> {
  const tctx = await withAddons([ClickHouseSink], options);
  cleanup.push(() => tctx.done());
  return tctx;
}

describe('ClickHouse sink', () => {
  it('creates the table, then sends one JSONEachRow row per completed flow', async () => {
    const ch = await fakeClickHouse();
    cleanup.push(ch.close);
    const tctx = await sink({
      clickhouse_url: ch.url,
      clickhouse_user: 'u',
      clickhouse_password: 'p',
      clickhouse_database: 'analytics',
      clickhouse_flush_ms: 10,
      clickhouse_instance: 'mitm-1',
    });
    const flows: Flow[] = [tflow({ resp: true }), tflow({ err: true }), ttcpflow()];
    await tctx.trigger('response', flows[0] as ReturnType<typeof tflow>);
    await tctx.trigger('error', flows[1] as ReturnType<typeof tflow>);
    await tctx.trigger('tcp_end', flows[2] as ReturnType<typeof ttcpflow>);
    await vi.waitFor(() => expect(inserts(ch.received)).toHaveLength(1));
    expect(ch.received[0]!.query).toMatch(/^CREATE TABLE IF NOT EXISTS mitmts_flows \(\n  id String,/);
    const ins = inserts(ch.received)[0]!;
    expect(ins.query).toBe('INSERT INTO mitmts_flows FORMAT JSONEachRow');
    expect(ins.params.get('database')).toBe('analytics');
    expect(ins.auth).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(ins.rows).toEqual(flows.map((f) => flowToRow(f, { bodies: false, bodyMax: 0, instance: 'mitm-1' })));
    expect(ins.rows[0]).toMatchObject({
      type: 'http',
      method: 'GET',
      status: 200,
      request_body: '',
      response_body: '',
      instance: 'mitm-1',
    });
    expect(ins.rows[0]!.ts).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    expect(await tctx.call('clickhouse.status')).toMatch(/3 rows in 1 inserts, 0 queued, 0 dropped, 0 retries$/);
  });

  it('sends bodies only when asked, capped', async () => {
    const ch = await fakeClickHouse();
    cleanup.push(ch.close);
    const tctx = await sink({
      clickhouse_url: ch.url,
      clickhouse_bodies: true,
      clickhouse_body_max: '5',
      clickhouse_flush_ms: 10,
      clickhouse_create: false,
    });
    const f = tflow({ resp: true });
    f.response!.text = 'hello world';
    await tctx.trigger('response', f);
    await vi.waitFor(() => expect(inserts(ch.received)).toHaveLength(1));
    expect(ch.received.some((r) => r.query.startsWith('CREATE'))).toBe(false);
    expect(inserts(ch.received)[0]!.rows[0]).toMatchObject({ response_body: 'hello', request_body: 'conte' });
  });

  it('batches inserts', async () => {
    const ch = await fakeClickHouse();
    cleanup.push(ch.close);
    const tctx = await sink({ clickhouse_url: ch.url, clickhouse_batch: 100, clickhouse_flush_ms: 50 });
    for (let i = 0; i < 250; i++) await tctx.trigger('response', tflow({ resp: true }));
    await vi.waitFor(() => expect(inserts(ch.received).map((r) => r.rows.length)).toEqual([100, 100, 50]));
  });

  it('retries while the server fails, dropping (and counting) the oldest rows beyond the queue bound', async () => {
    const ch = await fakeClickHouse();
    cleanup.push(ch.close);
    ch.failures.n = 3;
    const tctx = await sink({
      clickhouse_url: ch.url,
      clickhouse_batch: 10,
      clickhouse_flush_ms: 10,
      clickhouse_queue: 30,
      clickhouse_create: false,
    });
    const flows = Array.from({ length: 60 }, () => tflow({ resp: true }));
    for (const f of flows) await tctx.trigger('response', f);
    await vi.waitFor(() => expect(inserts(ch.received).flatMap((r) => r.rows)).toHaveLength(30), { timeout: 10_000 });
    const ids = inserts(ch.received).flatMap((r) => r.rows.map((x) => x.id));
    expect(ids).toEqual([...flows.slice(0, 10), ...flows.slice(40)].map((f) => f.id));
    expect(await tctx.call('clickhouse.status')).toMatch(/30 rows in 3 inserts, 0 queued, 30 dropped, 3 retries$/);
    expect(tctx.hasLog(/ClickHouse at .*: Table is in readonly mode.*\(attempt 1; retrying in 500 ms/, 'warn')).toBe(
      true,
    );
  });

  it('rejects bad option values, naming the option', async () => {
    const tctx = await sink({});
    expect(() => tctx.configure({ clickhouse_table: 'x; DROP TABLE y' })).toThrow(
      /clickhouse_table: .* is not a plain identifier/,
    );
    expect(() => tctx.configure({ clickhouse_url: 'not a url' })).toThrow(/clickhouse_url: "not a url" is not a URL/);
    expect(() => tctx.configure({ clickhouse_batch: 0 })).toThrow(/clickhouse_batch must be a positive number/);
    expect(await tctx.call('clickhouse.status')).toBe('off (option clickhouse_url is not set)');
  });

  it('gets rows from a real proxy', async () => {
    const ch = await fakeClickHouse();
    cleanup.push(ch.close);
    const origin = http.createServer((_q, s) => s.end('hi'));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => origin.close(r)));
    const proxy = await createProxy({
      addons: [ClickHouseSink],
      options: { clickhouse_url: ch.url, clickhouse_flush_ms: 10 },
    });
    cleanup.push(() => proxy.close());
    const port = (origin.address() as AddressInfo).port;
    await new Promise<void>((resolve, reject) => {
      http
        .get(
          {
            host: proxy.host,
            port: proxy.port,
            path: `http://127.0.0.1:${port}/x`,
            headers: { host: `127.0.0.1:${port}` },
          },
          (res) => res.resume().on('end', resolve),
        )
        .on('error', reject);
    });
    await vi.waitFor(() =>
      expect(inserts(ch.received).flatMap((r) => r.rows)).toMatchObject([
        { url: `http://127.0.0.1:${port}/x`, status: 200, response_size: 2 },
      ]),
    );
  });
});

const REAL = process.env['CLICKHOUSE_URL'];
if (!REAL)
  console.warn(
    'clickhouse sink: no real ClickHouse server reachable (set CLICKHOUSE_URL=http://host:8123 to test against one); only the loopback endpoint was used.',
  );

describe('against a real ClickHouse server', () => {
  it.skipIf(!REAL)('inserts rows that read back', async () => {
    const table = `mitmts_test_${process.pid}`;
    const tctx = await sink({ clickhouse_url: REAL, clickhouse_table: table, clickhouse_flush_ms: 10 });
    const flows = [tflow({ resp: true }), tflow({ resp: true })];
    for (const f of flows) await tctx.trigger('response', f);
    await vi.waitFor(() => expect(tctx.call('clickhouse.status')).resolves.toMatch(/2 rows in/), { timeout: 10_000 });
    const { createClient } = await import('@clickhouse/client');
    const c = createClient({ url: REAL });
    const rs = await c.query({ query: `SELECT id FROM ${table} ORDER BY ts`, format: 'JSONEachRow' });
    expect(((await rs.json()) as Array<{ id: string }>).map((r) => r.id).sort()).toEqual(flows.map((f) => f.id).sort());
    await c.command({ query: `DROP TABLE ${table}` });
    await c.close();
  });
});
