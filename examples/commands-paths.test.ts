import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedProxy } from '@mitmts/sdk';
import { proxyWith, send, upstream, type Upstream } from './support.js';

let up: Upstream;
let proxy: EmbeddedProxy;
beforeAll(async () => {
  up = await upstream();
  proxy = await proxyWith('commands-paths.ts');
});
afterAll(async () => {
  await proxy.close();
  await up.close();
});

describe('commands-paths', () => {
  it('writes a histogram of hosts to the given path', async () => {
    await send(proxy, `${up.url}/1`);
    await send(proxy, `${up.url}/2`);
    await send(proxy, `http://localhost:${up.port}/3`);
    const file = join(mkdtempSync(join(tmpdir(), 'histogram-')), 'hosts.txt');
    await proxy.kernel.commands.execute(`myaddon.histogram @all ${file}`);
    expect(readFileSync(file, 'utf8')).toBe('1: localhost\n2: 127.0.0.1\n');
  });
});
