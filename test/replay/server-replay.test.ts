// The done-when scenario of server replay: record a site on loopback with `mitmts -w`, stop the
// site, then `mitmts -S` serves it to curl and to headless Chromium from the recording.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowReader, type HTTPFlow } from '@mitmts/sdk';
import { browserProfile, dumpDom, ensureChromium } from '../helpers/browser.js';
import { startMitmts } from '../helpers/cli.js';
import { curl, httpServer, type Upstream } from '../helpers/servers.js';

const PAGE =
  '<!doctype html><html><head><title>site</title><script src="/app.js"></script></head><body><p id="origin">from the origin</p></body></html>';
const APP_JS =
  'document.addEventListener("DOMContentLoaded", () => document.body.insertAdjacentHTML("beforeend", "<p id=\\"js\\">script ran</p>"));';

const tools = ensureChromium();
const missing = 'missing' in tools ? tools.missing : null;
if (missing) console.warn(`server replay: the Chromium part is skipped: ${missing}`);

describe('mitmts -w, then mitmts -S with the site stopped', () => {
  let site: Upstream;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'mitmts-replay-'));
  const rec = join(dir, 'rec.mitm');
  /** The same recording in a store database. */
  const db = join(dir, 'rec.db');
  const recorded: Record<string, string> = {};

  beforeAll(async () => {
    let hits = 0;
    site = await httpServer((req, res) => {
      hits++;
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        if (req.url === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(APP_JS);
        else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
        else if (req.url === '/api?x=1')
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hits }));
        else if (req.url === '/form')
          res.writeHead(201, { 'content-type': 'text/plain' }).end(`posted ${Buffer.concat(chunks)} as hit ${hits}`);
        else res.writeHead(404).end('no such page');
      });
    });
    url = `http://localhost:${site.port}`;

    const recorder = await startMitmts(['--flow-detail', '0', '-w', rec, '--set', `store=${db}`]);
    for (const [key, args] of [
      ['page', [`${url}/`]],
      ['api', [`${url}/api?x=1`]],
      ['form', ['-d', 'a=1', `${url}/form`]],
    ] as const) {
      const r = await curl(['-x', recorder.url, ...args]);
      expect(r.code, r.stderr).toBe(0);
      recorded[key] = r.stdout;
    }
    if (!missing) {
      const { dom, stderr } = await dumpDom(
        (tools as { chromium: string }).chromium,
        browserProfile((tools as { certutil: string }).certutil),
        recorder.url,
        `${url}/`,
      );
      expect(dom, stderr).toContain('<p id="js">script ran</p>');
    }
    expect(await recorder.stop()).toBe(0);
    await site.close();
  }, 120_000);

  afterAll(() => site?.close());

  it('recorded the site (the site is down now)', async () => {
    const flows = [...new FlowReader(rec)] as HTTPFlow[];
    expect(flows.map((f) => f.request.path)).toEqual(expect.arrayContaining(['/', '/api?x=1', '/form']));
    expect((await curl([`${url}/`])).code).not.toBe(0);
  });

  it('serves it to curl, byte for byte, with server_replay_extra for what was never recorded', async () => {
    const replay = await startMitmts([
      '--flow-detail',
      '0',
      '-S',
      rec,
      '--set',
      'server_replay_reuse',
      '--set',
      'server_replay_extra=404',
    ]);
    try {
      expect((await curl(['-x', replay.url, `${url}/`])).stdout).toBe(recorded['page']);
      expect((await curl(['-x', replay.url, `${url}/api?x=1`])).stdout).toBe(recorded['api']);
      expect((await curl(['-x', replay.url, '-d', 'a=1', `${url}/form`])).stdout).toBe(recorded['form']);
      // Another body is another request: not recorded, answered with the configured status.
      const other = await curl(['-x', replay.url, '-d', 'a=2', '-w', '%{http_code}', `${url}/form`]);
      expect(other.stdout).toBe('404');
    } finally {
      await replay.stop();
    }
  });

  it('serves it from a store database too (-S flows.db, read asynchronously)', async () => {
    const replay = await startMitmts([
      '--flow-detail',
      '0',
      '-S',
      db,
      '--set',
      'server_replay_reuse',
      '--set',
      'server_replay_extra=404',
    ]);
    try {
      expect((await curl(['-x', replay.url, `${url}/`])).stdout).toBe(recorded['page']);
      expect((await curl(['-x', replay.url, '-d', 'a=1', `${url}/form`])).stdout).toBe(recorded['form']);
      expect((await curl(['-x', replay.url, '-w', '%{http_code}', `${url}/never`])).stdout).toBe('404');
    } finally {
      await replay.stop();
    }
  });

  it.skipIf(missing !== null)(
    'serves it to headless Chromium (page and script)',
    async () => {
      const replay = await startMitmts(['--flow-detail', '0', '-S', rec, '--set', 'server_replay_reuse']);
      try {
        const { dom, stderr } = await dumpDom(
          (tools as { chromium: string }).chromium,
          browserProfile((tools as { certutil: string }).certutil),
          replay.url,
          `${url}/`,
        );
        expect(dom, stderr).toContain('<p id="origin">from the origin</p>');
        expect(dom).toContain('<p id="js">script ran</p>');
      } finally {
        await replay.stop();
      }
    },
    90_000,
  );

  it('without reuse, each recorded response is served once and mitmts exits when all are served', async () => {
    // Chromium's own background requests failed (no network): only answered flows are replayed.
    const answered = ([...new FlowReader(rec)] as HTTPFlow[]).filter((f) => f.response);
    expect(answered.map((f) => f.request.path)).toEqual(
      expect.arrayContaining(['/', '/api?x=1', '/form', ...(missing ? [] : ['/app.js'])]),
    );
    const replay = await startMitmts(['--flow-detail', '0', '-S', rec]);
    for (const f of answered) {
      expect(replay.child.exitCode).toBeNull();
      const args = f.request.method === 'POST' ? ['-d', f.request.text ?? ''] : [];
      const r = await curl([
        '-x',
        replay.url,
        '-w',
        '%{http_code}',
        '-o',
        '/dev/null',
        ...args,
        `${url}${f.request.path}`,
      ]);
      expect(r.stdout).toBe(String(f.response!.statusCode));
    }
    expect(await replay.exited).toBe(0);
  });
});
