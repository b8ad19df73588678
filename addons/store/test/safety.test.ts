// Safety with real processes and a real file system: kill -9 under load, and a full disk.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy } from '@mitmts/sdk';
import { Store } from '@mitmts/addon-store';
import { SqliteFlowIndex, StoreDatabase } from '@mitmts/addon-store/engine';
import { get, mitmts, origin } from './helpers.js';

let up: Awaited<ReturnType<typeof origin>>;
beforeAll(async () => {
  up = await origin();
});
afterAll(() => up.close());

describe('kill -9 while recording', () => {
  it('the database opens afterwards and at most the last batch is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mitmts-store-kill-'));
    const db = join(dir, 'flows.db');
    const proxy = await mitmts([
      '--set',
      'flow_detail=0',
      '--set',
      `store=${db}`,
      '--set',
      `confdir=${join(dir, 'conf')}`,
    ]);
    const connections = 16;
    const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    let completed = 0;
    let stop = false;
    const t0 = performance.now();
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        try {
          await get(proxy.port, `http://127.0.0.1:${up.port}/status/${i % 10 === 0 ? 404 : 200}?w=${w}&i=${i}`, agent);
          if (!stop) completed++;
        } catch {
          return; // the proxy is gone
        }
      }
    };
    const workers = Array.from({ length: connections }, (_, w) => worker(w));
    // Run until 3,000 responses (at >= 1,000/s on a quiet machine) or 6 s, whichever is first.
    while (completed < 3000 && performance.now() - t0 < 6000) await new Promise((r) => setTimeout(r, 20));
    const rate = completed / ((performance.now() - t0) / 1000);
    const exited = new Promise((r) => proxy.child.once('exit', r));
    proxy.child.kill('SIGKILL');
    stop = true;
    const seen = completed;
    await exited;
    await Promise.all(workers);
    agent.destroy();

    const store = StoreDatabase.open(db);
    try {
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const done = store.db.prepare('SELECT count(*) FROM flows WHERE has_response = 1').pluck().get() as number;
      // Not committed at the kill: the last turn's flows (at most one response per connection) and
      // the group-commit batch in the writer thread with the flows gathering behind it, i.e. what
      // completed during one commit (bounded here by a quarter second of the measured rate).
      const uncommitted = connections + Math.ceil(rate * 0.25);
      expect(seen - done, `${seen} responses received (${rate.toFixed(0)}/s), ${done} stored`).toBeLessThanOrEqual(
        uncommitted,
      );
      expect(done).toBeLessThanOrEqual(seen + connections);
      // Every stored row's record is in the records file (written and flushed before the row committed).
      let read = 0;
      for await (const f of new SqliteFlowIndex(store).flows()) if (f.type === 'http') read++;
      expect(read).toBe(store.db.prepare('SELECT count(*) FROM flows').pluck().get());
      expect(seen).toBeGreaterThan(500);
      console.info(
        `store kill -9: ${seen} responses received at ${rate.toFixed(0)}/s, ${done} complete flows stored (${seen - done} missing)`,
      );
    } finally {
      store.close();
    }
  });
});

/** A 2 MiB tmpfs, if this machine lets us mount one (root in a container that allows it). */
function smallDisk(): { dir: string; release: () => void } | string {
  const dir = mkdtempSync(join(tmpdir(), 'mitmts-store-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return `cannot mount a small tmpfs here (${(err as Error).message.split('\n')[0]})`;
  }
  return {
    dir,
    release: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const disk = smallDisk();
if (typeof disk === 'string') console.warn(`store: the full-disk test is skipped: ${disk}`);

describe('a full disk', () => {
  it.skipIf(typeof disk === 'string')(
    'is reported with the count of lost flow writes, and the proxy keeps serving',
    async () => {
      const { dir, release } = disk as Exclude<typeof disk, string>;
      const proxy = await createProxy({
        addons: [Store],
        options: { store: join(dir, 'flows.db'), store_body_threshold: '1m' },
      });
      try {
        // Distinct 64 KiB bodies that do not compress: 2 MiB fill up after ~30 flows.
        for (let i = 0; i < 60; i++)
          expect(await get(proxy.port, `http://127.0.0.1:${up.port}/bytes/65536?i=${i}`)).toBe(200);
        await new Promise((r) => setImmediate(r));
        const errors = proxy.logs.filter((e) => e.level === 'error').map((e) => e.message);
        expect(
          errors.some((m) => /the disk is full/.test(m) && /flow writes lost/.test(m)),
          errors.join('\n'),
        ).toBe(true);
        const status = (await proxy.kernel.commands.call('store.status')) as string;
        expect(status).toMatch(/^recording in .*, [1-9]\d* lost/);
        expect(await get(proxy.port, `http://127.0.0.1:${up.port}/status/201`)).toBe(201);
        await proxy.close();
        // every row that committed points at a whole record: the flows written before the disk filled all read back
        const store = StoreDatabase.open(join(dir, 'flows.db'));
        try {
          let read = 0;
          for await (const f of new SqliteFlowIndex(store).flows()) if (f.type === 'http') read++;
          expect(read).toBe(store.db.prepare('SELECT count(*) FROM flows').pluck().get());
          expect(read).toBeGreaterThan(0);
        } finally {
          store.close();
        }
      } finally {
        await proxy.close();
        release();
      }
    },
  );
});
