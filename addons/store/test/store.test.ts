import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeFlow, type Flow, type HTTPFlow, OptionsError } from '@mitmts/sdk';
import { type TestContext, tflow, ttcpflow, withAddons } from '@mitmts/sdk/testing';
import { Store } from '@mitmts/addon-store';
import { loadSqlite, MAX_WAITING, StoreDatabase, StoreWriter, WriterThread } from '@mitmts/addon-store/engine';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'mitmts-store-'));
let contexts: TestContext[] = [];

async function start(options: Record<string, unknown>): Promise<TestContext> {
  const tctx = await withAddons([Store], options);
  contexts.push(tctx);
  return tctx;
}

afterEach(async () => {
  for (const c of contexts) await c.done();
  contexts = [];
});

/** What the proxy does with a flow: keep it, run its hooks (each followed by `update`). */
async function live(tctx: TestContext, flow: HTTPFlow, hooks: Array<'request' | 'response' | 'error'>): Promise<void> {
  tctx.kernel.flows.add(flow);
  for (const h of hooks) await tctx.kernel.addons.triggerFlow(h, flow);
}

/** Until the writer thread committed (its worker starts with the first batch: slow on a loaded machine). */
const COMMITTED = { timeout: 15_000, interval: 20 };

function rows(
  path: string,
): Array<{ id: string; status: number; has_response: number; marked: string; comment: string; ascii: number }> {
  const db = StoreDatabase.open(path, { readonly: true });
  try {
    return db.db
      .prepare('SELECT id, status, has_response, marked, comment, ascii FROM flows ORDER BY seq')
      .all() as Array<{
      id: string;
      status: number;
      has_response: number;
      marked: string;
      comment: string;
      ascii: number;
    }>;
  } finally {
    db.close();
  }
}

describe('store: recording', () => {
  it('writes each flow once it completes, in one batch', async () => {
    const path = join(tmp(), 'flows.db');
    const tctx = await start({ store: path });
    const a = tflow();
    const b = tflow();
    for (const f of [a, b]) {
      await live(tctx, f, ['request']);
      f.response = tflow({ resp: true }).response;
      await tctx.kernel.addons.triggerFlow('response', f);
    }
    await expect(tctx.call('store.status')).resolves.toMatch(/0 flow writes in 0 batches, 0 lost, 2 pending/);
    await vi.waitFor(() => expect(rows(path).map((r) => r.id)).toEqual([a.id, b.id]), COMMITTED);
    expect(await tctx.call('store.status')).toMatch(/2 flow writes in 1 batches, 0 lost, 0 pending/);
    expect(tctx.hasLog(`Recording flows in ${path}.`, 'info')).toBe(true);
  });

  it('writes a flow still in progress after store_inflight_ms, and again when it completes', async () => {
    const path = join(tmp(), 'flows.db');
    const tctx = await start({ store: path, store_inflight_ms: 20 });
    const f = tflow();
    await live(tctx, f, ['request']);
    expect(rows(path)).toEqual([]);
    await vi.waitFor(() => expect(rows(path)).toMatchObject([{ id: f.id, has_response: 0 }]), COMMITTED);
    f.response = tflow({ resp: true }).response;
    f.response!.statusCode = 404;
    await tctx.kernel.addons.triggerFlow('response', f);
    await vi.waitFor(() => expect(rows(path)).toMatchObject([{ id: f.id, has_response: 1, status: 404 }]), COMMITTED);
  });

  it('with store_inflight_ms=0 writes a flow at its request already', async () => {
    const path = join(tmp(), 'flows.db');
    const tctx = await start({ store: path, store_inflight_ms: 0 });
    const f = tflow();
    await live(tctx, f, ['request']);
    await vi.waitFor(() => expect(rows(path)).toMatchObject([{ id: f.id, has_response: 0 }]), COMMITTED);
  });

  it('saves changes made by commands (update) and writes what is pending at shutdown', async () => {
    const path = join(tmp(), 'flows.db');
    const tctx = await start({ store: path });
    const f = tflow({ resp: true });
    await live(tctx, f, ['response']);
    f.marked = ':default:';
    // Text that is not ASCII, short and long, travels to the writer thread intact.
    f.comment = `café ☕ ${'ü'.repeat(100)}`;
    await tctx.trigger('update', [f]);
    const inProgress = tflow();
    await live(tctx, inProgress, ['request']);
    await tctx.done();
    expect(rows(path)).toMatchObject([
      { id: f.id, marked: ':default:', comment: f.comment, ascii: 0 },
      { id: inProgress.id, has_response: 0, comment: '', ascii: 1 },
    ]);
  });

  it('plugs its index into the kernel and bounds the flows kept in memory', async () => {
    const path = join(tmp(), 'flows.db');
    const tctx = await start({ store: path, store_memory_flows: 2 });
    const flows = tctx.kernel.flows;
    expect(flows.index.name).toBe(`sqlite:${path}`);
    const all = [tflow({ resp: true }), tflow({ resp: true }), tflow({ resp: true }), tflow({ resp: true })];
    for (const f of all) await live(tctx, f, ['response']);
    expect(flows.size).toBe(2);
    // Reads flush first: nothing waits for the end of the turn.
    expect(await flows.index.count()).toBe(4);
    expect((await flows.index.window()).rows.map((r) => r.id)).toEqual(all.map((f) => f.id));
    // Kept flows come back live, evicted ones as copies from the database.
    expect(await flows.index.get(all[3]!.id)).toBe(all[3]);
    const copy = (await flows.index.get(all[0]!.id))!;
    expect(copy).not.toBe(all[0]);
    expect(encodeFlow(copy)).toEqual(encodeFlow(all[0]!));

    tctx.configure({ store: null });
    await vi.waitFor(() => expect(flows.index.name).toBe('memory'));
    expect(flows.limit).toBe(1000);
  });

  it('bounds the bytes kept in memory', async () => {
    const tctx = await start({ store: join(tmp(), 'flows.db'), store_memory_bytes: '100k' });
    for (let i = 0; i < 10; i++) {
      const f = tflow({ resp: true });
      f.response!.rawContent = Buffer.alloc(30_000);
      await live(tctx, f, ['response']);
    }
    await vi.waitFor(() => expect(tctx.kernel.flows.bytes).toBeLessThanOrEqual(100 * 1024));
    expect(tctx.kernel.flows.size).toBe(3);
  });
});

