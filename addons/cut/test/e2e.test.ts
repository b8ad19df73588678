// cut on the wire: flows made by curl through a running proxy, cut by commands as the web UI calls them.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy } from '@mitmts/sdk';
import { startOrigin, type Origin } from '@mitmts/sdk/testing';
import { Cut } from '../src/index.js';

let server: Origin;
let base: string;
let proxy: EmbeddedProxy;

beforeAll(async () => {
  server = await startOrigin((req, res) => {
    res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
    res.end(`body of ${req.url}`);
  });
  base = server.url;
  proxy = await createProxy({ addons: [Cut] });
});
afterAll(async () => {
  await proxy.close();
  await server.close();
});

const curl = (...args: string[]): Promise<void> =>
  new Promise((resolve, reject) =>
    execFile('curl', ['-sS', '-x', proxy.url, ...args], (err) => (err ? reject(err) : resolve())),
  );

describe('cut on the wire', () => {
  it('cuts methods, URLs, headers, status codes and bodies of curl requests', async () => {
    await curl('-A', 'cut-test/1', `${base}/one`);
    await curl('-A', 'cut-test/1', '-d', 'a=1', `${base}/missing`);
    const rows = await proxy.command(
      'cut',
      '@all',
      'request.method,request.pretty_url,request.header[user-agent],response.status_code,response.content',
    );
    expect(rows).toEqual([
      ['GET', `${base}/one`, 'cut-test/1', '200', Buffer.from('body of /one')],
      ['POST', `${base}/missing`, 'cut-test/1', '404', Buffer.from('body of /missing')],
    ]);
    const file = join(mkdtempSync(join(tmpdir(), 'mitmts-cut-')), 'cut.json');
    await proxy.command('cut.save', '~c 404', 'request.content,response.status_code', file);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([
      { 'request.content': 'a=1', 'response.status_code': '404' },
    ]);
  });
});
