// End to end: a real mitmts process records real requests; `mitmts flows` and `mitmts -r` read
// the database like a .mitm file.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFlow, FlowReader } from '@mitmts/sdk';
import { storeFlowFormat } from '@mitmts/addon-store';
import { get, mitmts, origin, run } from './helpers.js';

let up: Awaited<ReturnType<typeof origin>>;
let dir: string;
let db: string;

beforeAll(async () => {
  // The tests below read the database synchronously ([...new FlowReader(db)]).
  await storeFlowFormat.prepare!();
  up = await origin();
  dir = mkdtempSync(join(tmpdir(), 'mitmts-store-e2e-'));
  db = join(dir, 'flows.db');
  const proxy = await mitmts([
    '--set',
    `store=${db}`,
    '--set',
    'store_body_threshold=1k',
    '--set',
    `confdir=${join(dir, 'conf')}`,
  ]);
  const base = `http://127.0.0.1:${up.port}`;
  expect(await get(proxy.port, `${base}/status/200`)).toBe(200);
  expect(await get(proxy.port, `${base}/status/404`)).toBe(404);
  expect(await get(proxy.port, `${base}/bytes/5000?i=1`)).toBe(200);
  const auth = { authorization: 'Bearer sk-live-0123456789abcdef' };
  for (const id of [7, 8])
    expect(await get(proxy.port, `${base}/api/users/${id}?api_key=k-${id}`, undefined, auth)).toBe(200);
  const exited = new Promise((r) => proxy.child.once('exit', r));
  proxy.child.kill('SIGTERM');
  await exited;
});

afterAll(() => up.close());

describe('a database recorded by a real proxy', () => {
  it('mitmts flows reads it, answering the filter', async () => {
    // (the API key in the query is redacted: mitmts flows does that by default)
    const all = await run(['flows', db, '--fields', 'request.url,response.status_code']);
    expect(all.code).toBe(0);
    expect(
      all.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    ).toEqual([
      { 'request.url': `http://127.0.0.1:${up.port}/status/200`, 'response.status_code': 200 },
      { 'request.url': `http://127.0.0.1:${up.port}/status/404`, 'response.status_code': 404 },
      { 'request.url': `http://127.0.0.1:${up.port}/bytes/5000?i=1`, 'response.status_code': 200 },
      {
        'request.url': `http://127.0.0.1:${up.port}/api/users/7?api_key=%3Credacted%203%20chars%3E`,
        'response.status_code': 200,
      },
      {
        'request.url': `http://127.0.0.1:${up.port}/api/users/8?api_key=%3Credacted%203%20chars%3E`,
        'response.status_code': 200,
      },
    ]);
    const nf = await run(['flows', db, '~d 127.0.0.1 & ~c 404', '--fields', 'request.path']);
    expect(nf.stdout).toBe('{"request.path":"/status/404"}\n');
    const summary = JSON.parse((await run(['flows', db, '--summary'])).stdout) as { flows: number };
    expect(summary.flows).toBe(5);
  });

  it('mitmts flows recon options work on it: redaction, --group endpoint --schema, --budget', async () => {
    const one = await run([
      'flows',
      db,
      '~u /api/users/8',
      '--fields',
      'request.headers.authorization,request.query,response.content',
    ]);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({
      'request.headers.authorization': 'Bearer <redacted 24 chars>',
      'request.query': { api_key: '<redacted 3 chars>' },
      'response.content': {
        size: 55,
        encoding: 'json',
        truncated: false,
        data: { id: 8, name: 'user 8', token: '<redacted 20 chars>' },
      },
    });
    const groups = await run(['flows', db, '~d 127.0.0.1', '--group', 'endpoint', '--schema']);
    expect(groups.code).toBe(0);
    const users = groups.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((g) => g.path === '/api/users/{id}');
    expect(users).toMatchObject({
      count: 2,
      statuses: { '200': 2 },
      query_params: ['api_key'],
      response_schema: { id: 'integer', name: 'string', token: 'string' },
    });
    expect(JSON.stringify(users)).not.toContain('0123456789abcdef');
    const budget = await run(['flows', db, '--budget', '300']);
    expect(budget.code).toBe(0);
    const last = JSON.parse(budget.stdout.trim().split('\n').pop()!) as { _truncated: { left_out: number } };
    expect(last._truncated.left_out).toBeGreaterThan(0);
    expect(Buffer.byteLength(budget.stdout)).toBeLessThanOrEqual(300);
  });

  it('restores the body kept in a file', () => {
    const flows = [...new FlowReader(db)];
    const big = flows.find((f) => f.type === 'http' && f.request.path.startsWith('/bytes'))!;
    expect(big.type === 'http' && big.response!.rawContent!.length).toBe(5000);
  });

  it('mitmts -r replays it into the addon chain (here: into a .mitm file, byte for byte)', async () => {
    const out = join(dir, 'replayed.mitm');
    const r = await run(['-n', '-r', db, '-w', out, '--set', `confdir=${join(dir, 'conf')}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/status\/404/);
    const replayed = [...new FlowReader(out)].map((f) => f.id);
    expect(replayed).toEqual([...new FlowReader(db)].map((f) => f.id));
    expect(readFileSync(out)).toEqual(Buffer.concat([...new FlowReader(db)].map((f) => encodeFlow(f))));
  });

  it('mitmts -r with a filter replays only what matches (answered by the database)', async () => {
    const r = await run(['-n', '-r', db, '~c 404', '--set', `confdir=${join(dir, 'conf')}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/status\/404/);
    expect(r.stdout).not.toMatch(/\/status\/200/);
  });

  it('a damaged database is a read error, exit status 1', async () => {
    const bad = join(dir, 'bad.db');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(2048, 1)]));
    const r = await run(['flows', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.db is not a usable SQLite database/);
  });
});
