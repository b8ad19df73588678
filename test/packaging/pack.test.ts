import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../templates/run.js';
import { offlineEnv, packWorkspaces, run, writeOfflineProject, type Packed } from './offline.js';

/**
 * The release path, proven offline: every publishable workspace is packed, the tarballs are
 * installed into an empty project outside the repository (no network, no access to the
 * repository's node_modules), and there the CLI, a `-s` script, the three `mitmts new`
 * templates with their own `npm test`, and `mitmts build` all work. One install serves every
 * case; the cases run in order and share it.
 */

const timings: string[] = [];
async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    timings.push(`${step} ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  }
}

function expectOk(r: { code: number | null; out: string }): void {
  expect(r.code, r.out).toBe(0);
}

/** A long-running mitmts (or built) proxy; resolves with its port once it listens. */
function startProxy(
  args: readonly string[],
  cwd: string,
): { child: ChildProcess; port: Promise<number>; output: () => string } {
  const child = spawn(process.execPath, args, { cwd, env: offlineEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d;
      const m = /listening at \S*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`the proxy exited with ${code}:\n${out}`)));
  });
  return { child, port, output: () => out };
}

/** GET `url` through the proxy at `port` (absolute-form, as a client configured with a proxy sends it). */
function viaProxy(
  port: number,
  url: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: url, headers: { host: new URL(url).host }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const SCRIPT = `import { addon, hook, type HTTPFlow } from '@mitmts/sdk';

@addon({ name: 'stamp' })
export default class Stamp {
  @hook('response') response(flow: HTTPFlow) { flow.response!.headers.set('x-stamp', 'mitmts'); }
}
`;

describe('the packed packages, installed offline into an empty project', () => {
  const dir = tempDir('mitmts-pack-');
  const app = join(dir, 'app');
  let packed: Packed[] = [];
  let origin: http.Server;
  let originUrl = '';
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    origin = http.createServer((req, res) => res.end(`origin ${req.url}`));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;
    mkdirSync(app);
    packed = await timed('npm pack', async () => packWorkspaces(join(dir, 'tarballs')));
    writeOfflineProject(app, packed, ['typescript', 'vitest', '@types/node']);
    // No install scripts: without a network, better-sqlite3 (the store) would compile SQLite from
    // source, minutes on a loaded machine. The native modules load on first use and explain
    // themselves when missing (the store, zstd bodies); nothing tested here needs them.
    const install = await timed('npm ci --offline', () => run('npm', ['ci', '--ignore-scripts'], app));
    expectOk(install);
  }, 600_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await new Promise((r) => origin.close(r));
    console.log(`offline pack-and-install: ${timings.join(', ')}`);
  });

  it('packs each package with its LICENSE, README and built files, and nothing from the repository', () => {
    expect(packed.map((p) => p.name)).toEqual(
      expect.arrayContaining(['mitmts', '@mitmts/core', '@mitmts/sdk', '@mitmts/addon-script']),
    );
    for (const p of packed) {
      expect(p.files, p.name).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
      expect(
        p.files.filter((f) => /(^|\/)(test|src)\/|\.tsbuildinfo$|\.log$/.test(f) && !f.startsWith('templates/')),
        p.name,
      ).toEqual([]);
    }
    const cli = packed.find((p) => p.name === 'mitmts')!;
    expect(cli.files).toEqual(
      expect.arrayContaining(['bin/mitmts.js', 'dist/mitmts.mjs', 'templates/script/__name__.ts']),
    );
  });

  it('runs npx mitmts --version', { timeout: 60_000 }, async () => {
    const r = await timed('npx mitmts --version', () => run('npx', ['mitmts', '--version'], app));
    expectOk(r);
    expect(r.out).toMatch(/^Mitmts: 0\.1\.0\n/);
  });

  it('proxies a request through a -s TypeScript script', { timeout: 60_000 }, async () => {
    writeFileSync(join(app, 'stamp.ts'), SCRIPT);
    await timed('mitmts -s stamp.ts + a request', async () => {
      const p = startProxy(
        [
          join(app, 'node_modules/.bin/mitmts'),
          '-s',
          'stamp.ts',
          '--listen-host',
          '127.0.0.1',
          '-p',
          '0',
          '--set',
          `confdir=${join(dir, 'conf')}`,
        ],
        app,
      );
      children.push(p.child);
      const r = await viaProxy(await p.port, `${originUrl}/hello`);
      expect(r.body).toBe('origin /hello');
      expect(r.headers['x-stamp'], p.output()).toBe('mitmts');
      p.child.kill('SIGTERM');
    });
  });

  it('scaffolds a script, an addon and a build whose own npm test passes', { timeout: 600_000 }, async () => {
    expectOk(await run('npx', ['mitmts', 'new', 'script', 'tag-it', '--dir', 'tag-it'], app));
    expectOk(await run('npx', ['mitmts', 'new', 'addon', 'stamp'], app));
    expectOk(await run('npx', ['mitmts', 'new', 'build', 'edge'], app));
    // The generated projects become workspaces of the project: one more offline install checks
    // that what their package.json files ask for resolves to the packed versions.
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ ...pkg, workspaces: ['tag-it', 'stamp', 'edge'] }, null, 2),
    );
    expectOk(await timed('npm install (the generated projects)', () => run('npm', ['install'], app)));
    // The three suites are independent: they run side by side (each waits on its proxies and
    // child processes part of the time).
    const projects = [
      ['tag-it', 2],
      ['stamp', 3],
      ['edge', 2],
    ] as const;
    const results = await timed('npm test (the three projects, side by side)', () =>
      Promise.all(projects.map(([project]) => run('npm', ['test'], join(app, project)))),
    );
    projects.forEach(([, tests], i) => {
      expect(results[i]!.out, results[i]!.out).toMatch(new RegExp(`Tests\\s+${tests} passed`));
      expectOk(results[i]!);
    });
  });

  it(
    'builds one file with mitmts build that serves requests from an empty directory',
    { timeout: 120_000 },
    async () => {
      const edge = join(app, 'edge');
      expectOk(await timed('mitmts build', () => run('npm', ['run', 'build'], edge)));
      const lonely = tempDir('mitmts-pack-run-');
      copyFileSync(join(edge, 'dist/edge.mjs'), join(lonely, 'edge.mjs'));
      const p = startProxy(
        [join(lonely, 'edge.mjs'), '--listen-host', '127.0.0.1', '-p', '0', '--set', `confdir=${join(lonely, 'conf')}`],
        lonely,
      );
      children.push(p.child);
      const port = await p.port;
      const own = await viaProxy(port, 'http://edge.proxy/');
      expect(own.body).toBe('hello from edge');
      const up = await viaProxy(port, `${originUrl}/x`);
      expect(up.body).toBe('origin /x');
      expect(up.headers['x-edge']).toBe('hello from edge');
      p.child.kill('SIGTERM');
    },
  );
});