describe('store: backpressure', () => {
  it('makes the hook wait when the writer is MAX_WAITING flows behind, until it caught up', async () => {
    const dir = tmp();
    const db = StoreDatabase.open(join(dir, 'flows.db'));
    const thread = await WriterThread.start(join(dir, 'flows.db'));
    const writer = new StoreWriter(db, thread, 0, () => undefined);
    const flows = Array.from({ length: MAX_WAITING }, () => tflow({ resp: true }));
    const waits = flows.map((f) => writer.mark(f));
    expect(waits.slice(0, -1).every((w) => w === undefined)).toBe(true);
    const last = waits.at(-1);
    expect(last).toBeInstanceOf(Promise);
    await last;
    expect(writer.stats.throttled).toBe(1);
    await writer.close(true);
    await thread.stop();
    expect(db.db.prepare('SELECT count(*) FROM flows').pluck().get()).toBe(MAX_WAITING);
    db.close();
  });
});

describe('store: export', () => {
  it('copies the stored records of a filtered selection to .mitm, byte for byte', async () => {
    const dir = tmp();
    const tctx = await start({ store: join(dir, 'flows.db') });
    const flows: Flow[] = [tflow({ resp: true }), tflow({ resp: true }), ttcpflow()];
    (flows[1] as HTTPFlow).response!.statusCode = 404;
    for (const f of flows) {
      tctx.kernel.flows.add(f);
      await tctx.trigger('update', [f]);
    }
    expect(await tctx.call('store.export', '@all', join(dir, 'all.mitm'))).toBe(3);
    expect(readFileSync(join(dir, 'all.mitm'))).toEqual(Buffer.concat(flows.map((f) => encodeFlow(f))));
    expect(await tctx.call('store.export', '~c 404', join(dir, 'nf.mitm'))).toBe(1);
    expect(readFileSync(join(dir, 'nf.mitm'))).toEqual(encodeFlow(flows[1]!));
    // HAR holds HTTP flows only: the TCP flow is left out.
    expect(await tctx.call('store.export', '@all', join(dir, 'f.har'))).toBe(2);
    const har = JSON.parse(readFileSync(join(dir, 'f.har'), 'utf8')) as {
      log: { entries: Array<{ response: { status: number } }> };
    };
    expect(har.log.entries.map((e) => e.response.status)).toEqual([200, 404]);
    await expect(tctx.call('store.export', '~x', join(dir, 'x.mitm'))).rejects.toThrow(/store.export: .*~x/);
  });

  it('says when no store is open', async () => {
    const tctx = await start({});
    await expect(tctx.call('store.export', '@all', join(tmp(), 'x.mitm'))).rejects.toThrow(
      /no store is open \(off \(option store is not set\)\)/,
    );
  });
});

