// The exported commands, run: each repeats a request that went through the proxy, and the server
// must receive the same method, target, headers and body bytes. curl runs under sh (dash) and
// bash, HTTPie and Python's requests under Debian's /usr/bin/python3, fetch under Node.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type EmbeddedProxy, type HTTPFlow } from '@mitmts/sdk';
import { startOrigin, requestVia, type Origin } from '@mitmts/sdk/testing';
import { canInstall, installDebianPackages, which } from '../../../scripts/debian.mjs';
import { Export } from '../src/index.js';

interface Seen {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

let server: Origin;
let base: string;
let proxy: EmbeddedProxy;
const seen: Seen[] = [];

beforeAll(async () => {
  server = await startOrigin((req, res) => {
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
    seen.push({ method: req.method, url: req.url, headers, body: req.body });
    res.end('ok');
  });
  base = server.url;
  proxy = await createProxy({ addons: [Export] });
});
afterAll(async () => {
  await proxy.close();
  await server.close();
});

/** Send a request through the proxy; resolve with its flow. */
async function through(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<HTTPFlow> {
  await requestVia(proxy, `${base}${path}`, { method, headers, ...(body ? { body } : {}) });
  const f = proxy.flows.all().findLast((x) => (x as HTTPFlow).request?.path === path) as HTTPFlow | undefined;
  if (!f) throw new Error(`no flow for ${path}`);
  return f;
}

function run(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 20_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: stderr + stdout }),
    );
  });
}

const script = (name: string, text: string): string => {
  const p = join(mkdtempSync(join(tmpdir(), 'mitmts-export-')), name);
  writeFileSync(p, text);
  return p;
};

/** Headers every client decides for itself (framing, connection handling, compression it can decode). */
const CLIENT_OWN = new Set(['content-length', 'connection', 'accept-encoding', 'host', 'transfer-encoding']);

const ALL_BYTES = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
const CASES: Array<[string, string, string, Record<string, string>, Buffer | undefined]> = [
  [
    'a GET with a query and odd header values',
    'GET',
    "/get?a=1&b=it's%20$HOME",
    { 'x-quote': `it's "quoted" $HOME \`id\``, 'user-agent': 'original/1.0', accept: '*/*' },
    undefined,
  ],
  [
    'a JSON POST with quotes, newlines and Unicode',
    'POST',
    '/json',
    { 'content-type': 'application/json', 'user-agent': 'original/1.0' },
    Buffer.from('{"text": "it\'s $HOME `id`\\n\\"x\\"",\n "ü": "✓"}\n', 'utf8'),
  ],
  [
    'a binary PUT with every byte value',
    'PUT',
    '/bin',
    { 'content-type': 'application/octet-stream', 'user-agent': 'original/1.0' },
    ALL_BYTES,
  ],
  [
    'a PATCH whose body has a carriage return and a %',
    'PATCH',
    '/cr',
    { 'content-type': 'text/plain', 'user-agent': 'original/1.0' },
    Buffer.from('100% done\r\nnext line\r\n'),
  ],
  [
    'a large text body (past one argument)',
    'POST',
    '/large',
    { 'content-type': 'text/plain', 'user-agent': 'original/1.0' },
    Buffer.from('x'.repeat(200_000) + "'end'"),
  ],
];

let httpie: string | null = which('http');
if (!httpie && canInstall()) {
  const failed = installDebianPackages(['httpie']);
  if (failed) throw new Error(`Cannot run the HTTPie export test: ${failed}`);
  httpie = which('http');
}
if (!httpie)
  console.warn(
    'export: HTTPie runs skipped: httpie is not installed and this user cannot install it (needs root and apt-get)',
  );

const RUNNERS: Array<[string, string, (cmd: string) => Promise<{ code: number; stderr: string }>]> = [
  // As a user runs a command saved with export.file: from a file (a command line of its own is
  // limited to 128 KiB, a script is not).
  ['curl under sh', 'curl', (cmd) => run('sh', [script('replay.sh', cmd)])],
  ['fetch under Node', 'fetch', (cmd) => run(process.execPath, [script('fetch.mjs', `await ${cmd}`)])],
  ['python-requests', 'python-requests', (cmd) => run('/usr/bin/python3', [script('replay.py', cmd)])],
  ...(httpie
    ? [
        ['HTTPie under sh', 'httpie', (cmd: string) => run('sh', [script('replay.sh', cmd)])] as [
          string,
          string,
          (cmd: string) => Promise<{ code: number; stderr: string }>,
        ],
      ]
    : []),
];

describe.each(RUNNERS)('export %s, run against the server', (_name, format, runner) => {
  it.each(CASES)('repeats %s', async (_what, method, path, headers, body) => {
    const flow = await through(method, path, headers, body);
    const original = seen.at(-1)!;
    const count = seen.length;
    const cmd = (await proxy.command('export', format, flow)) as string;
    const { code, stderr } = await runner(cmd);
    expect(code, `${cmd.slice(0, 2000)}\n${stderr}`).toBe(0);
    expect(seen.length, `the server saw no request from ${cmd.slice(0, 500)}\n${stderr}`).toBe(count + 1);
    const again = seen.at(-1)!;
    // fetch() normalizes the URL as browsers do (a ' in the query becomes %27).
    const url = (u: string): string => (format === 'fetch' ? u.replace(/'/g, '%27') : u);
    expect([again.method, again.url]).toEqual([original.method, url(original.url)]);
    expect(again.body.equals(original.body), `body of ${cmd.slice(0, 300)}`).toBe(true);
    const own = (h: Array<[string, string]>): string[] =>
      h
        .filter(([k]) => !CLIENT_OWN.has(k))
        .map(([k, v]) => `${k}: ${v}`)
        .sort();
    // Every original header arrives; a client may add its own defaults (curl: only Accept and User-Agent).
    expect(own(again.headers)).toEqual(expect.arrayContaining(own(original.headers)));
    if (format === 'curl') {
      const added = own(again.headers).filter((h) => !own(original.headers).includes(h));
      expect(added.map((h) => h.split(':')[0]).filter((n) => n !== 'accept' && n !== 'user-agent')).toEqual([]);
    }
  });

  it('sends a compressed request body decoded', async () => {
    const plain = Buffer.from('{"compressed": true}');
    const flow = await through(
      'POST',
      '/gz',
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      gzipSync(plain),
    );
    const { code, stderr } = await runner((await proxy.command('export', format, flow)) as string);
    expect(code, stderr).toBe(0);
    const again = seen.at(-1)!;
    expect(again.body.equals(plain)).toBe(true);
    expect(again.headers.find(([k]) => k === 'content-encoding')).toBeUndefined();
  });
});

it('export curl runs under bash too (binary body, every byte value)', async () => {
  const flow = await through('PUT', '/bash', { 'content-type': 'application/octet-stream' }, ALL_BYTES);
  const { code, stderr } = await run('bash', [
    script('replay.sh', (await proxy.command('export', 'curl', flow)) as string),
  ]);
  expect(code, stderr).toBe(0);
  expect(seen.at(-1)!.body.equals(ALL_BYTES)).toBe(true);
});
