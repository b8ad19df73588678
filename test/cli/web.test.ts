// `mitmts web` through the real command line: the spawned binary starts the proxy with the web
// UI, prints the URL with its token and opens it with the desktop's opener (a stand-in
// `xdg-open` on PATH that fetches the page with curl, as a browser would); a curl request
// through the proxy shows up in GET /flows; `mitmts web -r FILE` keeps serving the flows it read.
import { chmodSync, existsSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { listeningPort, mitmts, tempDir, type Child } from '../helpers/process.js';
import { curl, httpServer, type Upstream } from '../helpers/servers.js';
import { CURL, ensureTools } from '../helpers/tools.js';

const missingCurl = ensureTools(CURL);
if (missingCurl) console.warn(`mitmts web test skipped: ${missingCurl}`);

let origin: Upstream;
beforeAll(async () => {
  origin = await httpServer((req, res) => res.end(`origin saw ${req.url}`));
});
afterAll(() => origin?.close());

/** Resolves once `file` exists in `dir` (written by a rename, so it is complete). */
function appears(dir: string, file: string): Promise<void> {
  return new Promise((resolve) => {
    const w = watch(dir, () => {
      if (!existsSync(join(dir, file))) return;
      w.close();
      resolve();
    });
    if (existsSync(join(dir, file))) {
      w.close();
      resolve();
    }
  });
}

/** The web UI's URL (token included) that `mitmts web` printed. */
async function webUrl(child: Child): Promise<URL> {
  return new URL((await child.waitFor(/Web server listening at (\S+)/))[1]!);
}

async function flowPaths(url: URL): Promise<string[]> {
  const res = await fetch(new URL('/flows', url), {
    headers: { authorization: `Bearer ${url.searchParams.get('token')}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as Array<{ request: { path: string } }>).map((f) => f.request.path);
}

describe.skipIf(missingCurl !== null)('mitmts web', () => {
  it('is listed by --help, and has its own', async () => {
    const help = mitmts(['--help']);
    await help.exited;
    expect(help.out).toMatch(/^ {2}web +the proxy with the web UI \(like mitmweb\)/m);
    const own = mitmts(['web', '--help']);
    await own.exited;
    expect(own.out).toMatch(/^usage: mitmts web \[options\]/);
    expect(own.out).toMatch(/--web-port WEB_PORT/);
  });

  it(
    'starts the proxy and the UI, opens the URL with its token, shows proxied flows',
    { timeout: 60_000 },
    async () => {
      const home = tempDir('mitmts-web-cli-');
      const bin = tempDir('mitmts-web-bin-');
      // The desktop opener: fetch what it is given, as a browser would, and report the status.
      writeFileSync(
        join(bin, 'xdg-open'),
        `#!/bin/sh\ncurl -s -o "${home}/page.html" -w '%{http_code}' "$1" > "${home}/status.tmp"\nmv "${home}/status.tmp" "${home}/opened"\n`,
      );
      chmodSync(join(bin, 'xdg-open'), 0o755);
      const opened = appears(home, 'opened');
      const child = mitmts(['web', '--set', `confdir=${home}`, '-p', '0', '--web-port', '0'], {
        env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` },
      });
      try {
        const url = await webUrl(child);
        const port = await listeningPort(child);
        expect(url.searchParams.get('token')).toMatch(/^[0-9a-f]{32}$/);
        await opened;
        expect(readFileSync(join(home, 'opened'), 'utf8')).toBe('200');
        expect(readFileSync(join(home, 'page.html'), 'utf8')).toMatch(/<html/i);
        // No token: the login page; a wrong one: 403.
        expect((await fetch(new URL('/', url.origin))).status).toBe(401);
        expect((await fetch(new URL('/flows', url.origin), { headers: { authorization: 'Bearer nope' } })).status).toBe(
          403,
        );

        const r = await curl(['-x', `http://127.0.0.1:${port}`, `${origin.url}/hello/web`]);
        expect(r.stdout).toBe('origin saw /hello/web');
        expect(await flowPaths(url)).toEqual(['/hello/web']);
        // Flows go to the browser, not to the terminal (flow_detail 0).
        expect(child.out).not.toMatch(/hello\/web/);

        // Save them for the next test, as the page's download does.
        const dump = await fetch(new URL('/flows/dump', url.origin), {
          headers: { authorization: `Bearer ${url.searchParams.get('token')}` },
        });
        writeFileSync(join(dir(), 'saved.mitm'), Buffer.from(await dump.arrayBuffer()));
      } finally {
        await child.stop('SIGTERM');
      }
      expect(await child.exited).toEqual({ code: 0, signal: null });
    },
  );

  it(
    '-r FILE: serves the flows it read and keeps serving without keepserving (as mitmweb)',
    { timeout: 60_000 },
    async () => {
      const child = mitmts([
        'web',
        '--set',
        `confdir=${tempDir()}`,
        '-p',
        '0',
        '--web-port',
        '0',
        '--no-web-open-browser',
        '-r',
        join(dir(), 'saved.mitm'),
      ]);
      try {
        const url = await webUrl(child);
        const port = await listeningPort(child);
        // The file may still be being read: listen for flows, then look.
        const ws = new WebSocket(`ws://${url.host}/updates?token=${url.searchParams.get('token')}`);
        const added = new Promise<void>((resolve) =>
          ws.on('message', (m) => String(m).includes('/hello/web') && resolve()),
        );
        await new Promise((resolve) => ws.once('open', resolve));
        if ((await flowPaths(url)).length === 0) await added;
        ws.close();
        expect(await flowPaths(url)).toEqual(['/hello/web']);
        // Reading is over; the proxy still serves, and new flows join the ones read.
        expect((await curl(['-x', `http://127.0.0.1:${port}`, `${origin.url}/after/read`])).stdout).toBe(
          'origin saw /after/read',
        );
        expect(await flowPaths(url)).toEqual(['/hello/web', '/after/read']);
        expect(child.proc.exitCode).toBeNull();
      } finally {
        await child.stop('SIGTERM');
      }
    },
  );
});

let shared: string | null = null;
function dir(): string {
  shared ??= tempDir('mitmts-web-files-');
  return shared;
}