describe('store: a database it cannot use turns the store off, and says so', () => {
  it.each([
    [
      'not a database',
      (p: string) => writeFileSync(p, 'hello, this is text and not SQLite at all '.repeat(200)),
      /is not a usable SQLite database/,
    ],
    [
      'damaged',
      (p: string) => writeFileSync(p, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 0xff)])),
      /is not a usable SQLite database/,
    ],
    [
      "another application's database",
      (p: string) => {
        const db = new (loadSqlite())(p);
        db.exec('CREATE TABLE t (x)');
        db.close();
      },
      /is a SQLite database but not a mitmts store/,
    ],
    [
      'under a file, not a directory',
      (p: string) => writeFileSync(join(p, '..', '..'), 'a file'),
      /Cannot open .*Check that the directory exists and is writable/,
    ],
  ])('%s', async (what, make, message) => {
    const path =
      what === 'under a file, not a directory' ? join(tmp(), 'file', 'sub', 'flows.db') : join(tmp(), 'flows.db');
    make(path);
    const tctx = await start({ store: path });
    expect(tctx.hasLog(message, 'error')).toBe(true);
    expect(tctx.hasLog('The store is off; the proxy keeps running without it.', 'error')).toBe(true);
    expect(await tctx.call('store.status')).toMatch(/^off: /);
    expect(tctx.kernel.flows.index.name).toBe('memory');
    // Flows still go through.
    await live(tctx, tflow({ resp: true }), ['request', 'response']);
    expect(tctx.kernel.get('store-recorder')).toBeUndefined();
  });

  it('a database another process holds locked', async () => {
    const path = join(tmp(), 'flows.db');
    StoreDatabase.open(path).close();
    const other = new (loadSqlite())(path);
    other.exec('BEGIN EXCLUSIVE');
    try {
      const tctx = await start({ store: path });
      expect(tctx.hasLog(/is locked by another process/, 'error')).toBe(true);
      expect(await tctx.call('store.status')).toMatch(/^off: .*locked/);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('a database from a newer mitmts', async () => {
    const path = join(tmp(), 'flows.db');
    StoreDatabase.open(path).close();
    const db = new (loadSqlite())(path);
    db.pragma('user_version = 99');
    db.close();
    const tctx = await start({ store: path });
    expect(tctx.hasLog(/written by a newer mitmts \(store layout 99/, 'error')).toBe(true);
  });
});

describe('store: options', () => {
  it('rejects bad sizes and negative numbers, naming the option', async () => {
    const tctx = await start({});
    expect(() => tctx.configure({ store_body_threshold: 'big' })).toThrow(OptionsError);
    expect(() => tctx.configure({ store_memory_bytes: '1x' })).toThrow(/store_memory_bytes/);
    expect(() => tctx.configure({ store_inflight_ms: -1 })).toThrow(/store_inflight_ms must be 0 or more/);
  });

  it('does nothing while store is unset: no database, no recorder', async () => {
    const dir = tmp();
    const tctx = await start({});
    await live(tctx, tflow({ resp: true }), ['request', 'response']);
    expect(tctx.kernel.get('store-recorder')).toBeUndefined();
    expect(tctx.kernel.flows.index.name).toBe('memory');
    expect(existsSync(join(dir, 'flows.db'))).toBe(false);
  });
});
