import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileWatcher } from '../src/watch.js';
import { put, tempDir } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const watchers: FileWatcher[] = [];
afterEach(() => watchers.splice(0).forEach((w) => w.close()));

function watcher(debounce = 20): { w: FileWatcher; calls: () => number } {
  let n = 0;
  const w = new FileWatcher(() => n++, debounce);
  watchers.push(w);
  return { w, calls: () => n };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('FileWatcher', () => {
  it('reports a burst of writes once', async () => {
    const dir = tempDir();
    const a = put(dir, 'a.ts', '1');
    const { w, calls } = watcher(50);
    w.set([a]);
    for (let i = 0; i < 5; i++) writeFileSync(a, String(i));
    await until(() => calls() === 1);
    await sleep(120);
    expect(calls()).toBe(1);
  });

  it('ignores other files in the same directory, follows set() and stops on close', async () => {
    const dir = tempDir();
    const a = put(dir, 'a.ts', '1');
    const b = put(dir, 'sub/b.ts', '1');
    const { w, calls } = watcher();
    w.set([a]);
    writeFileSync(join(dir, 'other.ts'), 'x');
    await sleep(100);
    expect(calls()).toBe(0);
    w.set([b]);
    expect(w.files()).toEqual([b]);
    writeFileSync(a, '2');
    await sleep(100);
    expect(calls()).toBe(0);
    writeFileSync(b, '2');
    await until(() => calls() === 1);
    w.close();
    writeFileSync(b, '3');
    await sleep(100);
    expect(calls()).toBe(1);
  });
});
